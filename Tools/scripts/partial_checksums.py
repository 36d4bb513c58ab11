#!/usr/bin/env python3
"""Frames whose checksum is left pending (virtio-net NEEDS_CSUM), sent into a tap by the
kernel itself, and the check of what came out after forwarding.

  partial_checksums.py inject IFACE MANIFEST
      (run inside the tap's namespace) builds every case with scapy, writes each through an
      AF_PACKET socket with PACKET_VNET_HDR, so the kernel hands the tap's reader the frame
      with NEEDS_CSUM, csum_start and csum_offset exactly as given; records the cases in
      MANIFEST (JSON).
  partial_checksums.py check OUT.pcap MANIFEST [--dropped NAME ...] [--rewritten-macs]
      exits 0 when OUT.pcap holds one frame per case (in order, minus --dropped) whose
      pending field is now final: the Internet sum from csum_start to the end, plus the seed
      the field held (the pseudo-header sum, or 0), is 0xFFFF; and whose other bytes are the
      input's (after the first 12 with --rewritten-macs). Prints a line per case.

The cases cover what lies past a parser: ARP and IPv6 ND inside VXLAN and Geneve, ICMP and
ICMPv6 inside a tunnel, an inner first fragment, an unknown IP protocol, UDP to an unknown
port (plain and inner), plain ICMP, and a tunnel whose inner IP header
announces more bytes than there are (malformed to a parser, but the checksum is still owed).
"""
import json
import socket
import struct
import sys

from scapy.all import ARP, ICMP, IP, IPv6, UDP, TCP, Ether, Raw, bind_layers, rdpcap, raw
from scapy.contrib.geneve import GENEVE
from scapy.layers.inet import fragment
from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr
from scapy.layers.vxlan import VXLAN

bind_layers(UDP, GENEVE, dport=6081)
SOL_PACKET = 263
PACKET_VNET_HDR = 15
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1

MAC_A, MAC_B = "02:00:00:00:21:01", "02:00:00:00:21:02"
IN_A, IN_B = "02:00:00:00:22:01", "02:00:00:00:22:02"


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def internet_sum(data):
    if len(data) % 2:
        data += b"\0"
    return fold(sum(struct.unpack(f"!{len(data) // 2}H", data)))


def pseudo4(src, dst, proto, length):
    return internet_sum(socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, length))


def pseudo6(src, dst, proto, length):
    return internet_sum(socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
                        + struct.pack("!IxxxB", length, proto))


def outer4(payload, dport=4789, csum=True):
    """Ether/IPv4/UDP(dport) around `payload` bytes; the UDP checksum pending (seeded) or 0."""
    frame = bytearray(raw(Ether(src=MAC_A, dst=MAC_B) / IP(src="10.0.0.1", dst="10.0.0.2", id=1)
                          / UDP(sport=49152, dport=dport, chksum=0) / Raw(payload)))
    if not csum:
        return frame, None
    length = len(frame) - 34
    struct.pack_into("!H", frame, 40, pseudo4("10.0.0.1", "10.0.0.2", 17, length))
    return frame, (34, 6, pseudo4("10.0.0.1", "10.0.0.2", 17, length))


def outer6(payload, dport=4789):
    frame = bytearray(raw(Ether(src=MAC_A, dst=MAC_B) / IPv6(src="fd00::1", dst="fd00::2")
                          / UDP(sport=49152, dport=dport, chksum=0) / Raw(payload)))
    length = len(frame) - 54
    seed = pseudo6("fd00::1", "fd00::2", 17, length)
    struct.pack_into("!H", frame, 60, seed)
    return frame, (54, 6, seed)


def seeded(frame, start, offset, seed):
    frame = bytearray(frame)
    struct.pack_into("!H", frame, start + offset, seed)
    return frame, (start, offset, seed)


def cases():
    vx = raw(VXLAN(vni=42))
    arp = raw(Ether(src=IN_A, dst="ff:ff:ff:ff:ff:ff") / ARP(hwsrc=IN_A, psrc="10.98.0.1", pdst="10.98.0.2"))
    ns = raw(Ether(src=IN_A, dst="33:33:ff:00:00:02") / IPv6(src="fd00:98::1", dst="ff02::1:ff00:2", hlim=255)
             / ICMPv6ND_NS(tgt="fd00:98::2") / ICMPv6NDOptSrcLLAddr(lladdr=IN_A))
    yield "vxlan4-arp", *outer4(vx + arp)
    yield "vxlan6-nd", *outer6(vx + ns)
    yield "geneve4-arp", *outer4(raw(GENEVE(vni=42, proto=0x6558)) + arp, dport=6081)
    first = fragment(IP(src="10.98.0.1", dst="10.98.0.2", id=77) / UDP(sport=5000, dport=6000) / Raw(b"f" * 3000),
                     fragsize=1400)[0]
    yield "vxlan4-inner-first-fragment", *outer4(vx + raw(Ether(src=IN_A, dst=IN_B) / first))
    # Malformed to a parser: the inner IPv4 header announces 1000 bytes, 80 follow.
    liar = bytearray(raw(Ether(src=IN_A, dst=IN_B) / IP(src="10.98.0.1", dst="10.98.0.2") / UDP(sport=1, dport=2)
                         / Raw(b"x" * 52)))
    struct.pack_into("!H", liar, 14 + 2, 1000)
    struct.pack_into("!H", liar, 14 + 10, 0)
    struct.pack_into("!H", liar, 14 + 10, 0xFFFF - internet_sum(bytes(liar[14:34])))
    yield "vxlan4-inner-length-lies", *outer4(vx + bytes(liar))

    # Pending checksums inside the tunnel (outer UDP checksum 0, as IPv4 allows).
    inner_l4 = 34 + 8 + 8 + 14 + 20
    icmp = raw(Ether(src=IN_A, dst=IN_B) / IP(src="10.98.0.1", dst="10.98.0.2") / ICMP(id=7, seq=1, chksum=0)
               / Raw(b"ping" * 20))
    frame, _ = outer4(vx + icmp, csum=False)
    yield "vxlan4-inner-icmp", *seeded(frame, inner_l4, 2, 0)
    icmp6 = Ether(src=IN_A, dst=IN_B) / IPv6(src="fd00:98::1", dst="fd00:98::2") / ICMPv6EchoRequest(id=7, seq=1, cksum=0, data=b"p" * 64)
    frame, _ = outer4(vx + raw(icmp6), csum=False)
    yield "vxlan4-inner-icmpv6", *seeded(frame, 34 + 8 + 8 + 14 + 40, 2, pseudo6("fd00:98::1", "fd00:98::2", 58, 8 + 64))
    unknown = raw(Ether(src=IN_A, dst=IN_B) / IP(src="10.98.0.1", dst="10.98.0.2", proto=253) / Raw(b"\0" * 4 + b"u" * 60))
    frame, _ = outer4(vx + unknown, csum=False)
    yield "vxlan4-inner-unknown-protocol", *seeded(frame, inner_l4, 2, 0x1234)
    udp = raw(Ether(src=IN_A, dst=IN_B) / IP(src="10.98.0.1", dst="10.98.0.2") / UDP(sport=5000, dport=9999, chksum=0)
              / Raw(b"d" * 300))
    frame, _ = outer4(vx + udp, csum=False)
    yield "vxlan4-inner-udp-unknown-port", *seeded(frame, inner_l4, 6, pseudo4("10.98.0.1", "10.98.0.2", 17, 308))
    tcp = raw(Ether(src=IN_A, dst=IN_B) / IP(src="10.98.0.1", dst="10.98.0.2") / TCP(sport=5000, dport=80, flags="PA", chksum=0)
              / Raw(b"t" * 700))
    frame, _ = outer4(vx + tcp, csum=False)
    yield "vxlan4-inner-tcp", *seeded(frame, inner_l4, 16, pseudo4("10.98.0.1", "10.98.0.2", 6, 720))

    # Untunnelled.
    yield "udp4-unknown-port", *outer4(b"q" * 200, dport=9999)
    plain_icmp = raw(Ether(src=MAC_A, dst=MAC_B) / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(chksum=0) / Raw(b"i" * 56))
    yield "icmp4", *seeded(plain_icmp, 34, 2, 0)
    # (An unknown ethertype with NEEDS_CSUM: the kernel's packet socket refuses it with
    # EINVAL, so it cannot arrive this way; TapDeviceHeaderTests feeds it to the tap directly.)


def inject(iface, manifest):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.bind((iface, 0))
    recorded = []
    for name, frame, (start, offset, seed) in cases():
        header = struct.pack("=BBHHHH", VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, start, offset)
        sock.send(header + bytes(frame))
        recorded.append({"name": name, "start": start, "offset": offset, "seed": seed, "frame": bytes(frame).hex()})
    with open(manifest, "w") as out:
        json.dump(recorded, out)
    print(f"INJECTED {len(recorded)}")
    return 0


def check(pcap, manifest, dropped, rewritten_macs):
    with open(manifest) as source:
        expected = [case for case in json.load(source) if case["name"] not in dropped]
    frames = [bytes(packet) for packet in rdpcap(pcap)]
    failures = 0
    if len(frames) != len(expected):
        print(f"FAIL count: {len(frames)} frames out, {len(expected)} expected")
        failures += 1
    for case, frame in zip(expected, frames):
        start, field = case["start"], case["start"] + case["offset"]
        sent = bytes.fromhex(case["frame"])
        total = fold(internet_sum(frame[start:]) + case["seed"])
        problems = []
        if total != 0xFFFF:
            problems.append(f"pending checksum not final (sum+seed {total:#06x})")
        if len(frame) != len(sent):
            problems.append(f"length {len(frame)} != {len(sent)}")
        else:
            skip = {field, field + 1} | (set(range(12)) if rewritten_macs else set())
            # Checksum fields a forwarder may recompute (they were right already) are equal too:
            # nothing but the pending field and the addresses may differ.
            differs = [i for i in range(len(frame)) if i not in skip and frame[i] != sent[i]]
            if differs:
                problems.append(f"bytes differ at {differs[:8]}")
        print(("FAIL " if problems else "PASS ") + case["name"] + (": " + "; ".join(problems) if problems else ""))
        failures += bool(problems)
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "inject":
        return inject(argv[2], argv[3])
    if len(argv) >= 4 and argv[1] == "check":
        rest = argv[4:]
        dropped = [rest[i + 1] for i in range(len(rest) - 1) if rest[i] == "--dropped"]
        return check(argv[2], argv[3], dropped, "--rewritten-macs" in rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
