#!/usr/bin/env python3
"""tunnelpmd's soak and fault campaign (`make soak`; a short form runs in `make test`).

One tunnelpmd (release binary, console mode, commands on a pipe) forwards with the csum engine,
Swift GSO on every port and GRO on every port, between six ports:

  0 net_ring0  <-> 1 net_ring1    a ring loop: idle until the starvation fault seeds it
  2 net_pcap2  <-> 3 net_pcap3    port 2 replays the hostile corpus (hostile.py) at each of
                                  its starts; what leaves goes to /dev/null
  4 vtap0 in <prefix>-a <-> 5 vtap0 in <prefix>-b
                                  two kernels joined only by VXLAN over these taps
                                  (Tools/netns/vxlan-taps.sh --dynamic: ARP and ND cross
                                  first); tap a takes no offloads (its kernel sends MTU
                                  segments: GRO coalesces them; super-frames from b are cut by
                                  Swift GSO), tap b takes UDP tunnel GSO

Overlay traffic runs all the time: TCP streams both ways (IPv4 a->b, IPv6 b->a), every byte
checked (Tools/netns/tcp-pattern.py), UDP datagrams (udp-pattern.py) and ping. A fault loop
goes round these kinds, one every SOAK_FAULT_GAP seconds:

  starve     stop; txonly on the ring loop only (set nbport 2, 16-segment frames) until the
             main pool is empty, the frames held in the rings; stop; csum on every port with
             the loop full, so the taps' receive side finds no mbufs, a few seconds; stop; an
             rxonly run drains the loop (every mbuf must be back); start
  malicious  stop; port stop 2 / port start 2 (the corpus again: fuzz seeds, mangled and
             hand-made hostile frames, through the csum engine with GRO); start; and frames
             sent from both kernels into the taps (hostile.py inject)
  tap        deletes one side's tap (the VXLAN device goes with it) and makes both again
             (vxlan-taps.sh retap): the port must go link down and reattach, and the overlay
             work again
  ports      stop; port stop all; port start all; start
  gso-gro    stop; set port 4 gro off, set gso segsz <random>; start; ...; stop; gro on,
             set port 4 gso off (super-frames to tap a are dropped as oversize); start; ...;
             stop; gso on, segsz 1514; start
  csum       stop; port stop 4 and 5; csum set <ip|udp|tcp|outer-ip|outer-udp> hw|sw on
             random picks (the settings drift: every combination must stay correct); ports
             and forwarding start
  sigusr1    SIGUSR1: the statistics so far are printed, forwarding goes on

Every SOAK_SAMPLE_SECONDS it records VmRSS, the mbuf pools' in-use counts (/tunnelpmd/pools),
the forward statistics (/tunnelpmd/stats: packets, and the accounting identity, approximate
while forwarding) and both kernels' nstat error counters. At every `stop` the identity

  rx - GRO segments merged + GRO super-frames + GSO segments - GSO inputs (+ frames txonly made)
     = tx + tx-dropped + engine-dropped

must hold exactly (what txonly made is counted by the ring PMD: enqueued - dequeued + dropped)
and no pool have mbufs out beyond the taps' receive reserves (but while the loop is full).

Pass: the process lives to the final quit and exits 0 with every mbuf back; RSS after warm-up
(the first sample after one round of every fault) grows less than SOAK_RSS_SLACK_KB plus 5%;
the identity exact at every stop; every pool full at the stops; both kernels' *CsumErrors
zero; every TCP stream byte-exact and each direction finished at least one; no UDP datagram
corrupted (lost ones are counted, faults drop them); every fault done (a tap reattached, a
burst arrived); after the faults a full overlay check (overlay-traffic.sh) passes.
Exit status 0 on PASS, 1 on FAIL, 2 when the soak could not start.

Environment: SOAK_SECONDS (600), SOAK_SAMPLE_SECONDS (60), SOAK_FAULT_GAP (6),
SOAK_BIN (.build/release/tunnelpmd), SOAK_TCP_BYTES (8000000), SOAK_SEED (12),
SOAK_RSS_SLACK_KB (16384), SOAK_GSO_SEGSZ_MIN (600), SOAK_STT_PORT (1), SOAK_FAULTS (every
kind, comma-separated), SOAK_KEEP (1: keep the work directory with tunnelpmd's output).
Everything it makes (namespaces, processes by pid, files) is removed at the end, also on
failure and on Ctrl-C.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NETNS = os.path.join(ROOT, "Tools/netns/vxlan-taps.sh")
TCP_PATTERN = os.path.join(ROOT, "Tools/netns/tcp-pattern.py")
UDP_PATTERN = os.path.join(ROOT, "Tools/netns/udp-pattern.py")
OVERLAY = os.path.join(ROOT, "Tools/netns/overlay-traffic.sh")
HOSTILE = os.path.join(HERE, "hostile.py")


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit(f"soak: {name} must be a number")


SECONDS = env_int("SOAK_SECONDS", 600)
SAMPLE = env_int("SOAK_SAMPLE_SECONDS", 60)
FAULT_GAP = env_int("SOAK_FAULT_GAP", 6)
TCP_BYTES = env_int("SOAK_TCP_BYTES", 8000000)
SEED = env_int("SOAK_SEED", 12)
RSS_SLACK_KB = env_int("SOAK_RSS_SLACK_KB", 16384)
KEEP = os.environ.get("SOAK_KEEP", "0") == "1"
BIN = os.environ.get("SOAK_BIN", os.path.join(ROOT, ".build/release/tunnelpmd"))
BURST = 32
STREAM_SECONDS = 240   # a TCP stream must finish within this (faults stall it for seconds)
# `set gso segsz` below a plain frame's size once split plain UDP datagrams (fixed; see the
# README's Soak section): sizes from SOAK_GSO_SEGSZ_MIN up keep checking it.
SEGSZ_MIN = env_int("SOAK_GSO_SEGSZ_MIN", 600)
# TCP to port 7471 (STT's) inside the overlay was once dropped as a nested tunnel (fixed): the
# streams start next to it, so even the short form opens a connection to 7471;
# SOAK_STT_PORT=0 skips it.
STT_PORT = os.environ.get("SOAK_STT_PORT", "1") == "1"
TAP_A, TAP_B = 4, 5
PORTS = 6
STREAMS = 6
ALL_FAULTS = ["starve", "malicious", "tap", "ports", "gso-gro", "csum", "sigusr1"]
FAULT_KINDS = [kind for kind in os.environ.get("SOAK_FAULTS", ",".join(ALL_FAULTS)).split(",") if kind]
if not FAULT_KINDS or any(kind not in ALL_FAULTS for kind in FAULT_KINDS):
    sys.exit(f"soak: SOAK_FAULTS takes a comma-separated list of {', '.join(ALL_FAULTS)}")
# Two taps, each holding at most two reads (64 KB + header in 2,048-byte buffers) in reserve.
TAP_RESERVE = 2 * 2 * (1 + (65535 + 24 + 2047) // 2048)
CSUM_NAMES = ["ip", "udp", "tcp", "outer-ip", "outer-udp"]


def now():
    return time.monotonic()


def say(text):
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", flush=True)


class SoakError(Exception):
    """The soak cannot go on (the process died, the console stopped answering)."""


class Output:
    """tunnelpmd's stdout+stderr, line by line, kept in memory and in a file."""

    def __init__(self, stream, path):
        self.lines = []
        self.cond = threading.Condition()
        self.file = open(path, "w")
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.file.write(line + "\n")
                self.file.flush()
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def wait_for(self, pattern, start, timeout):
        """Index of the first line from `start` matching `pattern` (a regex), or None."""
        regex = re.compile(pattern)
        deadline = now() + timeout
        index = start
        with self.cond:
            while True:
                while index < len(self.lines):
                    if regex.search(self.lines[index]):
                        return index
                    index += 1
                left = deadline - now()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(min(left, 0.5))

    def since(self, start, end=None):
        with self.cond:
            return self.lines[start:end]

    def count(self, pattern, start=0):
        regex = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines[start:] if regex.search(line))


class Telemetry:
    """A client of DPDK's telemetry socket (SOCK_SEQPACKET, one JSON answer per command)."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.lock = threading.Lock()

    def _connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.settimeout(10)
        sock.connect(self.path)
        sock.recv(1 << 16)
        self.sock = sock

    def query(self, command):
        with self.lock:
            for attempt in range(3):
                try:
                    if self.sock is None:
                        self._connect()
                    self.sock.send(command.encode())
                    answer = json.loads(self.sock.recv(1 << 22).decode())
                    return answer.get(command.split(",")[0])
                except (OSError, ValueError):
                    if self.sock:
                        self.sock.close()
                    self.sock = None
                    time.sleep(0.2 * (attempt + 1))
            return None

    def close(self):
        if self.sock:
            self.sock.close()


class Traffic:
    """Overlay traffic in background threads; each result recorded."""

    def __init__(self, soak):
        self.soak = soak
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.tcp = []     # (name, result text, ok)
        self.udp = {"runs": 0, "ok": 0, "missing": 0, "corrupt": 0, "other": 0}
        self.ping = {"sent": 0, "received": 0}
        self.connect_retries = 0
        self.port = 7469  # the second stream gets 7471 (see STT_PORT)
        self.threads = []
        self.procs = set()

    def next_port(self):
        with self.lock:
            self.port += 1
            if self.port > 60000:
                self.port = 7001
            if self.port == 7471 and not STT_PORT:
                self.port += 1
            return self.port

    def spawn(self, args, out):
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with self.lock:
            self.procs.add(proc)
        return proc

    def reap(self, proc, timeout):
        try:
            proc.wait(timeout=max(timeout, 0))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with self.lock:
            self.procs.discard(proc)

    def wait_listening(self, path, proc, timeout=30):
        deadline = now() + timeout
        while now() < deadline:
            with open(path) as f:
                if "LISTENING" in f.read():
                    return True
            if proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def tcp_loop(self, name, src, dst, address):
        workdir = self.soak.work
        failed_since = None
        while not self.stop.is_set():
            port = self.next_port()
            log = os.path.join(workdir, f"tcp-{name}.out")
            with open(log, "w") as out:
                receiver = self.spawn(["ip", "netns", "exec", dst, "python3", TCP_PATTERN, "recv", str(port),
                                       str(TCP_BYTES), "--bind", address], out)
            if not self.wait_listening(log, receiver):
                # The address is gone while the tap fault remakes the overlay device: try again.
                self.reap(receiver, 0)
                failed_since = failed_since or now()
                if now() - failed_since > 120:
                    with open(log) as f:
                        self._tcp_result(name, port, "receiver could not start for 120 s: " + f.read()[-200:], False)
                    failed_since = None
                time.sleep(0.5)
                continue
            failed_since = None
            sender_log = os.path.join(workdir, f"tcp-{name}.send")
            sender_args = ["ip", "netns", "exec", src, "python3", TCP_PATTERN, "send", address, str(port), str(TCP_BYTES)]
            with open(sender_log, "w") as out:
                sender = self.spawn(sender_args, out)
            # Generous: a fault may stall the flow (a deleted tap, GSO off, a starved pool) and
            # TCP's retransmission timer backs off to tens of seconds.
            deadline = now() + STREAM_SECONDS
            connects = 0
            while receiver.poll() is None and now() < deadline:
                if sender.poll() is not None and sender.returncode != 0:
                    with open(sender_log) as f:
                        said = f.read()
                    # The sender gives up connecting after 10 s: the overlay was down (a tap
                    # fault remakes its devices). No byte was sent yet: connect again.
                    if "sock.connect" in said and connects < 6:
                        connects += 1
                        with self.lock:
                            self.connect_retries += 1
                        self.reap(sender, 0)
                        with open(sender_log, "w") as out:
                            sender = self.spawn(sender_args, out)
                        continue
                    break
                time.sleep(0.2)
            timed_out = receiver.poll() is None
            sockets = self.sockets(port) if timed_out else ""
            self.reap(receiver, 0 if timed_out else 5)
            self.reap(sender, 10)
            with open(log) as f:
                text = f.read().strip().splitlines()
            with open(sender_log) as f:
                said = f.read().strip().splitlines()
            last = text[-1] if text else "no output"
            ok = last.startswith(f"OK {TCP_BYTES}")
            if not ok:
                last = (f"receiver still waiting after {STREAM_SECONDS} s" if timed_out else last) \
                    + f"; sender: {said[-1] if said else 'no output'}" + (f"; sockets: {sockets}" if sockets else "")
            self._tcp_result(name, port, last, ok)

    def sockets(self, port):
        """Both kernels' view of a stuck stream (its sockets, listeners included, the
        listen-drop and SYN counters, the overlay neighbours) and the taps' counters, for the
        report."""
        found = []
        for ns in (self.soak.ns_a, self.soak.ns_b):
            result = subprocess.run(["ip", "netns", "exec", ns, "ss", "-tanoei"], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
            lines = result.stdout.splitlines()
            for index, line in enumerate(lines):
                if f":{port} " in line or line.rstrip().endswith(f":{port}"):
                    detail = lines[index + 1].strip() if index + 1 < len(lines) and lines[index + 1].startswith(("\t", " ")) else ""
                    found.append(f"[{ns}] {' '.join(line.split())} | {detail}")
            counters = subprocess.run(["ip", "netns", "exec", ns, "nstat", "-az"], stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True).stdout.split("\n")
            wanted = [" ".join(c.split()[:2]) for c in counters
                      if any(k in c for k in ("ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "TcpExtSyncookies",
                                              "TcpActiveOpens", "TcpPassiveOpens", "TcpAttemptFails", "TcpOutRsts"))]
            neigh = subprocess.run(["ip", "-n", ns, "neigh"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True).stdout.replace("\n", "; ")
            found.append(f"[{ns}] {', '.join(wanted)}; neigh: {neigh}")
        for port_id in (TAP_A, TAP_B):
            taps = self.soak.tel.query(f"/tunnelpmd/taps,{port_id}") or {}
            found.append(f"[port {port_id}] " + ", ".join(f"{k}={v}" for k, v in taps.items()
                                                          if isinstance(v, int) and v and not k.endswith("_bytes")))
        return " || ".join(found)

    def _tcp_result(self, name, port, text, ok):
        with self.lock:
            self.tcp.append((name, port, text, ok))
        if not ok:
            say(f"TCP stream {name} port {port}: {text}")

    def udp_loop(self):
        flows = [(self.soak.ns_a, self.soak.ns_b, "10.98.0.2"), (self.soak.ns_b, self.soak.ns_a, "10.98.0.1"),
                 (self.soak.ns_a, self.soak.ns_b, "fd00:98::2"), (self.soak.ns_b, self.soak.ns_a, "fd00:98::1")]
        index = 0
        while not self.stop.is_set():
            src, dst, address = flows[index % len(flows)]
            index += 1
            port = self.next_port()
            log = os.path.join(self.soak.work, "udp.out")
            with open(log, "w") as out:
                receiver = self.spawn(["ip", "netns", "exec", dst, "python3", UDP_PATTERN, "recv", address, str(port),
                                       "32", "--seconds", "20"], out)
            if not self.wait_listening(log, receiver):
                self.reap(receiver, 0)
                continue
            sender = self.spawn(["ip", "netns", "exec", src, "python3", UDP_PATTERN, "send", address, str(port), "32"],
                                subprocess.DEVNULL)
            self.reap(sender, 30)
            self.reap(receiver, 25)
            with open(log) as f:
                text = f.read()
            with self.lock:
                self.udp["runs"] += 1
                if "OK 32" in text:
                    self.udp["ok"] += 1
                elif "MISMATCH" in text:
                    self.udp["corrupt"] += 1
                    say(f"UDP {src} -> {address}: {text.strip()}")
                elif "MISSING" in text:
                    self.udp["missing"] += 1
                else:
                    self.udp["other"] += 1
            self.stop.wait(2)

    def ping_loop(self):
        targets = [(self.soak.ns_a, "10.98.0.2"), (self.soak.ns_b, "fd00:98::1")]
        index = 0
        while not self.stop.is_set():
            ns, address = targets[index % 2]
            index += 1
            result = subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", "5", "-i", "0.2", "-W", "1", address],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            match = re.search(r"(\d+) packets transmitted, (\d+) received", result.stdout)
            if match:
                with self.lock:
                    self.ping["sent"] += int(match.group(1))
                    self.ping["received"] += int(match.group(2))
            self.stop.wait(1)

    def start(self):
        s = self.soak
        for target, args in [(self.tcp_loop, ("a->b IPv4", s.ns_a, s.ns_b, "10.98.0.2")),
                             (self.tcp_loop, ("b->a IPv6", s.ns_b, s.ns_a, "fd00:98::1")),
                             (self.udp_loop, ()), (self.ping_loop, ())]:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self, timeout):
        """Lets the streams in progress end (they should, the faults being over)."""
        self.stop.set()
        deadline = now() + timeout
        for thread in self.threads:
            thread.join(max(deadline - now(), 0))
        self.kill()
        for thread in self.threads:  # a stream cut short by the kill is recorded, as a failure
            thread.join(15)

    def kill(self):
        with self.lock:
            procs = list(self.procs)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


class Soak:
    def __init__(self):
        self.prefix = f"soak{os.getpid() % 100000}"
        self.ns_a, self.ns_b = f"{self.prefix}-a", f"{self.prefix}-b"
        self.work = tempfile.mkdtemp(prefix=f"{self.prefix}-")
        self.proc = None
        self.out = None
        self.tel = None
        self.traffic = None
        self.marks = 0
        self.failures = []
        self.notes = []
        self.faults = {kind: 0 for kind in FAULT_KINDS}
        self.fault_failures = {kind: 0 for kind in FAULT_KINDS}
        self.samples = []
        self.stops = 0
        self.identity_bad = []
        self.pool_bad = []
        self.forwarded = 0
        self.received = 0
        self.txonly_made = 0
        self.csum_state = {}
        self.rng = random.Random(SEED)
        self.corpus_count = 0
        self.rounds_done = 0
        self.warm_rss = None
        self.start_rss = None
        self.exit_status = None
        self.started = None
        self.starve_notes = []
        self.hostile_frames = 0
        self.csum_refusals = 0
        self.main_pool = None

    # ---------------------------------------------------------------- process and console

    def fail(self, text):
        say("FAIL: " + text)
        self.failures.append(text)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def command(self, *lines, timeout=60):
        """Sends console lines, then an unknown word whose error line says all were done."""
        if not self.alive():
            raise SoakError(f"tunnelpmd is gone (exit status {self.proc.poll()})")
        self.marks += 1
        marker = f"soakmark{self.marks}"
        start = self.out.mark()
        try:
            self.proc.stdin.write(("\n".join(lines) + f"\n{marker}\n").encode())
            self.proc.stdin.flush()
        except OSError as error:
            raise SoakError(f"console pipe: {error}")
        end = self.out.wait_for(re.escape(f"unknown command '{marker}'"), start, timeout)
        if end is None:
            raise SoakError(f"the console did not finish {list(lines)} within {timeout} s")
        return self.out.since(start, end)

    def start_binary(self):
        corpus = os.path.join(self.work, "hostile.pcap")
        made = subprocess.run([sys.executable, HOSTILE, "pcap", corpus, "--seed", str(SEED)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if made.returncode != 0:
            raise SoakError(f"hostile.py pcap: {made.stdout}")
        self.corpus_count = int(made.stdout.split()[-1])
        empty = os.path.join(self.work, "empty.pcap")
        subprocess.run([sys.executable, "-c", "import sys, struct; open(sys.argv[1], 'wb').write("
                        "struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))", empty], check=True)
        args = [BIN, "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", self.prefix,
                "-l", "0-1", "--log-level", "lib.eal:warning",
                "--vdev", "net_ring0", "--vdev", "net_ring1",
                "--vdev", f"net_pcap2,rx_pcap={corpus},tx_pcap=/dev/null",
                "--vdev", f"net_pcap3,rx_pcap={empty},tx_pcap=/dev/null",
                "--", "-i", "--forward-mode=csum", "--gso-ports=all", "--gro-ports=all", "--no-flush-rx",
                "--max-pkt-len=9018",
                "--vnet-tap", f"name=vtap0,netns={self.ns_a},offloads=none",
                "--vnet-tap", f"name=vtap0,netns={self.ns_b},offloads=tso,uso,tunnel,tunnel-csum"]
        say("starting " + " ".join(args))
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = Output(self.proc.stdout, os.path.join(self.work, "tunnelpmd.out"))
        self.command("show config fwd", timeout=120)
        self.tel = Telemetry(f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2")
        if self.tel.query("/tunnelpmd/pools") is None:
            raise SoakError("telemetry does not answer /tunnelpmd/pools")
        for port in (TAP_A, TAP_B):
            self.csum_state[port] = {name: "sw" for name in CSUM_NAMES}
        self.command("start")

    # ---------------------------------------------------------------- measurements

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def pools(self):
        answer = self.tel.query("/tunnelpmd/pools") or {}
        return {name: (entry["in_use"], entry["size"]) for name, entry in answer.items()}

    def statistics(self):
        """Totals over every port of the current (or last) run."""
        keys = ["rx_good_packets", "tx_good_packets", "tx_dropped", "engine_dropped", "gso_input_frames",
                "gso_output_segments", "gro_segments_merged", "gro_super_frames_out", "rx_mbuf_allocation_errors"]
        totals = {key: 0 for key in keys}
        for port in range(PORTS):
            stats = self.tel.query(f"/tunnelpmd/stats,{port}")
            if stats is None:
                raise SoakError(f"telemetry: no statistics for port {port}")
            for key in keys:
                totals[key] += int(stats.get(key, 0))
        return totals

    @staticmethod
    def balance(t, made=0):
        """Left side minus right side of the accounting identity."""
        left = (t["rx_good_packets"] - t["gro_segments_merged"] + t["gro_super_frames_out"]
                + t["gso_output_segments"] - t["gso_input_frames"] + made)
        right = t["tx_good_packets"] + t["tx_dropped"] + t["engine_dropped"]
        return left - right

    def tap_alloc_errors(self):
        total = 0
        for port in (TAP_A, TAP_B):
            taps = self.tel.query(f"/tunnelpmd/taps,{port}") or {}
            total += int(taps.get("rx_mbuf_allocation_errors", 0))
        return total

    def nstat(self, ns):
        result = subprocess.run(["ip", "netns", "exec", ns, "nstat", "-asz"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        counters = {}
        for line in result.stdout.splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                name = fields[0]
                if "CsumErrors" in name or name.endswith("InErrors") or name.endswith("HdrErrors") \
                        or name == "TcpInErrs" or name.endswith("InTruncatedPkts") or name.endswith("RcvbufErrors"):
                    counters[name] = int(fields[1])
        return counters

    # ---------------------------------------------------------------- stop points

    def pools_busy(self):
        """Pools with mbufs out while nothing forwards, beyond the vnet taps' receive reserves
        (each tap keeps up to two reads' worth of mbufs from the main pool for its next read,
        returned when it closes)."""
        busy = {}
        for name, (used, _) in self.pools().items():
            if used > (TAP_RESERVE if name == self.main_pool else 0):
                busy[name] = used
        return busy

    def ring_occupancy(self):
        """Frames in the two rings: what their PMD enqueued minus what it dequeued."""
        total = 0
        for port in (0, 1):
            stats = self.tel.query(f"/ethdev/stats,{port}") or {}
            total += int(stats.get("opackets", 0)) - int(stats.get("ipackets", 0))
        return total

    def stop_point(self, why, made=0, pools_full=True):
        """`stop`, then the identity exact over the run that ended, and the pools full."""
        self.command("stop")
        return self.record_stop(why, self.statistics(), made, pools_full)

    def record_stop(self, why, totals, made=0, pools_full=True):
        self.stops += 1
        self.forwarded += totals["tx_good_packets"]
        self.received += totals["rx_good_packets"]
        off = self.balance(totals, made)
        if off != 0:
            detail = f"stop {self.stops} ({why}): identity off by {off}: {totals} made={made}"
            self.identity_bad.append(detail)
            self.fail(detail)
        if pools_full:
            busy = self.pools_busy()
            if busy:
                detail = f"stop {self.stops} ({why}): mbufs in use with forwarding stopped: {busy}"
                self.pool_bad.append(detail)
                self.fail(detail)
        return totals

    # ---------------------------------------------------------------- faults

    def fault_starve(self):
        """txonly on the ring loop only (`set nbport 2`, 16-segment frames) until the main pool
        is empty: the frames sit in the two rings. Then csum on every port with the loop still
        full, so the taps' receive side finds no mbufs; then an rxonly run drains the loop and
        every mbuf must be back."""
        self.stop_point("before starve")
        _, size = self.pools()[self.main_pool]
        errors_before = self.tap_alloc_errors()
        segments = 16
        before = self.ring_occupancy()
        self.command("set nbport 2", "set fwd txonly", "set txpkts " + ",".join(["64"] * segments), "start")
        deadline = now() + 10
        while now() < deadline and size - self.pools()[self.main_pool][0] > 2 * BURST * segments:
            time.sleep(0.1)
        self.command("stop")
        totals = self.statistics()
        # txonly makes its frames: what it made is what the loop gained plus what was dropped,
        # and the ring PMD's own counters (enqueued - dequeued) say what the loop gained.
        frames = self.ring_occupancy() - before
        made = frames + totals["tx_dropped"] + totals["engine_dropped"]
        self.record_stop("starve fill (txonly)", totals, made=made, pools_full=False)
        self.txonly_made += made
        self.command("set nbport 6", "set fwd csum", "set txpkts 64", "start")
        lowest = size
        deadline = now() + 8
        starved = 0
        while now() < deadline:
            used = self.pools()[self.main_pool][0]
            lowest = min(lowest, size - used)
            starved = self.tap_alloc_errors() - errors_before
            if starved > 0 and now() > deadline - 5:
                break
            time.sleep(0.25)
        self.stop_point("starved", pools_full=False)
        # Drain the ring loop: rxonly frees what it receives (its run is outside the identity).
        self.command("set fwd rxonly", "start")
        deadline = now() + 30
        while now() < deadline and self.pools()[self.main_pool][0] > TAP_RESERVE:
            time.sleep(0.2)
        self.command("stop", "set fwd csum")
        busy = self.pools_busy()
        ok = True
        if busy:
            self.pool_bad.append(f"after the drain: {busy}")
            self.fail(f"starve: after draining the ring loop, mbufs still in use: {busy}")
            ok = False
        self.command("start")
        say(f"starve: {frames} frames of {segments} segments in the ring loop, pool {size}, least free {lowest}, "
            f"tap rx allocation errors +{starved}")
        self.starve_notes.append((lowest, starved))
        return ok

    def fault_malicious(self):
        self.stop_point("before malicious")
        self.command("port stop 2", "port start 2", "start")
        sent = 0
        for ns in (self.ns_a, self.ns_b):
            result = subprocess.run(["ip", "netns", "exec", ns, "python3", HOSTILE, "inject", "vtap0", "--seed",
                                     str(self.rng.randrange(1 << 30))],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if result.returncode == 0 and result.stdout.strip().isdigit():
                sent += int(result.stdout.strip())
            else:
                self.notes.append(f"hostile inject in {ns}: {result.stdout.strip()[-200:]}")
        deadline = now() + 60
        received = 0
        while now() < deadline:
            stats = self.tel.query("/tunnelpmd/stats,2") or {}
            received = int(stats.get("rx_good_packets", 0))
            if received >= self.corpus_count:
                break
            time.sleep(0.2)
        self.hostile_frames += received + sent
        if received != self.corpus_count:
            self.fail(f"malicious: port 2 received {received} of the corpus' {self.corpus_count} frames")
            return False
        return True

    def retap_side(self, side):
        result = subprocess.run(["sh", NETNS, "retap", self.prefix, side, "--dynamic"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        return result.returncode == 0, result.stdout

    def overlay_ping(self, timeout):
        deadline = now() + timeout
        while now() < deadline:
            if subprocess.run(["ip", "netns", "exec", self.ns_a, "ping", "-c", "1", "-W", "1", "10.98.0.2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                return True
        return False

    def fault_tap(self):
        side = "ab"[self.faults["tap"] % 2]
        port = TAP_A if side == "a" else TAP_B
        ns = self.ns_a if side == "a" else self.ns_b
        start = self.out.mark()
        subprocess.run(["ip", "-n", ns, "link", "del", "vtap0"], check=False)
        down = self.out.wait_for(rf"Port {port}: link down", start, 20)
        ok, text = self.retap_side(side)
        if not ok:
            self.fail(f"tap: vxlan-taps.sh retap {side}: {text}")
            return False
        up = self.out.wait_for(rf"Port {port}: link up", start, 40)
        if down is None or up is None:
            self.fail(f"tap: port {port} (vtap0 in {ns}) " + ("never said link down" if down is None
                                                               else "did not reattach within 40 s"))
            return False
        if not self.overlay_ping(60):
            self.fail(f"tap: the overlay did not carry a ping within 60 s of port {port} reattaching")
            return False
        return True

    def fault_ports(self):
        self.stop_point("before ports")
        self.command("port stop all", "port start all", "start")
        return True

    def fault_gso_gro(self):
        segsz = self.rng.randrange(SEGSZ_MIN, 9217)
        self.stop_point("before gso-gro")
        self.command(f"set port {TAP_A} gro off", f"set gso segsz {segsz}", "start")
        time.sleep(2)
        self.stop_point("gro off")
        self.command(f"set port {TAP_A} gro on", f"set port {TAP_A} gso off", "start")
        time.sleep(1)
        self.stop_point("gso off")
        self.command(f"set port {TAP_A} gso on", "set gso segsz 1514", "start")
        return True

    def fault_csum(self):
        self.stop_point("before csum")
        lines = [f"port stop {TAP_A}", f"port stop {TAP_B}"]
        for _ in range(3):
            port = self.rng.choice([TAP_A, TAP_B])
            name = self.rng.choice(CSUM_NAMES)
            where = "hw" if self.csum_state[port][name] == "sw" else "sw"
            lines.append(f"csum set {name} {where} {port}")
        output = self.command(*lines)
        for port in (TAP_A, TAP_B):
            shown = self.command(f"csum show {port}")
            for line in shown:
                match = re.match(r"(IP|UDP|TCP|Outer-Ip|Outer-Udp)\s+checksum offload is (hw|sw)", line)
                if match:
                    self.csum_state[port][match.group(1).lower()] = match.group(2)
        refused = [line for line in output if line.startswith("csum set:")]
        self.csum_refusals += len(refused)
        self.command(f"port start {TAP_A}", f"port start {TAP_B}", "start")
        return True

    def fault_sigusr1(self):
        start = self.out.mark()
        os.kill(self.proc.pid, signal.SIGUSR1)
        if self.out.wait_for(r"Accumulated forward statistics", start, 20) is None:
            self.fail("sigusr1: no statistics printed within 20 s")
            return False
        return True

    # ---------------------------------------------------------------- samples

    def sample(self, label):
        rss = self.rss_kb()
        pools = self.pools()
        totals = self.statistics()
        errors = {}
        for ns in (self.ns_a, self.ns_b):
            for name, value in self.nstat(ns).items():
                if value:
                    errors[f"{ns[-1]}:{name}"] = value
        entry = {"t": round(now() - self.started), "label": label, "rss_kb": rss,
                 "in_use": {name: used for name, (used, _) in pools.items()},
                 "forwarded": self.forwarded + totals["tx_good_packets"],
                 "live_balance": self.balance(totals), "kernel_errors": errors,
                 "faults": sum(self.faults.values())}
        self.samples.append(entry)
        say(f"sample t={entry['t']}s rss={rss} kB in-use={entry['in_use']} forwarded={entry['forwarded']} "
            f"live-balance={entry['live_balance']} faults={entry['faults']} kernel-errors={errors or 'none'}")
        if not self.alive():
            raise SoakError("tunnelpmd died")

    # ---------------------------------------------------------------- the run

    def run(self):
        say(f"prefix {self.prefix}, {SECONDS} s, a sample every {SAMPLE} s, a fault every {FAULT_GAP} s, "
            f"work directory {self.work}")
        up = subprocess.run(["sh", NETNS, "up", self.prefix, "--dynamic"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
        if up.returncode != 0:
            raise SoakError(f"topology: {up.stdout}")
        self.start_binary()
        self.main_pool = next(name for name in self.pools() if not name.endswith(("_ind", "_hdr")))
        if not self.overlay_ping(60):
            raise SoakError("the overlay does not carry a ping (before any fault)")
        self.started = now()
        self.start_rss = self.rss_kb()
        self.traffic = Traffic(self)
        self.traffic.start()
        end = self.started + SECONDS
        next_sample = self.started + SAMPLE
        next_fault = self.started + FAULT_GAP
        kind_index = 0
        self.sample("start")
        while now() < end:
            if not self.alive():
                raise SoakError(f"tunnelpmd died (exit status {self.proc.poll()})")
            if now() >= next_sample:
                self.sample("warm-up" if self.warm_rss is None else "run")
                if self.warm_rss is None and self.rounds_done >= 1:
                    self.warm_rss = self.samples[-1]["rss_kb"]
                    self.samples[-1]["label"] = "warm"
                next_sample += SAMPLE
            if now() >= next_fault:
                kind = FAULT_KINDS[kind_index % len(FAULT_KINDS)]
                kind_index += 1
                say(f"fault {kind}")
                ok = getattr(self, "fault_" + kind.replace("-", "_"))()
                self.faults[kind] += 1
                if not ok:
                    self.fault_failures[kind] += 1
                if kind_index % len(FAULT_KINDS) == 0:
                    self.rounds_done += 1
                next_fault = now() + FAULT_GAP
            time.sleep(min(0.5, max(0.0, min(next_sample, next_fault, end) - now())))
        self.duration = now() - self.started
        say("faults over; letting the streams in progress finish")
        self.traffic.finish(STREAM_SECONDS + 30)
        self.sample("end")
        if self.warm_rss is None:
            self.notes.append("no sample after a whole round of faults: RSS judged from the first sample")
            self.warm_rss = self.samples[1]["rss_kb"] if len(self.samples) > 1 else self.start_rss
        say("overlay check (overlay-traffic.sh) after the faults")
        check = subprocess.run(["sh", OVERLAY, self.prefix, "2000000", "32"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        self.overlay_result = check.stdout
        if check.returncode != 0:
            self.fail("overlay check after the faults: " + " | ".join(
                line for line in check.stdout.splitlines() if line.startswith("FAIL")))
        self.stop_point("final")
        self.end_rss = self.rss_kb()
        start = self.out.mark()
        self.proc.stdin.write(b"quit\n")
        self.proc.stdin.flush()
        try:
            self.exit_status = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("tunnelpmd did not exit within 60 s of quit")
            self.proc.kill()
            self.exit_status = self.proc.wait()
        self.out.thread.join(10)
        tail = self.out.since(start)
        if self.exit_status != 0:
            self.fail(f"tunnelpmd exit status {self.exit_status}")
        back = [line for line in tail if line.startswith("Mempool ")]
        if len(back) < 3 or any("not back" in line for line in back):
            self.fail("mempool report at exit: " + ("; ".join(back) or "missing"))
        self.mempool_report = back

    # ---------------------------------------------------------------- judgement

    def judge(self):
        tcp = self.traffic.tcp if self.traffic else []
        bad_tcp = [t for t in tcp if not t[3]]
        for name, port, text, _ in bad_tcp:
            self.fail(f"TCP stream {name} (port {port}): {text}")
        for direction in ("a->b IPv4", "b->a IPv6"):
            if not any(t[0] == direction and t[3] for t in tcp):
                self.fail(f"no TCP stream {direction} finished")
        if self.traffic and self.traffic.udp["corrupt"]:
            self.fail(f"{self.traffic.udp['corrupt']} UDP runs saw a corrupted datagram")
        csum_errors = {}
        for ns in (self.ns_a, self.ns_b):
            for name, value in self.nstat(ns).items():
                if "CsumErrors" in name and value:
                    csum_errors[f"{ns}:{name}"] = value
        if csum_errors:
            self.fail(f"kernel checksum errors: {csum_errors}")
        self.kernel_errors = self.samples[-1]["kernel_errors"] if self.samples else {}
        growth = (self.end_rss or 0) - (self.warm_rss or 0)
        bound = RSS_SLACK_KB + (self.warm_rss or 0) // 20
        if self.warm_rss and self.end_rss and growth > bound:
            self.fail(f"RSS grew {growth} kB after warm-up ({self.warm_rss} -> {self.end_rss} kB; bound {bound} kB)")
        self.rss_bound = bound
        for kind, count in self.fault_failures.items():
            if count:
                self.fail(f"{count} of {self.faults[kind]} {kind} faults failed")
        for kind in FAULT_KINDS:
            if self.faults[kind] == 0:
                self.notes.append(f"fault kind {kind} never ran (SOAK_SECONDS too short for a whole round)")

    def summary(self):
        tcp = self.traffic.tcp if self.traffic else []
        ok_streams = sum(1 for t in tcp if t[3])
        udp = self.traffic.udp if self.traffic else {}
        ping = self.traffic.ping if self.traffic else {}
        rows = [
            ("duration", f"{getattr(self, 'duration', 0):.0f} s of faults and traffic (SOAK_SECONDS={SECONDS})"),
            ("packets forwarded", f"{self.forwarded} tx ({self.received} rx) over {self.stops} stop points"),
            ("faults injected", ", ".join(f"{kind} {count}" for kind, count in self.faults.items())
             + f" (total {sum(self.faults.values())})"),
            ("hostile frames", f"{self.hostile_frames} (corpus of {self.corpus_count} per replay, plus kernel-side injections)"),
            ("starvation", "; ".join(f"least free {low}, tap rx alloc errors +{err}" for low, err in self.starve_notes) or "-"),
            ("txonly frames", f"{self.txonly_made} made by the starvation fault (in the identity of their runs)"),
            ("csum refusals", f"{self.csum_refusals} (a setting a port does not offer)"),
            ("RSS", f"start {self.start_rss} kB, after warm-up {self.warm_rss} kB, end {getattr(self, 'end_rss', None)} kB"
                    f" (bound on growth {getattr(self, 'rss_bound', '-')} kB)"),
            ("pool in-use", "; ".join(f"t={s['t']} {s['in_use']}" for s in self.samples)),
            ("identity", "exact at every stop" if not self.identity_bad else f"{len(self.identity_bad)} stops off"),
            ("TCP streams", f"{ok_streams} of {len(tcp)} byte-exact ({TCP_BYTES} bytes each); senders that "
                            f"connected again after 10 s without the overlay: "
                            f"{self.traffic.connect_retries if self.traffic else 0}"),
            ("UDP runs", f"{udp.get('runs', 0)}: {udp.get('ok', 0)} complete, {udp.get('missing', 0)} with losses, "
                         f"{udp.get('corrupt', 0)} corrupted"),
            ("ping", f"{ping.get('received', 0)} of {ping.get('sent', 0)} answered"),
            ("kernel errors", f"{getattr(self, 'kernel_errors', {}) or 'none'}"),
            ("exit", f"status {self.exit_status}; " + "; ".join(getattr(self, "mempool_report", []))),
        ]
        width = max(len(name) for name, _ in rows)
        print("\n==================== soak summary ====================")
        for name, value in rows:
            print(f"{name.ljust(width)}  {value}")
        for note in self.notes:
            print(f"note: {note}")
        for text in self.failures:
            print(f"FAIL: {text}")
        print("RESULT: " + ("PASS" if not self.failures else "FAIL"))

    # ---------------------------------------------------------------- cleanup

    def cleanup(self):
        if self.traffic:
            self.traffic.stop.set()
            self.traffic.kill()
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tel:
            self.tel.close()
        subprocess.run(["sh", NETNS, "down", self.prefix], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.failures and self.out:
            print("---- last 60 lines of tunnelpmd's output ----")
            for line in self.out.since(max(0, self.out.mark() - 60)):
                print(line)
        if KEEP:
            print(f"work directory kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def main():
    if os.geteuid() != 0:
        print("soak: needs root (network namespaces, taps)", file=sys.stderr)
        return 2
    if not os.path.exists("/dev/net/tun"):
        print("soak: SKIP: no /dev/net/tun (the kernel tests skip too)")
        return 0
    if not os.access(BIN, os.X_OK):
        print(f"soak: no binary at {BIN} (make release)", file=sys.stderr)
        return 2
    soak = Soak()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    status = 1
    try:
        soak.run()
        soak.judge()
        soak.summary()
        status = 0 if not soak.failures else 1
    except SoakError as error:
        soak.fail(f"soak stopped: {error}")
        soak.summary()
    except KeyboardInterrupt:
        soak.fail("interrupted")
        status = 130
    except Exception as error:  # a driver bug: still say what was seen, and clean up
        import traceback
        traceback.print_exc()
        soak.fail(f"driver error: {error!r}")
        soak.summary()
    finally:
        soak.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
