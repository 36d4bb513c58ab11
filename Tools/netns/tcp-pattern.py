#!/usr/bin/env python3
"""A TCP flow whose every byte is checked: byte i of the stream is i % 251.

  tcp-pattern.py recv <port> <bytes> [--bind ADDR]   accept one connection, read and check
  tcp-pattern.py send <host> <port> <bytes>           connect (retrying up to 10 s), write

The receiver prints "OK <bytes> <seconds>" and exits 0 when all bytes arrived intact, or
"MISMATCH at <offset>" / "SHORT <bytes>" and exits 1. Run each side with `ip netns exec`.
"""
import socket
import sys
import time

PERIOD = 251
CHUNK = 1 << 16
BLOCK = bytes(i % PERIOD for i in range(PERIOD + CHUNK * 4))


def recv(port, total, bind):
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((bind, port))
    server.listen(1)
    print("LISTENING", flush=True)
    conn, _ = server.accept()
    start = time.monotonic()
    offset = 0
    view = memoryview(BLOCK)
    buffer = bytearray(CHUNK * 4)
    while offset < total:
        n = conn.recv_into(buffer)
        if n == 0:
            break
        phase = offset % PERIOD
        if buffer[:n] != view[phase:phase + n]:
            for i in range(n):
                if buffer[i] != (offset + i) % PERIOD:
                    print(f"MISMATCH at {offset + i}", flush=True)
                    return 1
        offset += n
    seconds = time.monotonic() - start
    if offset != total:
        print(f"SHORT {offset}", flush=True)
        return 1
    conn.sendall(b"K")  # tells the sender everything arrived
    print(f"OK {offset} {seconds:.3f}", flush=True)
    return 0


def send(host, port, total):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    deadline = time.monotonic() + 10
    while True:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.connect((host, port))
            break
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    offset = 0
    view = memoryview(BLOCK)
    while offset < total:
        phase = offset % PERIOD
        n = min(CHUNK * 4, total - offset)
        sock.sendall(view[phase:phase + n])
        offset += n
    sock.shutdown(socket.SHUT_WR)
    ack = sock.recv(1)
    print(f"SENT {offset} ack={ack!r}", flush=True)
    return 0 if ack == b"K" else 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "recv":
        bind = argv[5] if len(argv) >= 6 and argv[4] == "--bind" else "0.0.0.0"
        return recv(int(argv[2]), int(argv[3]), bind)
    if len(argv) == 5 and argv[1] == "send":
        return send(argv[2], int(argv[3]), int(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
