#!/usr/bin/env python3
"""Writes a pcap of interleaved segments for receive-coalescing tests: three VXLAN-TCP/IPv4
flows of 12 full segments (the last with PSH), a Geneve-TCP/IPv6 flow of 8, a plain TCP/IPv6
flow of 6, one segment with a bad inner TCP checksum inside the first flow's run, a pure ACK,
a RST, and 5 equal VXLAN-UDP datagrams. Every frame is valid but the bad-checksum one.

usage: gro_mix.py <out.pcap>
"""
import sys
from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw, wrpcap
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE

MSS = 1400


def payload(flow, index, size=MSS):
    return bytes((flow * 31 + index * 7 + j) % 251 for j in range(size))


def vxlan(inner, sport):
    return (Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") /
            IP(src="192.0.2.1", dst="192.0.2.2", id=0x4000 + sport % 1000, flags="DF") /
            UDP(sport=sport, dport=4789) / VXLAN(vni=7) / inner)


frames = []
streams = []
for flow in range(3):
    segs = []
    for i in range(12):
        flags = "PA" if i == 11 else "A"
        inner = (Ether(src="02:00:00:00:02:01", dst="02:00:00:00:02:02") /
                 IP(src="10.1.0.1", dst="10.1.0.2", id=100 * flow + i, flags="DF") /
                 TCP(sport=40000 + flow, dport=5201, seq=1000 + i * MSS, ack=77, flags=flags, window=512) /
                 Raw(payload(flow, i)))
        outer = vxlan(inner, 50000 + flow)
        outer[IP].id = 0x4000 + flow * 100 + i
        segs.append(Ether(bytes(outer)))
    streams.append(segs)
g = []
for i in range(8):
    inner = (Ether(src="02:00:00:00:03:01", dst="02:00:00:00:03:02") /
             IPv6(src="fd00:1::1", dst="fd00:1::2", hlim=64) /
             TCP(sport=41000, dport=5202, seq=5000 + i * MSS, ack=9, flags="A", window=300) / Raw(payload(7, i)))
    outer = (Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") /
             IPv6(src="fd00:9::1", dst="fd00:9::2") / UDP(sport=51000, dport=6081) / GENEVE(vni=9, proto=0x6558) / inner)
    g.append(Ether(bytes(outer)))
streams.append(g)
p = []
for i in range(6):
    frame = (Ether(src="02:00:00:00:04:01", dst="02:00:00:00:04:02") / IPv6(src="fd00:2::1", dst="fd00:2::2") /
             TCP(sport=42000, dport=5203, seq=9000 + i * MSS, ack=1, flags="A", window=100) / Raw(payload(9, i)))
    p.append(Ether(bytes(frame)))
streams.append(p)
# Interleave the streams segment by segment.
for i in range(12):
    for s in streams:
        if i < len(s):
            frames.append(s[i])
    if i == 5:
        bad = Ether(bytes(vxlan(Ether(src="02:00:00:00:02:01", dst="02:00:00:00:02:02") /
                                IP(src="10.1.0.9", dst="10.1.0.2", id=1, flags="DF") /
                                TCP(sport=40009, dport=5201, seq=1, ack=1, flags="A", chksum=0x1234) /
                                Raw(payload(5, 0)), 50009)))
        frames.append(bad)
        frames.append(Ether(bytes(Ether() / IP(src="10.2.0.1", dst="10.2.0.2") / TCP(sport=1, dport=2, flags="A", ack=5))))
        frames.append(Ether(bytes(Ether() / IP(src="10.2.0.1", dst="10.2.0.2") / TCP(sport=1, dport=3, flags="R"))))
for i in range(5):
    inner = (Ether(src="02:00:00:00:05:01", dst="02:00:00:00:05:02") / IP(src="10.3.0.1", dst="10.3.0.2", id=i) /
             UDP(sport=7000, dport=7001) / Raw(payload(11, i, 1000)))
    frames.append(Ether(bytes(vxlan(inner, 52000))))
wrpcap(sys.argv[1], frames)
print(len(frames))
