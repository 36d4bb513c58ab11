#!/usr/bin/env bash
# Forwarding modes: tunnelpmd vs dpdk-testpmd on the same two net_null ports with the same EAL
# and app options, alternated for ROUNDS rounds per mode (MODES, default io macswap rxonly
# txonly io-2q; io-2q: io with 2 rx/tx queues per port and 2 forwarding lcores that EAL maps
# onto one CPU, --lcores 0@0,1@1,2@1). Each run forwards for SECONDS seconds with statistics every second; its rate is the
# median of the per-second sums over both ports (the first sample, taken while starting, is
# dropped) of Rx-pps, or of Tx-pps for txonly, which receives nothing. Prints each Mpps and the
# median ratio per mode.
set -euo pipefail
binary=${1:-.build/release/tunnelpmd}
rounds=${ROUNDS:-7}
modes=(${MODES:-io macswap rxonly txonly io-2q})
seconds=${SECONDS_PER_RUN:-6}
testpmd=$(command -v dpdk-testpmd || true)
[ -n "$testpmd" ] || { echo "io.sh: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }

eal=(--no-huge -m 512 --no-pci --no-shconf --vdev net_null0 --vdev net_null1 --log-level lib.eal:warning)
app=(--stats-period 1 --total-num-mbufs=8192 --burst=32 --rxd=1024 --txd=1024)

# The EAL lcores and app options of a mode, the same for both programs.
lcores() { [ "$1" = io-2q ] && echo "--lcores 0@0,1@1,2@1" || echo "-l 0-1"; }
mode_args() {
  case $1 in
    io-2q) echo "--forward-mode=io --rxq=2 --txq=2 --nb-cores=2" ;;
    *) echo "--forward-mode=$1" ;;
  esac
}

# Median of the per-sample sums of $1 (Rx-pps or Tx-pps) over the ports, in Mpps.
rate() {
  awk -v ports=2 -v field="$1:" '$1 == field { sum += $2; n++; if (n % ports == 0) { print sum; sum = 0 } }' |
    tail -n +2 | sort -g | awk '{ v[NR] = $1 }
      END { if (NR < 1) { print "nan"; exit }
            printf "%.2f", ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'
}

field() { [ "$1" = txonly ] && echo Tx-pps || echo Rx-pps; }
run_testpmd() {
  # testpmd forwards from about a second after launch; our --stop-after counts from the start.
  { timeout -s INT "$((seconds + 2))" "$testpmd" $(lcores "$1") "${eal[@]}" --file-prefix bench-testpmd -- "${app[@]}" $(mode_args "$1") </dev/null 2>&1 || true; } | rate "$(field "$1")"
}
run_tunnelpmd() {
  { "$binary" $(lcores "$1") "${eal[@]}" --file-prefix bench-tunnelpmd -- "${app[@]}" $(mode_args "$1") --stop-after "$seconds" </dev/null 2>&1 || true; } | rate "$(field "$1")"
}
median() { grep -v nan | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "2 x net_null, 1 forwarding lcore (io-2q: 2 on one CPU), burst 32, --no-huge; per mode $rounds rounds of ${seconds}s"
summary=()
for mode in "${modes[@]}"; do
  echo "$mode:"
  printf "%-6s %14s %14s %8s\n" round "testpmd Mpps" "tunnelpmd Mpps" ratio
  ratios=(); ours=(); theirs=()
  for round in $(seq 1 "$rounds"); do
    t=$(run_testpmd "$mode"); s=$(run_tunnelpmd "$mode")
    r=$(awk -v s="$s" -v t="$t" 'BEGIN { if (t > 0) printf "%.3f", s / t; else print "nan" }')
    ratios+=("$r"); ours+=("$s"); theirs+=("$t")
    printf "%-6s %14s %14s %8s\n" "$round" "$t" "$s" "$r"
  done
  summary+=("$(printf "%-8s testpmd %6s Mpps  tunnelpmd %6s Mpps  ratio %s" "$mode" \
    "$(printf "%s\n" "${theirs[@]}" | median)" "$(printf "%s\n" "${ours[@]}" | median)" "$(printf "%s\n" "${ratios[@]}" | median)")")
done
echo "medians (ratio tunnelpmd/testpmd, target >= 0.95):"
printf "  %s\n" "${summary[@]}"
