#!/usr/bin/env python3
"""Writes seed inputs for the Wire fuzzers: one frame per tunnel kind (scapy builds them,
so the seeds are not shaped by Wire's own builders) and virtio-net headers in front of
a VXLAN frame, including the kernel's own example (Tests/WireTests/KernelVectors.swift).

usage: make_seeds.py PARSER_DIR VIRTIO_DIR
"""
import os
import struct
import sys

try:
    from scapy.all import Ether, Dot1Q, Dot1AD, IP, IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrFragment, \
        IPv6ExtHdrDestOpt, UDP, TCP, GRE, Raw, raw
    from scapy.layers.vxlan import VXLAN
    from scapy.contrib.geneve import GENEVE
except ImportError:
    sys.exit("make_seeds.py needs scapy: pip install scapy (WIRE_PIP_PACKAGES in mk/wire.mk)")

parser_dir, virtio_dir = sys.argv[1], sys.argv[2]
os.makedirs(parser_dir, exist_ok=True)
os.makedirs(virtio_dir, exist_ok=True)

mac = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
tcp4 = IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="PA",
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 2)), ("WScale", 7)]) / Raw(b"x" * 40)
udp6 = IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=5000, dport=53) / Raw(b"y" * 20)
inner_eth = Ether(**mac) / tcp4

geneve_opts = bytes([0x01, 0x02, 0x80, 0x01]) + b"\0\0\0\x07"  # class 0x0102, critical type, 4 B data
stt_header = struct.pack("!BBBBHHQH", 0, 0x0c, 34, 0, 1400, 0, 0x1122334455667788, 0)
stt_payload = stt_header + raw(inner_eth)
gue_header = bytes([0x02, 4, 0x00, 0x01]) + struct.pack("!IHH", 0x80000000, 20, 16)

frames = {
    "plain-tcp4": Ether(**mac) / tcp4,
    "plain-udp6-ext": Ether(**mac) / IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt() / UDP(sport=1, dport=2) / Raw(b"z" * 8),
    "frag6": Ether(**mac) / IPv6(src="fd00::1", dst="fd00::2") / IPv6ExtHdrFragment(offset=0, m=1)
        / UDP(sport=1, dport=2, len=200) / Raw(b"f" * 32),
    "qinq": Ether(**mac) / Dot1AD(vlan=100) / Dot1Q(vlan=200) / tcp4,
    "vxlan4-tcp4": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=49152, dport=4789)
        / VXLAN(vni=42) / inner_eth,
    "vxlan6-udp6": Ether(**mac) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=49153, dport=8472)
        / VXLAN(vni=7) / Ether(**mac) / Dot1Q(vlan=5) / udp6,
    "gpe-ipv4": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40000, dport=4790)
        / Raw(bytes([0x0c, 0, 0, 1, 0, 0, 9, 0])) / tcp4,
    "geneve-opts": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=40001, dport=6081)
        / GENEVE(vni=99, proto=0x6558, optionlen=2) / Raw(geneve_opts) / inner_eth,
    "gre-key-seq-csum": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2")
        / GRE(chksum_present=1, key_present=1, seqnum_present=1, key=5, seqence_number=9, proto=0x0800) / tcp4,
    "nvgre": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / GRE(key_present=1, key=0x123456ff, proto=0x6558)
        / inner_eth,
    "ipip": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2", proto=4) / tcp4,
    "6in4": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2", proto=41) / udp6,
    "fou-ipip": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1, dport=5555) / tcp4,
    "gue-rco": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=2, dport=6080)
        / Raw(gue_header) / tcp4,
    "stt": Ether(**mac) / IP(src="192.0.2.1", dst="192.0.2.2")
        / TCP(sport=50000, dport=7471, flags="PA", seq=len(stt_payload) << 16, ack=77) / Raw(stt_payload),
}
for name, frame in frames.items():
    with open(os.path.join(parser_dir, name), "wb") as f:
        f.write(raw(frame))

# virtio: selector byte (format 2 = 24-byte header, both tunnel offloads) + header + frame.
vxlan = raw(frames["vxlan4-tcp4"])
kernel_example = struct.pack("<BBHHHHH", 1, 0x21, 116, 1398, 84, 16, 0) + b"\0" * 8 + struct.pack("<HH", 34, 64)
plain = struct.pack("<BBHHHHH", 1, 1, 66, 1448, 34, 16, 0)
draft = struct.pack("<BBHHHHH", 1, 0x41, 64, 1398, 84, 16, 0)
seeds = {
    "tunnel-kernel-example": bytes([2 | 0x0c]) + kernel_example + vxlan,
    "v1-tso4": bytes([0]) + plain + raw(frames["plain-tcp4"]),
    "draft": bytes([0x20]) + draft + vxlan,
}
for name, data in seeds.items():
    with open(os.path.join(virtio_dir, name), "wb") as f:
        f.write(data)
print(f"wrote {len(frames)} parser seeds to {parser_dir}, {len(seeds)} virtio seeds to {virtio_dir}")
