#!/usr/bin/env bash
# io forwarding: tunnelpmd vs dpdk-testpmd on the same two net_null ports with the same EAL
# options, alternated for ROUNDS rounds in one run. Each run forwards for SECONDS seconds with
# statistics every second; its rate is the median of the per-second Rx-pps sums over both ports
# (the first sample, taken while starting, is dropped). Prints each Mpps and the median ratio.
set -euo pipefail
binary=${1:-.build/release/tunnelpmd}
rounds=${ROUNDS:-7}
seconds=${SECONDS_PER_RUN:-6}
testpmd=$(command -v dpdk-testpmd || true)
[ -n "$testpmd" ] || { echo "io.sh: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }

eal=(--no-huge -m 512 --no-pci --no-shconf -l 0-1 --vdev net_null0 --vdev net_null1 --log-level lib.eal:warning)
app=(--stats-period 1 --total-num-mbufs=8192 --burst=32 --rxd=1024 --txd=1024)

# Median of the per-sample sums of Rx-pps over the ports, in Mpps.
rate() {
  awk -v ports=2 '/Rx-pps:/ { sum += $2; n++; if (n % ports == 0) { print sum; sum = 0 } }' |
    tail -n +2 | sort -g | awk '{ v[NR] = $1 }
      END { if (NR < 1) { print "nan"; exit }
            printf "%.2f", ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'
}

run_testpmd() {
  # testpmd forwards from about a second after launch; our --stop-after counts from the start.
  { timeout -s INT "$((seconds + 2))" "$testpmd" "${eal[@]}" --file-prefix bench-testpmd -- "${app[@]}" --forward-mode=io </dev/null 2>&1 || true; } | rate
}
run_tunnelpmd() {
  { "$binary" "${eal[@]}" --file-prefix bench-tunnelpmd -- "${app[@]}" --forward-mode=io --stop-after "$seconds" </dev/null 2>&1 || true; } | rate
}

echo "io forwarding, 2 x net_null, 1 forwarding lcore, burst 32, --no-huge; $rounds rounds of ${seconds}s"
printf "%-6s %14s %14s %8s\n" round "testpmd Mpps" "tunnelpmd Mpps" ratio
ratios=()
for round in $(seq 1 "$rounds"); do
  t=$(run_testpmd); s=$(run_tunnelpmd)
  r=$(awk -v s="$s" -v t="$t" 'BEGIN { if (t > 0) printf "%.3f", s / t; else print "nan" }')
  ratios+=("$r")
  printf "%-6s %14s %14s %8s\n" "$round" "$t" "$s" "$r"
done
median=$(printf "%s\n" "${ratios[@]}" | grep -v nan | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "median ratio tunnelpmd/testpmd: $median (target >= 0.95)"
