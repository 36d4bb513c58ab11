#!/usr/bin/env python3
"""Streams of TCP segments for receive coalescing (GRO) tests, built with scapy (independent of
tunnelpmd's own builders), and an oracle that judges what tunnelpmd made of them.

  gro_streams.py make IN.pcap MANIFEST.json --kind vxlan --outer 4 [--inner 4] [--vlan]
        [--segments 20] [--mss 1448] --flow SCENARIO [--flow SCENARIO ...]
      One flow per --flow (inner source ports 40000, 40001, ...), their frames interleaved
      round-robin. A scenario is a '+'-joined list of knobs:
        bulk                 in-order full segments, PSH on the last (every flow does this
                             unless a knob changes it)
        reorder:K            segments K and K+1 swapped
        loss:K               segment K never sent
        retrans:K            segment K sent again after segment K+2
        pureack:K            a pure ACK (no payload) before segment K
        dupack:K             three identical pure ACKs before segment K
        flag:NAME:K          NAME (psh fin urg rst syn cwr ece) set on segment K (K may be 'last')
        nopsh                no PSH on the last segment
        ts:N                 the TCP timestamp changes every N segments (options differ)
        nots                 no TCP options at all
        ipid:inc|fixed|zero|outerzero|random  inner and outer IPv4 IDs (DF is always set):
                             incrementing, fixed, fixed at 0, inner incrementing and outer 0
                             (as Linux sends VXLAN), random (the default is inc)
        ttl:K                inner TTL changes from segment K on
        outerttl:K           outer TTL changes from segment K on
        bad:tcp|udp|ip|outerip|gre:K  that checksum of segment K is wrong
        zeroudp              outer UDP checksum zero on every segment
        short:K              segment K carries MSS/2 bytes
      The manifest lists every frame: flow, seq, payload length, flags, what is bad.

  gro_streams.py check IN.pcap MANIFEST.json OUT.pcap [--mode io|mac|csum] [--no-tshark]
      Per flow, the output frames (found by inner TCP source port) must equal the input
      frames in order: same sequence numbers and payload bytes (so the same segment
      boundaries), flags, ack, window, options, IP IDs, TTL/TOS/DF, tunnel headers; every
      checksum valid (summed here for every layer, and per tshark) except in frames that were
      bad on input; a frame that was bad on input leaves byte-for-byte unchanged (io; mac:
      but the MAC addresses; csum: every checksum fixed). Prints one line per failure and
      exits 1, or 'ok ...' and exits 0.
"""
import argparse
import json
import random
import struct
import subprocess
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, GRE, Raw, wrpcap, PcapReader, PcapWriter, conf

conf.verb = 0

KINDS = ["plain", "vxlan", "vxlan-gpe", "geneve", "gre", "nvgre", "ipip", "fou", "gue"]
PORTS = {"vxlan": 4789, "vxlan-gpe": 4790, "geneve": 6081, "fou4": 5555, "fou6": 5556, "gue": 6080}
UDP_KINDS = {4789: "vxlan", 4790: "vxlan-gpe", 6081: "geneve", 5555: "fou4", 5556: "fou6", 6080: "gue"}
FLAG_BITS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20, "ece": 0x40, "cwr": 0x80}
GENEVE_OPTION = bytes([0x01, 0x02, 0x80, 0x01, 0xDE, 0xAD, 0xBE, 0xEF])
MACS = ("02:00:00:00:00:01", "02:00:00:00:00:02")
INNER_MACS = ("02:00:00:00:10:01", "02:00:00:00:10:02")


# ---------------------------------------------------------------- building


def payload_bytes(flow, seq, length):
    """Bytes that depend on flow and sequence number, so a misplaced byte shows."""
    return bytes(((seq + i) * 131 + flow * 17 + ((seq + i) >> 8)) & 0xFF for i in range(length))


def parse_scenario(text):
    knobs = {"reorder": [], "loss": [], "retrans": [], "pureack": [], "dupack": [], "flag": [], "bad": [],
             "short": [], "ts": 0, "ipid": "inc", "ttl": None, "outerttl": None, "zeroudp": False,
             "nopsh": False, "nots": False}
    for part in text.split("+"):
        fields = part.split(":")
        name = fields[0]
        if name == "bulk":
            continue
        if name in ("reorder", "loss", "retrans", "pureack", "dupack", "short"):
            knobs[name].append(int(fields[1]))
        elif name == "flag":
            knobs["flag"].append((fields[1], fields[2]))
        elif name == "bad":
            knobs["bad"].append((fields[1], int(fields[2])))
        elif name == "ts":
            knobs["ts"] = int(fields[1])
        elif name == "ipid":
            knobs["ipid"] = fields[1]
        elif name in ("ttl", "outerttl"):
            knobs[name] = int(fields[1])
        elif name in ("zeroudp", "nopsh", "nots"):
            knobs[name] = True
        else:
            raise SystemExit(f"unknown scenario knob {part!r}")
    return knobs


def flow_segments(index, knobs, count, mss, rng):
    """The flow's frames in sending order, as dicts (before the headers are built)."""
    base_seq = 0x10000000 * (index % 15) + 1000 + index
    segments = []
    seq = base_seq
    for k in range(count):
        length = mss // 2 if k in knobs["short"] else mss
        flags = FLAG_BITS["ack"]
        if k == count - 1 and not knobs["nopsh"]:
            flags |= FLAG_BITS["psh"]
        for name, where in knobs["flag"]:
            if where == "last" and k == count - 1 or where != "last" and int(where) == k:
                flags |= FLAG_BITS[name]
        segments.append({"k": k, "seq": seq & 0xFFFFFFFF, "len": length, "flags": flags, "bad": None})
        seq += length
    for name, k in knobs["bad"]:
        segments[k]["bad"] = name
    order = list(segments)
    for k in knobs["loss"]:
        order = [s for s in order if s["k"] != k]
    for k in knobs["reorder"]:
        a = next(i for i, s in enumerate(order) if s["k"] == k)
        b = next(i for i, s in enumerate(order) if s["k"] == k + 1)
        order[a], order[b] = order[b], order[a]
    for k in knobs["retrans"]:
        original = next(s for s in order if s["k"] == k)
        after = next(i for i, s in enumerate(order) if s["k"] == min(k + 2, count - 1))
        order.insert(after + 1, dict(original, retransmission=True))
    for name in ("pureack", "dupack"):
        for k in knobs[name]:
            at = next(i for i, s in enumerate(order) if s["k"] == k)
            ack = {"k": -1, "seq": order[at]["seq"], "len": 0, "flags": FLAG_BITS["ack"], "bad": None, "pure": True}
            for _ in range(3 if name == "dupack" else 1):
                order.insert(at, dict(ack))
    # IDs, TTLs and timestamps follow the sending order, as a sender's would.
    inner_id = rng.randrange(1, 0xFFFF)
    outer_id = rng.randrange(1, 0xFFFF)
    for n, s in enumerate(order):
        if knobs["ipid"] == "inc":
            s["id"], s["outer_id"] = (inner_id + n) & 0xFFFF, (outer_id + n) & 0xFFFF
        elif knobs["ipid"] == "fixed":
            s["id"], s["outer_id"] = inner_id, outer_id
        elif knobs["ipid"] == "zero":
            s["id"], s["outer_id"] = 0, 0
        elif knobs["ipid"] == "outerzero":
            s["id"], s["outer_id"] = (inner_id + n) & 0xFFFF, 0
        else:
            s["id"], s["outer_id"] = rng.randrange(0, 0x10000), rng.randrange(0, 0x10000)
        s["df"] = True
        s["ttl"] = 64 if knobs["ttl"] is None or s["k"] < knobs["ttl"] else 63
        s["outer_ttl"] = 64 if knobs["outerttl"] is None or s["k"] < knobs["outerttl"] else 60
        s["tsval"] = None if knobs["nots"] else 1000 + (n // knobs["ts"] if knobs["ts"] else 0)
    return order


def inner_packet(flow, s, inner6, sport):
    tcp = TCP(sport=sport, dport=5201, seq=s["seq"], ack=0x55667788, flags=s["flags"], window=1024,
              urgptr=1 if s["flags"] & FLAG_BITS["urg"] else 0,
              options=[] if s["tsval"] is None else [("NOP", None), ("NOP", None), ("Timestamp", (s["tsval"], 4242))])
    data = Raw(payload_bytes(flow, s["seq"], s["len"])) if s["len"] else b""
    if inner6:
        ip = IPv6(src="fd00:10::1", dst="fd00:10::2", hlim=s["ttl"], fl=0x12345 + flow)
    else:
        ip = IP(src="192.168.10.1", dst="192.168.10.2", id=s["id"], flags="DF" if s["df"] else 0, ttl=s["ttl"])
    return ip / tcp / data if s["len"] else ip / tcp


def frame_bytes(args, flow, s, knobs):
    sport = 40000 + flow
    inner6 = args.outer == 6 if args.kind == "plain" else args.inner == 6
    inner = inner_packet(flow, s, inner6, sport)
    l2 = Ether(src=MACS[0], dst=MACS[1])
    if args.vlan:
        l2 = l2 / Dot1Q(vlan=100 + (flow % 3))
    if args.kind == "plain":
        return bytes(l2 / inner)
    if args.outer == 4:
        outer = IP(src="10.0.0.1", dst="10.0.0.2", id=s["outer_id"], flags="DF", ttl=s["outer_ttl"])
    else:
        outer = IPv6(src="fd00::1", dst="fd00::2", hlim=s["outer_ttl"])
    inner_frame = Ether(src=INNER_MACS[0], dst=INNER_MACS[1]) / inner
    usp = 49152 + flow
    if args.kind == "vxlan":
        body = UDP(sport=usp, dport=4789) / Raw(struct.pack("!BBHI", 0x08, 0, 0, (42 << 8))) / inner_frame
    elif args.kind == "vxlan-gpe":
        body = UDP(sport=usp, dport=4790) / Raw(struct.pack("!BBBBI", 0x0C, 0, 0, 3, (43 << 8))) / inner_frame
    elif args.kind == "geneve":
        header = struct.pack("!BBHI", len(GENEVE_OPTION) // 4, 0, 0x6558, 44 << 8) + GENEVE_OPTION
        body = UDP(sport=usp, dport=6081) / Raw(header) / inner_frame
    elif args.kind == "gre":
        body = GRE(chksum_present=1, key_present=1, key=0xA1B2C3D4, proto=0x86DD if inner6 else 0x0800) / inner
    elif args.kind == "nvgre":
        body = GRE(key_present=1, key=(0x123456 << 8) | 0x9A, proto=0x6558) / inner_frame
    elif args.kind == "ipip":
        body = inner
    elif args.kind == "fou":
        body = UDP(sport=usp, dport=PORTS["fou6" if inner6 else "fou4"]) / inner
    elif args.kind == "gue":
        body = UDP(sport=usp, dport=6080) / Raw(struct.pack("!BBH", 0, 41 if inner6 else 4, 0)) / inner
    else:
        raise SystemExit(f"unknown kind {args.kind}")
    if args.kind == "ipip":
        if args.outer == 4:
            outer.proto = 41 if inner6 else 4
        else:
            outer.nh = 41 if inner6 else 4
    raw = bytearray(bytes(l2 / outer / body))
    if knobs["zeroudp"]:
        h = parse(bytes(raw))
        if h.get("udp") is not None:
            raw[h["udp"] + 6:h["udp"] + 8] = b"\0\0"
    return bytes(raw)


def corrupt(frame, what):
    h = parse(frame)
    raw = bytearray(frame)
    if what == "gre":
        if "gre" not in h or not struct.unpack_from("!H", frame, h["gre"])[0] & 0x8000:
            raise SystemExit("bad:gre: the frame has no GRE checksum")
        fix_gre_checksum(raw, h, wrong=True)
        return bytes(raw)
    field = {"tcp": (h["tcp"], 16), "udp": (h.get("udp"), 6), "ip": (h["l3"], 10), "outerip": (h.get("outer_l3"), 10)}[what]
    if field[0] is None:
        raise SystemExit(f"bad:{what}: the frame has no such header")
    if what == "ip" and h["l3v"] != 4 or what == "outerip" and h.get("outer_v") != 4:
        raise SystemExit(f"bad:{what}: not IPv4")
    at = field[0] + field[1]
    raw[at] ^= 0x5A
    raw[at + 1] ^= 0xA5
    fix_gre_checksum(raw, h)
    return bytes(raw)


def fix_gre_checksum(raw, h, wrong=False):
    """A GRE checksum over the (changed) payload: right, or (`wrong`) deliberately not."""
    if "gre" not in h or not struct.unpack_from("!H", raw, h["gre"])[0] & 0x8000:
        return
    gre = h["gre"]
    end = ip_end(raw, h["outer_l3"], h["outer_v"])
    raw[gre + 4:gre + 6] = b"\0\0"
    value = ~ones_sum(bytes(raw[gre:end])) & 0xFFFF
    raw[gre + 4:gre + 6] = struct.pack("!H", value ^ (0x1234 if wrong else 0))


def make(args):
    rng = random.Random(args.seed)
    flows = []
    for index, text in enumerate(args.flow):
        knobs = parse_scenario(text)
        order = flow_segments(index, knobs, args.segments, args.mss, rng)
        for s in order:
            frame = frame_bytes(args, index, s, knobs)
            if s["bad"]:
                frame = corrupt(frame, s["bad"])
            s["frame"] = frame
        flows.append({"index": index, "sport": 40000 + index, "scenario": text, "knobs": knobs, "frames": order})
    # Round-robin interleaving.
    frames, entries = [], []
    position = [0] * len(flows)
    while any(position[i] < len(f["frames"]) for i, f in enumerate(flows)):
        for i, f in enumerate(flows):
            if position[i] < len(f["frames"]):
                s = f["frames"][position[i]]
                position[i] += 1
                entries.append({"frame": len(frames), "flow": i, "seq": s["seq"], "len": s["len"], "flags": s["flags"],
                                "bad": s["bad"], "pure": s.get("pure", False), "retransmission": s.get("retransmission", False),
                                "hex": s["frame"].hex()})
                frames.append(s["frame"])
    wrpcap(args.out, [Ether(frame) for frame in frames], linktype=1)
    manifest = {"kind": args.kind, "outer": args.outer, "inner": args.inner, "vlan": args.vlan, "mss": args.mss,
                "segments": args.segments, "frames": entries,
                "flows": [{"index": f["index"], "sport": f["sport"], "scenario": f["scenario"],
                           "in_order": not (f["knobs"]["reorder"] or f["knobs"]["loss"] or f["knobs"]["retrans"])}
                          for f in flows]}
    with open(args.manifest, "w") as out:
        json.dump(manifest, out)
    print(f"wrote {len(frames)} frames of {len(flows)} flows to {args.out}")


# ---------------------------------------------------------------- parsing raw frames


def parse(frame):
    """Offsets of every header of a frame (an independent parser: our own kinds only)."""
    h = {"vlans": []}
    at = 12
    ethertype = struct.unpack_from("!H", frame, at)[0]
    at += 2
    while ethertype in (0x8100, 0x88A8):
        h["vlans"].append(struct.unpack_from("!H", frame, at)[0])
        ethertype = struct.unpack_from("!H", frame, at + 2)[0]
        at += 4
    layers = []  # (kind, offset) of every IP header, outermost first

    def ip_layer(offset, version):
        layers.append((version, offset))
        if version == 4:
            proto = frame[offset + 9]
            return offset + (frame[offset] & 0x0F) * 4, proto
        return offset + 40, frame[offset + 6]

    if ethertype not in (0x0800, 0x86DD):
        raise ValueError(f"ethertype {ethertype:#x}")
    at, proto = ip_layer(at, 4 if ethertype == 0x0800 else 6)
    while True:
        if proto == 6:
            h["tcp"] = at
            break
        if proto in (4, 41):
            at, proto = ip_layer(at, 4 if proto == 4 else 6)
            continue
        if proto == 47:
            h["gre"] = at
            flags, gproto = struct.unpack_from("!HH", frame, at)
            glen = 4 + (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0) + (4 if flags & 0x1000 else 0)
            h["tunnel"] = (at, glen)
            at += glen
            if gproto == 0x6558:
                ethertype = struct.unpack_from("!H", frame, at + 12)[0]
                h["inner_l2"] = (at, 14)
                at += 14
                proto = None
            else:
                ethertype = gproto
            at, proto = ip_layer(at, 4 if ethertype == 0x0800 else 6)
            continue
        if proto == 17:
            h["udp"] = at
            dport = struct.unpack_from("!H", frame, at + 2)[0]
            kind = UDP_KINDS.get(dport)
            at += 8
            if kind in ("vxlan", "vxlan-gpe"):
                h["tunnel"] = (at, 8)
                at += 8
            elif kind == "geneve":
                glen = 8 + (frame[at] & 0x3F) * 4
                h["tunnel"] = (at, glen)
                at += glen
            elif kind == "gue":
                h["tunnel"] = (at, 4 + (frame[at] & 0x1F) * 4)
                proto = frame[at + 1]
                at += h["tunnel"][1]
                at, proto = ip_layer(at, 4 if proto == 4 else 6)
                continue
            elif kind in ("fou4", "fou6"):
                h["tunnel"] = (at, 0)
                at, proto = ip_layer(at, 4 if kind == "fou4" else 6)
                continue
            else:
                raise ValueError(f"UDP port {dport}")
            ethertype = struct.unpack_from("!H", frame, at + 12)[0]
            h["inner_l2"] = (at, 14)
            at += 14
            at, proto = ip_layer(at, 4 if ethertype == 0x0800 else 6)
            continue
        raise ValueError(f"protocol {proto}")
    h["l3v"], h["l3"] = layers[-1]
    if len(layers) > 1:
        h["outer_v"], h["outer_l3"] = layers[0]
    return h


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def pseudo(frame, l3, version, proto, length):
    if version == 4:
        return frame[l3 + 12:l3 + 20] + struct.pack("!BBH", 0, proto, length)
    return frame[l3 + 8:l3 + 40] + struct.pack("!IxxxB", length, proto)


def ip_end(frame, l3, version):
    if version == 4:
        return l3 + struct.unpack_from("!H", frame, l3 + 2)[0]
    return l3 + 40 + struct.unpack_from("!H", frame, l3 + 4)[0]


def checksum_faults(frame, h):
    """Which checksums of the frame are wrong, summed here."""
    faults = []
    end = ip_end(frame, h["outer_l3"], h["outer_v"]) if "outer_l3" in h else ip_end(frame, h["l3"], h["l3v"])
    for name, key, version in (("outerip", "outer_l3", h.get("outer_v")), ("ip", "l3", h["l3v"])):
        if key in h and version == 4 and ones_sum(frame[h[key]:h[key] + 20]) != 0xFFFF:
            faults.append(name)
    tcp = h["tcp"]
    if ones_sum(pseudo(frame, h["l3"], h["l3v"], 6, end - tcp) + frame[tcp:end]) != 0xFFFF:
        faults.append("tcp")
    if "udp" in h:
        udp = h["udp"]
        if struct.unpack_from("!H", frame, udp + 6)[0] != 0 and \
                ones_sum(pseudo(frame, h["outer_l3"], h["outer_v"], 17, end - udp) + frame[udp:end]) != 0xFFFF:
            faults.append("udp")
    if "gre" in h and struct.unpack_from("!H", frame, h["gre"])[0] & 0x8000:
        if ones_sum(frame[h["gre"]:end]) != 0xFFFF:
            faults.append("gre")
    return faults


def describe(frame, mode):
    """Everything of a frame GRO and the re-segmentation must keep, checksums aside."""
    h = parse(frame)
    tcp = h["tcp"]
    end = ip_end(frame, h["outer_l3"], h["outer_v"]) if "outer_l3" in h else ip_end(frame, h["l3"], h["l3v"])
    offset = (frame[tcp + 12] >> 4) * 4
    d = {
        "macs": None if mode in ("mac", "csum") else frame[0:12].hex(),
        "vlans": h["vlans"],
        "seq": struct.unpack_from("!I", frame, tcp + 4)[0],
        "ack": struct.unpack_from("!I", frame, tcp + 8)[0],
        "flags": frame[tcp + 13],
        "window": struct.unpack_from("!H", frame, tcp + 14)[0],
        "urgptr": struct.unpack_from("!H", frame, tcp + 18)[0],
        "ports": frame[tcp:tcp + 4].hex(),
        "options": frame[tcp + 20:tcp + offset].hex(),
        "payload": frame[tcp + offset:end],
        "padding": len(frame) - end,
    }
    for name, key, version in (("outer", "outer_l3", h.get("outer_v")), ("inner", "l3", h["l3v"])):
        if key not in h:
            continue
        at = h[key]
        if version == 4:
            d[name + "_ip"] = {"tos": frame[at + 1], "id": struct.unpack_from("!H", frame, at + 4)[0],
                               "frag": struct.unpack_from("!H", frame, at + 6)[0], "ttl": frame[at + 8],
                               "proto": frame[at + 9], "addrs": frame[at + 12:at + 20].hex()}
        else:
            d[name + "_ip"] = {"vtcfl": frame[at:at + 4].hex(), "nh": frame[at + 6], "hlim": frame[at + 7],
                               "addrs": frame[at + 8:at + 40].hex()}
    if "udp" in h:
        udp = h["udp"]
        d["udp_ports"] = frame[udp:udp + 4].hex()
        # Over IPv6 a zero UDP checksum is the tunnel exception (RFC 6935); the egress may
        # fill it in (Swift GSO does): only over IPv4 must zero stay zero.
        if h.get("outer_v") == 4:
            d["udp_csum_zero"] = struct.unpack_from("!H", frame, udp + 6)[0] == 0
    if "tunnel" in h:
        at, length = h["tunnel"]
        tunnel = bytearray(frame[at:at + length])
        if "gre" in h and struct.unpack_from("!H", frame, at)[0] & 0x8000:
            tunnel[4:6] = b"\0\0"
        d["tunnel"] = tunnel.hex()
    if "inner_l2" in h:
        at, length = h["inner_l2"]
        d["inner_l2"] = frame[at:at + length].hex()
    return d, h


# ---------------------------------------------------------------- checking


def tshark_verdicts(path):
    """Frame number -> list of the checksum layers tshark calls bad."""
    result = subprocess.run(
        ["tshark", "-r", path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o",
         "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-e", "frame.number",
         "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status"],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"tshark failed: {result.stderr}")
    verdicts = {}
    for line in result.stdout.splitlines():
        fields = line.split("|")
        if len(fields) != 4 or not fields[0].isdigit():
            continue
        bad = []
        for name, values in zip(("ip", "udp", "tcp"), fields[1:]):
            if "0" in values.split(","):
                bad.append(name)
        verdicts[int(fields[0])] = bad
    return verdicts


def read_frames(path):
    with PcapReader(path) as reader:
        return [bytes(p) for p in reader]


def check(args):
    with open(args.manifest) as f:
        manifest = json.load(f)
    failures = []
    inputs = [bytes.fromhex(e["hex"]) for e in manifest["frames"]]
    on_disk = read_frames(args.input)
    if on_disk != inputs:
        failures.append("the input pcap does not hold the manifest's frames")
    outputs = read_frames(args.output)
    sports = {f["sport"]: f["index"] for f in manifest["flows"]}
    expected = {f["index"]: [] for f in manifest["flows"]}
    for entry, frame in zip(manifest["frames"], inputs):
        expected[entry["flow"]].append((entry, frame))
    got = {f["index"]: [] for f in manifest["flows"]}
    verdicts = tshark_verdicts(args.output) if not args.no_tshark else {}
    for number, frame in enumerate(outputs, 1):
        try:
            h = parse(frame)
        except (ValueError, struct.error, IndexError) as error:
            failures.append(f"output frame {number}: not parsed ({error})")
            continue
        sport = struct.unpack_from("!H", frame, h["tcp"])[0]
        if sport not in sports:
            failures.append(f"output frame {number}: unknown flow (TCP source port {sport})")
            continue
        got[sports[sport]].append((number, frame, h))
    merged_bad = 0
    identical = 0
    for flow in manifest["flows"]:
        index = flow["index"]
        name = f"flow {index} ({flow['scenario']})"
        want, have = expected[index], got[index]
        if len(want) != len(have):
            failures.append(f"{name}: {len(have)} frames out, {len(want)} in")
        # The byte stream by sequence number: every input byte is there with its value.
        def stream(frames):
            data = {}
            for frame in frames:
                try:
                    d, _ = describe(frame, args.mode)
                except (ValueError, struct.error, IndexError):
                    continue
                for i, byte in enumerate(d["payload"]):
                    data.setdefault((d["seq"] + i) & 0xFFFFFFFF, set()).add(byte)
            return data
        want_stream = stream([frame for entry, frame in want if not entry["bad"]])
        have_stream = stream([frame for _, frame, _ in have])
        if any(k not in have_stream or not values <= have_stream[k] for k, values in want_stream.items()):
            failures.append(f"{name}: payload bytes of the input missing or changed in the output stream")
        if any(len(values) != 1 for values in have_stream.values()):
            failures.append(f"{name}: the output holds different bytes for one sequence number")
        if set(have_stream) - set(want_stream) - set(stream([frame for entry, frame in want if entry["bad"]])):
            failures.append(f"{name}: the output holds sequence numbers the input did not")
        for position, ((entry, frame), (number, out, h)) in enumerate(zip(want, have)):
            label = f"{name} frame {position} (input #{entry['frame'] + 1}, output #{number})"
            bad_in = entry["bad"] is not None
            if bad_in and args.mode in ("io", "mac"):
                if (frame if args.mode == "io" else frame[12:]) != (out if args.mode == "io" else out[12:]):
                    failures.append(f"{label}: bad '{entry['bad']}' checksum on input, changed on output")
                    merged_bad += 1
                continue
            want_d, _ = describe(frame, args.mode)
            have_d, _ = describe(out, args.mode)
            if out == frame:
                identical += 1
            if want_d != have_d:
                diffs = [k for k in want_d if want_d.get(k) != have_d.get(k)]
                detail = ", ".join(f"{k}: {short(want_d.get(k))} -> {short(have_d.get(k))}" for k in diffs[:4])
                failures.append(f"{label}: differs in {detail}")
            faults = checksum_faults(out, h)
            if faults:
                failures.append(f"{label}: checksum wrong (summed here): {', '.join(faults)}")
            if verdicts.get(number):
                failures.append(f"{label}: tshark says checksum bad: {', '.join(verdicts[number])}")
    for number, frame in enumerate(outputs, 1):
        if len(frame) > args.max_frame:
            failures.append(f"output frame {number}: {len(frame)} bytes, more than {args.max_frame}")
    shown = {}
    for line in failures:
        key = line.split(" frame ")[0]
        shown[key] = shown.get(key, 0) + 1
        if shown[key] <= args.max_lines:
            print(line)
        elif shown[key] == args.max_lines + 1:
            print(f"{key}: more failures not shown")
    if failures:
        return 1
    print(f"ok: {len(inputs)} frames in, {len(outputs)} out, {len(manifest['flows'])} flows, "
          f"{identical} byte-identical to their input")
    return 0


def short(value):
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    text = str(value)
    return text if len(text) < 60 else text[:57] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("manifest")
    m.add_argument("--kind", required=True, choices=KINDS)
    m.add_argument("--outer", type=int, choices=[4, 6], default=4)
    m.add_argument("--inner", type=int, choices=[4, 6], default=4)
    m.add_argument("--vlan", action="store_true")
    m.add_argument("--segments", type=int, default=20)
    m.add_argument("--mss", type=int, default=1448)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--flow", action="append", required=True)
    c = sub.add_parser("check")
    c.add_argument("input")
    c.add_argument("manifest")
    c.add_argument("output")
    c.add_argument("--mode", choices=["io", "mac", "csum"], default="io")
    c.add_argument("--max-frame", type=int, default=1518 + 200)
    c.add_argument("--no-tshark", action="store_true")
    c.add_argument("--max-lines", type=int, default=4, help="failures shown per flow")
    args = parser.parse_args()
    return make(args) if args.command == "make" else check(args)


if __name__ == "__main__":
    sys.exit(main())
