#!/usr/bin/env bash
# TCP throughput of a kernel flow over VXLAN between two network namespaces (Tools/netns/
# vxlan-taps.sh), through:
#   relay  - tap-relay.c: frames and virtio-net headers copied unchanged (the ceiling)
#   case1  - tunnelpmd, csum engine, both taps with UDP tunnel GSO: the hardware plan
#   case2  - tunnelpmd, the egress tap without tunnel offloads: Swift GSO (software plan)
# and the coalescing case (GRO=0 leaves it out): tap a takes no offloads, so kernel a sends
# MTU-sized segments, tap b takes UDP tunnel GSO:
#   relay-seg - tap-relay passing those segments to b unchanged
#   linux-gro - the same with tap b attached with IFF_NAPI: the kernel's GRO on tap input
#   case3     - tunnelpmd --gro-ports=0: coalesced into tunnel super-frames for b
# alternated for ROUNDS rounds in one run; iperf3 for SECONDS_PER_RUN seconds each, on every
# underlay (IPv4 and IPv6, UDP checksum on and off; UNDERLAYS picks some, e.g. "4 6-nocsum"),
# with dynamic neighbour resolution (ARP and ND cross the overlay first, as in a real
# deployment; NEIGHBOURS=static sets them statically, to compare with builds that predate it). Prints each Gbit/s, the medians and the ratios to the relay. Traffic stays
# inside the two namespaces.
set -euo pipefail
binary=${1:-.build/release/tunnelpmd}
rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_RUN:-5}
prefix=tpmdbench$$
root=$(cd "$(dirname "$0")/../.." && pwd)
topology="$root/Tools/netns/vxlan-taps.sh"
relay="$root/.build/tap-relay"
command -v iperf3 >/dev/null || { echo "kernel-vxlan.sh: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }
gcc -O2 -Wall -o "$relay" "$root/Tools/bench/kernel-vxlan/tap-relay.c"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sh "$topology" down "$prefix" >/dev/null 2>&1 || true
}
trap cleanup EXIT

all=0x1e7    # CSUM | TSO4 | TSO6 | USO4 | USO6 | UDP_TUNNEL_GSO | UDP_TUNNEL_GSO_CSUM
eal=(--no-huge -m 1024 --no-pci --no-shconf --file-prefix "$prefix" -l 0-1 --log-level lib.eal:warning)
taps() {  # offloads of tap a, of tap b
  echo --vnet-tap "name=vtap0,netns=$prefix-a,offloads=$1" --vnet-tap "name=vtap0,netns=$prefix-b,offloads=$2"
}

# One iperf3 run a -> b over the overlay; prints Gbit/s received.
flow() {
  ip netns exec "$prefix-b" iperf3 -s -1 -B 10.98.0.2 -p 5301 >/dev/null 2>&1 &
  local server=$!
  pids+=("$server")
  sleep 0.5
  ip netns exec "$prefix-a" iperf3 -c 10.98.0.2 -p 5301 -t "$seconds" -J 2>/dev/null |
    python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' ||
    echo nan
  wait "$server" 2>/dev/null || true
}

with_relay() {  # [offload bits a,b] [napi-b]
  "$relay" "$prefix-a" vtap0 "$prefix-b" vtap0 "${1:-$all}" 600 ${2:-} >/dev/null &
  local pid=$!
  pids+=("$pid")
  sleep 0.5
  flow
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

with_tunnelpmd() {  # tap offloads a, b; extra options
  local log
  log=$(mktemp)
  # shellcheck disable=SC2046
  "$binary" "${eal[@]}" -- --forward-mode=csum --idle-sleep-us="${IDLE_SLEEP_US:-20}" $(taps "$1" "$2") "${@:3}" >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do grep -q "Forwarding until" "$log" && break; sleep 0.1; done
  flow
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
}

median() { printf "%s\n" "$@" | grep -v nan | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summary=()
for underlay in ${UNDERLAYS:-4 4-nocsum 6 6-nocsum}; do
  case $underlay in
    4) flags=(); name="IPv4 udpcsum" ;;
    4-nocsum) flags=(--noudpcsum); name="IPv4 noudpcsum" ;;
    6) flags=(--ipv6); name="IPv6 udpcsum" ;;
    6-nocsum) flags=(--ipv6 --noudpcsum); name="IPv6 udp6zerocsumtx/rx" ;;
    *) echo "kernel-vxlan.sh: unknown underlay '$underlay' (4, 4-nocsum, 6, 6-nocsum)" >&2; exit 2 ;;
  esac
  neighbours=${NEIGHBOURS:-dynamic}
  case $neighbours in
    dynamic) flags+=(--dynamic) ;;
    static) ;;
    *) echo "kernel-vxlan.sh: NEIGHBOURS must be dynamic or static, not '$neighbours'" >&2; exit 2 ;;
  esac
  sh "$topology" up "$prefix" "${flags[@]}" >/dev/null
  echo "kernel TCP over VXLAN ($name underlay, $neighbours neighbours) between two namespaces; $rounds rounds of ${seconds}s"
  printf "%-6s %12s %14s %14s\n" round "relay Gbit/s" "case1 Gbit/s" "case2 Gbit/s"
  r=(); c1=(); c2=()
  for round in $(seq 1 "$rounds"); do
    a=$(with_relay)
    b=$(with_tunnelpmd tso,uso,tunnel,tunnel-csum tso,uso,tunnel,tunnel-csum)
    c=$(with_tunnelpmd tso,uso,tunnel,tunnel-csum tso,uso)
    r+=("$a"); c1+=("$b"); c2+=("$c")
    printf "%-6s %12s %14s %14s\n" "$round" "$a" "$b" "$c"
  done
  mr=$(median "${r[@]}"); m1=$(median "${c1[@]}"); m2=$(median "${c2[@]}")
  echo "median Gbit/s: relay $mr, case1 (hardware plan) $m1, case2 (Swift GSO) $m2"
  line=$(awk -v n="$name" -v r="$mr" -v a="$m1" -v b="$m2" 'BEGIN { printf "%-24s relay %6.2f  case1 %6.2f (ratio %.2f, target >= 0.8)  case2 %6.2f (ratio %.2f)", n, r, a, a / r, b, b / r }')
  echo "$line"
  summary+=("$line")
  if [ "${GRO:-1}" != 0 ]; then
    echo "coalescing: tap a sends segments (no offloads), tap b takes tunnel GSO"
    printf "%-6s %16s %16s %16s\n" round "relay-seg Gbit/s" "linux-gro Gbit/s" "case3 Gbit/s"
    s=(); l=(); g=()
    for round in $(seq 1 "$rounds"); do
      a=$(with_relay "0,$all")
      b=$(with_relay "0,$all" napi-b)
      c=$(with_tunnelpmd none tso,uso,tunnel,tunnel-csum --gro-ports=0)
      s+=("$a"); l+=("$b"); g+=("$c")
      printf "%-6s %16s %16s %16s\n" "$round" "$a" "$b" "$c"
    done
    ms=$(median "${s[@]}"); ml=$(median "${l[@]}"); mg=$(median "${g[@]}")
    line=$(awk -v n="$name" -v r="$ms" -v l="$ml" -v g="$mg" 'BEGIN { printf "%-24s relay-seg %6.2f  linux-gro %6.2f (ratio %.2f)  case3 GRO %6.2f (ratio %.2f, target >= 2)", n, r, l, l / r, g, g / r }')
    echo "$line"
    summary+=("$line")
  fi
  sh "$topology" down "$prefix" >/dev/null
done
echo "summary (medians, Gbit/s):"
printf "  %s\n" "${summary[@]}"
