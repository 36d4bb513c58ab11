#!/usr/bin/env python3
"""UDP datagrams whose every byte is checked, in sizes that cover the paths a tunnel meets:
tiny, MTU-sized, and larger than the overlay MTU (the kernel fragments them inside the tunnel).

  udp-pattern.py recv <bind-addr> <port> <count> [--seconds S]   read and check datagrams
  udp-pattern.py send <host> <port> <count>                      send them, 2 ms apart

Datagram i has SIZES[i % len(SIZES)] bytes: a 4-byte big-endian index, then byte j = (i + j) % 251.
The receiver prints "OK <count>" and exits 0 when every index arrived intact, or
"MISSING <n>" / "MISMATCH <index>" and exits 1. It gives up S seconds (default 20) after start.
"""
import socket
import struct
import sys
import time

SIZES = [4, 18, 100, 512, 1200, 1400, 3000, 9000]


def datagram(index):
    size = SIZES[index % len(SIZES)]
    body = bytes((index + j) % 251 for j in range(4, size))
    return struct.pack("!I", index) + body


def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def recv(bind, port, count, seconds):
    sock = socket.socket(family(bind), socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind((bind, port))
    print("LISTENING", flush=True)
    deadline = time.monotonic() + seconds
    seen = set()
    while len(seen) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        if len(data) < 4:
            print(f"MISMATCH short {len(data)}", flush=True)
            return 1
        index = struct.unpack("!I", data[:4])[0]
        if index >= count or data != datagram(index):
            print(f"MISMATCH {index}", flush=True)
            return 1
        seen.add(index)
    if len(seen) != count:
        sizes = sorted({SIZES[i % len(SIZES)] for i in range(count) if i not in seen})
        print(f"MISSING {count - len(seen)} (sizes {sizes})", flush=True)
        return 1
    print(f"OK {count}", flush=True)
    return 0


def send(host, port, count):
    sock = socket.socket(family(host), socket.SOCK_DGRAM)
    for index in range(count):
        sock.sendto(datagram(index), (host, port))
        time.sleep(0.002)
    print(f"SENT {count}", flush=True)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "recv":
        seconds = float(argv[6]) if len(argv) >= 7 and argv[5] == "--seconds" else 20.0
        return recv(argv[2], int(argv[3]), int(argv[4]), seconds)
    if len(argv) == 5 and argv[1] == "send":
        return send(argv[2], int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
