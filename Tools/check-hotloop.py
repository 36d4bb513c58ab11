#!/usr/bin/env python3
"""Proves from the release binary's disassembly that the per-packet code stays clean.

Roots: every specialisation of Worker.run() (one per engine: io, mac, csum, and each wrapped in
receive coalescing, Coalescing<Engine>; rxonly, txonly, macswap, 5tswap, flowgen) and CsumEngine.process. From each
root it follows direct calls and tail calls (jumps out of a function, to another's first
instruction) into the binary's own functions, transitively, and fails if any reached function
calls or jumps into code without a symbol, or calls the Swift runtime for retain/release, allocation, dynamic casts,
metadata or witness-table lookups, exclusivity checks or lazy global initialisation.

Allowed, and why: swift_getWitnessTable fills a per-process cache the first time an error is
thrown (typed throws on the drop path), then is never called again; Worker.run allocates its burst arrays and copies its context once before
its loop, and the engines' constructors (Coalescing.init, Coalescer.init, STTReassembler.init, TxFrameGenerator.init, and
Segmenter.init, the scratch array of Swift GSO's payload views, through Egress.init) allocate their tables there (swift_slowAlloc / outlined copies: setup, not per packet); the verbose dumps
(PacketDump, CsumDump) build strings by design and run only when `set verbose` is on.
"""
import re
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/tunnelpmd"
# Twelve engines (io, mac, csum, each also wrapped in Coalescing; rxonly, txonly, txonly from a pcap, macswap,
# 5tswap, flowgen); the compiler may merge specialisations whose code is identical but for a
# constant into one symbol: the three coalescing wrappers may share one run loop that calls
# their process, poll and flush through pointers, so those are roots too.
engines = 10

listing = subprocess.run(
    f"objdump -d --no-show-raw-insn {binary} | swift demangle --simplified",
    shell=True, check=True, capture_output=True, text=True).stdout

# Each function's extent, from the symbol table: code past a symbol's size belongs to no
# named function (private-linkage code has no symbol), and a jump out of a function's extent
# is a tail call.
sizes = {}
for line in subprocess.run(["nm", "-S", "--defined-only", binary], check=True, capture_output=True,
                           text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) >= 4:
        sizes[int(parts[0], 16)] = int(parts[1], 16)

functions = {}      # address -> (name, [(target address, target name)])
current = None
extent = (0, 0)
header = re.compile(r"^0*([0-9a-f]+) <(.*)>:$")
instruction = re.compile(r"^\s+([0-9a-f]+):")
call = re.compile(r"\scall\s+([0-9a-f]+) <(.*)>")
jump = re.compile(r"\sj[a-z]+\s+([0-9a-f]+) <(.*)>$")
unnamed = []        # (caller address, target): calls and tail calls into code without a symbol
for line in listing.splitlines():
    match = header.match(line)
    if match:
        current = match.group(1)
        functions[current] = (match.group(2), [])
        start = int(current, 16)
        extent = (start, start + sizes[start]) if sizes.get(start) else (start, float("inf"))
        continue
    if current is None:
        continue
    match = instruction.match(line)
    if match and int(match.group(1), 16) >= extent[1]:
        current = None  # past the symbol's size: private code, attributed to no function
        continue
    match = call.search(line)
    if not match:
        match = jump.search(line)
        if not match or extent[0] <= int(match.group(1), 16) < extent[1]:
            continue  # a branch within the function
    target = match.group(1).lstrip("0")
    if "+0x" in match.group(2):
        unnamed.append((current, match.group(2)))
    else:
        functions[current][1].append((target, match.group(2)))

forbidden = re.compile(
    r"swift_(retain|release|allocObject|dynamicCast|getGenericMetadata|bridgeObject|beginAccess|"
    r"unknownObject|once|slowAlloc|allocBox)|^malloc|^calloc|^realloc")
setup_only = re.compile(r"swift_slowAlloc|swift_slowDealloc")
setup_function = re.compile(r"(Engine|Coalescing|Coalescer|STTReassembler)\.init\((context|options):\)|TxFrameGenerator\.init\(_:\)|Segmenter\.init\(headerPool:")
skipped = re.compile(r"PacketDump|CsumDump|outlined (init with copy|destroy|copy|retain|release) of|@plt$|__rte_panic")

roots = [address for address, (name, _) in functions.items()
         if name == "specialized Worker.run()" or name.startswith("CsumEngine.process(")
         or re.match(r"specialized Coalescing\.(process|poll|flush)\(", name)]
workers = [address for address in roots if functions[address][0].startswith("specialized Worker.run")]
if len(workers) < engines:
    sys.exit(f"check-hotloop: expected {engines} specialisations of Worker.run() in {binary}, found {len(workers)}")

problems = []
seen = set()
stack = list(roots)
while stack:
    address = stack.pop()
    if address in seen:
        continue
    seen.add(address)
    name, calls = functions[address]
    # Worker.run and the engines' constructors run once before the loop: they may allocate.
    is_root_worker = name.startswith("specialized Worker.run") or setup_function.search(name) is not None
    for target_address, target in calls:
        runtime = target.replace("@plt", "")
        if forbidden.search(runtime) and not (is_root_worker and setup_only.search(runtime)):
            problems.append(f"{name} calls {target}")
        if not skipped.search(target) and target_address in functions:
            stack.append(target_address)

# A reached function that calls or tail-calls code without a symbol: that code cannot be walked.
problems += [f"{functions[caller][0]} calls unnamed code at {target}" for caller, target in unnamed if caller in seen]

for problem in problems:
    print("check-hotloop:", problem)
verdict = "OK" if not problems else "FAILED"
print(f"check-hotloop: {len(workers)} Worker.run() specialisations and CsumEngine.process, "
      f"{len(seen)} functions reached, no retain/release/allocation/cast/lazy init per packet: {verdict}")
sys.exit(1 if problems else 0)
