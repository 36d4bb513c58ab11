#!/usr/bin/env python3
"""Malformed and malicious frames for the soak (Tools/soak/soak.py). Seeded, so a run repeats.

  hostile.py pcap <out.pcap> [--seed N]   the corpus a net_pcap port replays: the fuzz seeds
                                          (Tools/fuzz/make_seeds.py: one frame per tunnel kind,
                                          and virtio-net headers in front of a VXLAN frame, here
                                          as bare bytes on the wire), each cut short, with bytes
                                          flipped and grown with garbage, plus hand-made hostile
                                          frames (deep tunnel nesting, bad IHL and lengths, deep
                                          VLAN stacks, runts, jumbo frames). Prints the count.
  hostile.py inject <iface> [--seed N]    sends, on an AF_PACKET socket, frames a kernel on the
                                          far side of tunnelpmd can meet without a checksum error
                                          (runts, bad IP versions and header lengths, truncated
                                          IP packets, VXLAN with bad flags or a cut header, deep
                                          VLAN stacks, unknown ethertypes): every IP header
                                          checksum and every UDP checksum is right (or 0), so
                                          the soak's "kernel checksum errors stay zero" judges
                                          tunnelpmd, not the input. Prints the count.

Bad virtio-net headers cannot come this way: the kernel writes the header of every frame a tap
hands to tunnelpmd itself, well-formed. They are covered by `make fuzz` (VirtioFuzz) and
TapDeviceTests; here the seeds' header bytes only travel as frame bytes.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(frame), len(frame)))
            f.write(frame)


def seeds():
    """The fuzz seeds as byte strings (parser seeds and virtio seeds)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        parser, virtio = os.path.join(tmp, "p"), os.path.join(tmp, "v")
        subprocess.run([sys.executable, os.path.join(ROOT, "Tools/fuzz/make_seeds.py"), parser, virtio],
                       check=True, stdout=subprocess.DEVNULL)
        for directory in (parser, virtio):
            for name in sorted(os.listdir(directory)):
                with open(os.path.join(directory, name), "rb") as f:
                    data = f.read()
                if data:
                    out.append(data)
    return out


def handmade(rng):
    from scapy.all import Ether, Dot1Q, IP, IPv6, IPv6ExtHdrDestOpt, UDP, TCP, GRE, Raw, raw
    from scapy.layers.vxlan import VXLAN
    mac = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    frames = []
    # Tunnels nested 2..12 deep.
    for depth in range(2, 13):
        inner = Ether(**mac) / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1, dport=2, flags="PA") / Raw(b"n" * 64)
        for level in range(depth):
            if level % 2:
                inner = Ether(**mac) / IP(src="10.1.0.1", dst="10.1.0.2") / GRE(proto=0x6558) / inner
            else:
                inner = Ether(**mac) / IP(src="10.2.0.1", dst="10.2.0.2") / UDP(sport=4000 + level, dport=4789) / VXLAN(vni=level) / inner
        frames.append(raw(inner))
    base = raw(Ether(**mac) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5, dport=4789) / VXLAN(vni=9)
               / Ether(**mac) / IP(src="10.3.0.1", dst="10.3.0.2") / TCP(sport=3, dport=4) / Raw(b"v" * 200))
    for ihl in (0, 1, 4, 6, 15):
        frame = bytearray(base)
        frame[14] = 0x40 | ihl
        frames.append(bytes(frame))
    for total in (0, 19, 20, 21, 60, 1000, 65535):
        frame = bytearray(base)
        frame[16:18] = struct.pack("!H", total)
        frames.append(bytes(frame))
    for udp_len in (0, 7, 8, 9, 100, 65535):
        frame = bytearray(base)
        frame[38:40] = struct.pack("!H", udp_len)
        frames.append(bytes(frame))
    # IPv6 with a long chain of extension headers.
    chain = IPv6(src="fd00::1", dst="fd00::2")
    for _ in range(40):
        chain = chain / IPv6ExtHdrDestOpt()
    frames.append(raw(Ether(**mac) / chain / UDP(sport=1, dport=2) / Raw(b"e" * 16)))
    # Deep VLAN stacks.
    stacked = IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / Raw(b"q" * 32)
    for _ in range(20):
        stacked = Dot1Q(vlan=rng.randrange(4096)) / stacked
    frames.append(raw(Ether(**mac) / stacked))
    # Runts and jumbo frames.
    for length in (1, 6, 12, 13, 14, 15, 20, 33, 41, 59):
        frames.append(bytes(rng.randrange(256) for _ in range(length)))
    for length in (1600, 9000, 9018, 16000):
        frames.append(base + bytes(rng.randrange(256) for _ in range(length - len(base))))
    return frames


def mangle(frame, rng):
    out = []
    for cut in sorted({1, 14, 20, 34, 42, 50, 54, 58, len(frame) // 2, len(frame) - 1}):
        if 0 < cut < len(frame):
            out.append(frame[:cut])
    for _ in range(24):
        data = bytearray(frame)
        for _ in range(1 + rng.randrange(4)):
            at = rng.randrange(min(len(data), 128))
            data[at] ^= 1 + rng.randrange(255)
        out.append(bytes(data))
    out.append(frame + bytes(rng.randrange(256) for _ in range(1 + rng.randrange(200))))
    return out


def corpus(seed):
    rng = random.Random(seed)
    frames = []
    for frame in seeds() + handmade(rng):
        frames.append(frame)
        frames.extend(mangle(frame, rng))
    return frames


def ip_checksum(header):
    if len(header) % 2:
        header += b"\0"
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def safe_frames(rng, dst_mac):
    """Frames with every IP header and UDP checksum right (or UDP checksum 0)."""
    src_mac = b"\x02\x00\x00\x5a\x00\x01"
    dst = bytes(int(x, 16) for x in dst_mac.split(":"))

    def eth(ethertype, payload):
        return dst + src_mac + struct.pack("!H", ethertype) + payload

    def ipv4(payload, proto=17, ihl=5, version=4, total=None, src="10.99.0.77", dst_ip="10.99.0.2"):
        options = bytes(4 * (ihl - 5)) if ihl > 5 else b""
        length = total if total is not None else 20 + len(options) + len(payload)
        header = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, length, rng.randrange(65536), 0x4000, 64, proto, 0,
                             socket.inet_aton(src), socket.inet_aton(dst_ip)) + options
        header = header[:10] + struct.pack("!H", ip_checksum(header)) + header[12:]
        return header + payload

    def udp(sport, dport, payload):  # checksum 0: none (IPv4)
        return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload

    frames = []
    for length in range(0, 40, 3):  # unknown ethertype (IEEE local experimental), any length
        frames.append(eth(0x88B5, bytes(rng.randrange(256) for _ in range(length))))
    for ihl in (0, 1, 3, 4):  # header too short: refused before any checksum
        frame = bytearray(eth(0x0800, ipv4(udp(1, 2, b"x" * 20))))
        frame[14] = 0x40 | ihl
        frames.append(bytes(frame))
    for version in (0, 5, 6, 15):  # wrong version
        frame = bytearray(eth(0x0800, ipv4(udp(1, 2, b"x" * 20))))
        frame[14] = (version << 4) | 5
        frames.append(bytes(frame))
    for total in (1000, 1400, 65535):  # total length past the frame (truncated packet)
        frames.append(eth(0x0800, ipv4(udp(9, 9, b"t" * 40), total=total)))
    for flags in (0x00, 0x80, 0xFF):  # VXLAN without the I flag, or every flag, inner garbage
        vx = struct.pack("!B3xI", flags, 7 << 8) + bytes(rng.randrange(256) for _ in range(60))
        frames.append(eth(0x0800, ipv4(udp(40000, 4789, vx))))
    for cut in (0, 3, 7):  # VXLAN header cut short
        frames.append(eth(0x0800, ipv4(udp(40001, 4789, b"\x08" + bytes(cut)))))
    # VXLAN carrying an inner frame of an unknown ethertype, and an inner IPv4 header too short.
    inner_unknown = b"\x02\x00\x00\x98\x00\x0b\x02\x00\x00\x98\x00\x0a\x88\xb5" + b"u" * 50
    frames.append(eth(0x0800, ipv4(udp(40002, 4789, struct.pack("!B3xI", 0x08, 42 << 8) + inner_unknown))))
    inner_bad = bytearray(b"\x02\x00\x00\x98\x00\x0b\x02\x00\x00\x98\x00\x0a\x08\x00" + ipv4(udp(1, 2, b"i" * 30)))
    inner_bad[14] = 0x43
    frames.append(eth(0x0800, ipv4(udp(40003, 4789, struct.pack("!B3xI", 0x08, 42 << 8) + bytes(inner_bad)))))
    # A deep VLAN stack in front of IPv4.
    stack = b"".join(struct.pack("!HH", rng.randrange(4096), 0x8100) for _ in range(12))
    frames.append(dst + src_mac + b"\x81\x00" + stack[:-2] + b"\x08\x00" + ipv4(udp(1, 2, b"v" * 20)))
    return frames


def inject(iface, seed):
    rng = random.Random(seed)
    with open(f"/sys/class/net/{iface}/address") as f:
        dst_mac = f.read().strip()
    # The far side's MAC is what tunnelpmd writes anyway; any unicast address goes.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    sent = 0
    for frame in safe_frames(rng, dst_mac):
        if len(frame) < 14:
            frame = frame + bytes(14 - len(frame))
        try:
            sock.send(frame)
            sent += 1
        except OSError:
            pass
    sock.close()
    print(sent)
    return 0


def main(argv):
    seed = 12
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    if len(argv) >= 3 and argv[1] == "pcap":
        frames = corpus(seed)
        write_pcap(argv[2], frames)
        print(len(frames))
        return 0
    if len(argv) >= 3 and argv[1] == "inject":
        return inject(argv[2], seed)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
