#!/usr/bin/env bash
# Proves from the release binary's disassembly that the forwarding loops stay clean: every
# specialisation of Worker.run() (one per engine) must make no retain/release, no object
# allocation, no dynamic cast, no generic metadata lookup and no exclusivity check; the one
# swift_slowAlloc/swift_slowDealloc pair is the burst array, made once before the loop.
set -euo pipefail
binary=${1:-.build/release/tunnelpmd}
engines=${ENGINES:-2}
listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
objdump -d --no-show-raw-insn "$binary" | swift demangle --simplified |
  awk '/^[0-9a-f]+ <specialized Worker\.run\(\)>:/{p=1; print "FUNCTION " $0; next} p&&/^$/{p=0} p' >"$listing"
found=$(grep -c '^FUNCTION' "$listing" || true)
if [ "$found" -lt "$engines" ]; then
  echo "check-hotloop: expected $engines specialisations of Worker.run() in $binary, found $found" >&2
  exit 1
fi
status=0
forbidden='swift_retain|swift_release|swift_allocObject|swift_dynamicCast|swift_getGenericMetadata|swift_bridgeObject|swift_beginAccess|swift_unknownObject|swift_getWitnessTable'
if grep -E "call.*($forbidden)" "$listing"; then
  echo "check-hotloop: forbidden runtime calls in the forwarding loop (above)" >&2
  status=1
fi
allocations=$(grep -cE 'call.*swift_slowAlloc' "$listing" || true)
if [ "$allocations" -gt "$found" ]; then
  echo "check-hotloop: $allocations heap allocations in $found loops; only the burst array is allowed" >&2
  status=1
fi
calls=$(grep -cE '\scall' "$listing" || true)
echo "check-hotloop: $found Worker.run() specialisations, $calls calls, no retain/release/alloc/cast in the loop: $([ $status = 0 ] && echo OK || echo FAILED)"
exit $status
