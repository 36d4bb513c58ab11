#!/usr/bin/env python3
"""Builds tunnelled TCP super-frames with scapy (an implementation independent of ours) and
checks what tunnelpmd made of them.

  tunnel_frames.py make OUT.pcap --kind vxlan4 --payload 20000 [--count 3] [--bad-checksums]
  tunnel_frames.py check IN.pcap OUT.pcap --max-frame 1514
      exits 0 when, per input frame, the output's inner TCP payloads (ordered by sequence
      number) concatenate to the input's, every output frame fits --max-frame, and sequence
      numbers advance by each segment's payload (inputs are made with abutting sequence runs);
      prints a one-line summary.
"""
import argparse
import sys

from scapy.all import Ether, IP, IPv6, UDP, TCP, GRE, Raw, rdpcap, wrpcap, bind_layers
from scapy.layers.vxlan import VXLAN
from scapy.contrib.geneve import GENEVE

bind_layers(UDP, GENEVE, dport=6081)

KINDS = ["plain4", "plain6", "vxlan4", "vxlan6", "geneve4", "gre4", "nvgre4"]


def inner(payload, seq):
    return (Ether(src="02:00:00:00:10:01", dst="02:00:00:00:10:02")
            / IP(src="192.168.10.1", dst="192.168.10.2", id=100, flags="DF")
            / TCP(sport=40000, dport=5201, seq=seq, flags="PA", window=512)
            / Raw(payload))


def frame(kind, payload, seq):
    outer4 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2", id=7)
    outer6 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src="fd00::1", dst="fd00::2")
    if kind == "plain4":
        return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1", dst="10.0.0.2", id=9, flags="DF")
                / TCP(sport=40000, dport=5201, seq=seq, flags="PA") / Raw(payload))
    if kind == "plain6":
        return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src="fd00::1", dst="fd00::2")
                / TCP(sport=40000, dport=5201, seq=seq, flags="PA") / Raw(payload))
    if kind == "vxlan4":
        return outer4 / UDP(sport=49152, dport=4789) / VXLAN(vni=42, flags=0x08) / inner(payload, seq)
    if kind == "vxlan6":
        return outer6 / UDP(sport=49152, dport=4789) / VXLAN(vni=42, flags=0x08) / inner(payload, seq)
    if kind == "geneve4":
        return outer4 / UDP(sport=49152, dport=6081) / GENEVE(vni=42, proto=0x6558) / inner(payload, seq)
    if kind == "gre4":
        return outer4 / GRE(proto=0x6558) / inner(payload, seq)
    if kind == "nvgre4":
        return outer4 / GRE(proto=0x6558, key_present=1, key=(42 << 8) | 7) / inner(payload, seq)
    raise SystemExit(f"unknown kind {kind}; allowed: {', '.join(KINDS)}")


def make(args):
    frames = []
    for index in range(args.count):
        payload = bytes((index * 7 + i) % 251 for i in range(args.payload))
        built = Ether(bytes(frame(args.kind, payload, 1000 + index * args.payload)))
        if args.bad_checksums:
            raw = bytearray(bytes(built))
            # Scramble every checksum scapy computed: tunnelpmd must recompute them all.
            for layer in (IP, UDP, TCP):
                current = built
                while current and not isinstance(current, Raw):
                    if isinstance(current, layer) and hasattr(current, "chksum"):
                        offset = len(bytes(built)) - len(bytes(current))
                        field = {IP: 10, UDP: 6, TCP: 16}[layer]
                        raw[offset + field] ^= 0x5A
                    current = current.payload
            built = Ether(bytes(raw))
        frames.append(built)
    wrpcap(args.out, frames)


def tcp_segments(packet):
    """The innermost TCP layer of a frame."""
    layers = []
    current = packet
    while current is not None and current.name != "NoPayload":
        if isinstance(current, TCP):
            layers.append(current)
        current = current.payload
    return layers[-1] if layers else None


def check(args):
    inputs = rdpcap(args.input)
    outputs = rdpcap(args.output)
    expected = b"".join(bytes(tcp_segments(p).payload) for p in inputs)
    segments = []
    for packet in outputs:
        if len(packet) > args.max_frame:
            raise SystemExit(f"frame of {len(packet)} bytes exceeds {args.max_frame}")
        tcp = tcp_segments(packet)
        if tcp is None:
            raise SystemExit(f"output frame without TCP: {packet.summary()}")
        segments.append((tcp.seq, bytes(tcp.payload)))
    segments.sort()
    joined = b"".join(data for _, data in segments)
    if joined != expected:
        raise SystemExit(f"payload differs: {len(joined)} bytes out, {len(expected)} in")
    # Each segment starts where the previous one ended (the inputs' sequence runs abut).
    for (seq, data), (next_seq, _) in zip(segments, segments[1:]):
        if seq + len(data) != next_seq:
            raise SystemExit(f"sequence gap: {seq} + {len(data)} != {next_seq}")
    print(f"ok: {len(inputs)} frames in, {len(outputs)} segments out, {len(joined)} payload bytes")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--kind", required=True, choices=KINDS)
    m.add_argument("--payload", type=int, default=20000)
    m.add_argument("--count", type=int, default=1)
    m.add_argument("--bad-checksums", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("input")
    c.add_argument("output")
    c.add_argument("--max-frame", type=int, default=1514)
    args = parser.parse_args()
    make(args) if args.command == "make" else check(args)


if __name__ == "__main__":
    sys.exit(main())
