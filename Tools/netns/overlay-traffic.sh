#!/bin/sh
# Unscripted overlay traffic between the two namespaces of vxlan-taps.sh, as a real workload
# meets it: neighbour resolution (ARP, ND) first, then ping and ping6 (ICMP inside the
# tunnel), UDP both ways (tiny, MTU-sized and fragmented datagrams) and TCP both ways, every
# byte checked. Each check prints "PASS <name>" or "FAIL <name>: <why>"; the exit status is
# the number of failures. Every process it starts is waited for or killed by pid.
#
# usage: overlay-traffic.sh <prefix> [tcp-bytes] [udp-count]
set -u
[ $# -ge 1 ] || { echo "usage: $0 <prefix> [tcp-bytes] [udp-count]" >&2; exit 2; }
prefix=$1
bytes=${2:-4000000}
count=${3:-64}
here=$(cd "$(dirname "$0")" && pwd)
a="$prefix-a" b="$prefix-b"
over_a=10.98.0.1 over_b=10.98.0.2 over6_a=fd00:98::1 over6_b=fd00:98::2
failures=0
pids=""
out=$(mktemp -d)
cleanup() { for pid in $pids; do kill "$pid" 2>/dev/null; done; rm -rf "$out"; }
trap cleanup EXIT

check() {  # name status detail
    if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1: $3"; failures=$((failures + 1)); fi
}

# Waits until a receiver has bound its socket (its output says LISTENING), at most 15 s: on a
# loaded machine a fixed pause was shorter than python's start, and the first datagrams met
# a closed port.
wait_listening() {  # file
    i=0
    while ! grep -q LISTENING "$1" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
}

# Waits for a background pid, killing it after `seconds`.
wait_for() {  # pid seconds
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    kill "$1" 2>/dev/null
    wait "$1"
}

for target in "$a $over_b" "$b $over_a" "$a $over6_b" "$b $over6_a"; do
    set -- $target
    result=$(ip netns exec "$1" ping -c 3 -i 0.2 -W 2 "$2" 2>&1)
    case $result in *" 0% packet loss"*) status=0 ;; *) status=1 ;; esac
    check "ping $1 -> $2" $status "$(echo "$result" | tail -n 2 | tr '\n' ' ')"
done

port=6100
for flow in "$a $b $over_b" "$b $a $over_a" "$a $b $over6_b" "$b $a $over6_a"; do
    set -- $flow
    port=$((port + 1))
    ip netns exec "$2" python3 "$here/udp-pattern.py" recv "$3" $port "$count" --seconds 30 >"$out/udp$port" 2>&1 &
    receiver=$!
    pids="$pids $receiver"
    wait_listening "$out/udp$port"
    ip netns exec "$1" python3 "$here/udp-pattern.py" send "$3" $port "$count" >/dev/null 2>&1
    wait_for $receiver 35
    grep -q "^OK $count" "$out/udp$port"
    check "udp $1 -> $3" $? "$(cat "$out/udp$port")"
done

for flow in "$a $b $over_b" "$b $a $over_a" "$a $b $over6_b"; do
    set -- $flow
    port=$((port + 1))
    ip netns exec "$2" python3 "$here/tcp-pattern.py" recv $port "$bytes" --bind "$3" >"$out/tcp$port" 2>&1 &
    receiver=$!
    pids="$pids $receiver"
    wait_listening "$out/tcp$port"
    ip netns exec "$1" python3 "$here/tcp-pattern.py" send "$3" $port "$bytes" >/dev/null 2>&1 &
    sender=$!
    pids="$pids $sender"
    wait_for $receiver 60
    wait_for $sender 5
    grep -q "^OK $bytes" "$out/tcp$port"
    check "tcp $1 -> $3" $? "$(cat "$out/tcp$port")"
done
exit $failures
