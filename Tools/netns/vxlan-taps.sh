#!/bin/sh
# Two network namespaces joined only by a kernel VXLAN tunnel over taps:
#
#   <prefix>-a                                        <prefix>-b
#   overlay 10.98.0.1/24 (+ fd00:98::1/64)            overlay 10.98.0.2/24 (+ fd00:98::2/64)
#     vx0 (VXLAN id 42, dstport 4789)                   vx0
#   underlay 10.99.0.1/24 | fd00:99::1/64             underlay 10.99.0.2/24 | fd00:99::2/64
#     vtap0 (tap, vnet_hdr)  <== a relay or forwarder attaches to both taps ==>  vtap0
#
# Nothing joins the two taps: frames cross only through whatever opens them (tunnelpmd's
# --vnet-tap ports, or a test's relay). By default static neighbours on both layers, so no
# ARP/ND has to cross first; with --dynamic there are none: the kernels resolve every
# neighbour (ARP and ND on the underlay, and inside the overlay as VXLAN-carried frames).
# Traffic never leaves the two namespaces.
#
# usage: vxlan-taps.sh up <prefix> [--ipv6] [--noudpcsum] [--mtu N] [--dynamic]
#        vxlan-taps.sh down <prefix>          (idempotent; removes all `up` made)
#        vxlan-taps.sh retap <prefix> a|b [...]  (makes one side's tap and VXLAN device again, as
#                                              `up` did, after the tap was deleted: deleting a
#                                              VXLAN device's lower device deletes it too)
#        vxlan-taps.sh env <prefix> [...]     (prints the names and addresses as shell variables)
# <prefix>: letters, digits, '-', at most 24 characters (namespace names <prefix>-a, <prefix>-b).
set -eu

usage() {
    echo "usage: $0 up|down|env <prefix> [--ipv6] [--noudpcsum] [--mtu N] [--dynamic]; $0 retap <prefix> a|b [options]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
action=$1
prefix=$2
shift 2
side_arg=
if [ "$action" = retap ] && [ $# -ge 1 ]; then side_arg=$1; shift; fi
case $prefix in
    *[!A-Za-z0-9-]* | "") echo "$0: bad prefix '$prefix' (letters, digits, '-')" >&2; exit 2 ;;
esac
[ ${#prefix} -le 24 ] || { echo "$0: prefix '$prefix' longer than 24 characters" >&2; exit 2; }

ipv6=0
udpcsum=1
mtu=1500
dynamic=0
while [ $# -gt 0 ]; do
    case $1 in
        --ipv6) ipv6=1 ;;
        --noudpcsum) udpcsum=0 ;;
        --udpcsum) udpcsum=1 ;;
        --mtu) [ $# -ge 2 ] || usage; mtu=$2; shift ;;
        --dynamic) dynamic=1 ;;
        *) echo "$0: unknown option '$1'" >&2; usage ;;
    esac
    shift
done
case $mtu in *[!0-9]* | "") echo "$0: --mtu needs a number" >&2; exit 2 ;; esac

ns_a="$prefix-a"
ns_b="$prefix-b"
tap=vtap0
vx=vx0
tap_mac_a=02:00:00:99:00:0a
tap_mac_b=02:00:00:99:00:0b
vx_mac_a=02:00:00:98:00:0a
vx_mac_b=02:00:00:98:00:0b
if [ $ipv6 = 1 ]; then
    under_a=fd00:99::1 under_b=fd00:99::2 under_len=64 overhead=70
else
    under_a=10.99.0.1 under_b=10.99.0.2 under_len=24 overhead=50
fi
over_a=10.98.0.1 over_b=10.98.0.2
over6_a=fd00:98::1 over6_b=fd00:98::2

down() {
    for ns in "$ns_a" "$ns_b"; do
        [ -e "/var/run/netns/$ns" ] || continue
        # Processes left in the namespace (a sender or receiver of a failed test) are ours.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
        ip -n "$ns" link del "$vx" 2>/dev/null || true
        ip -n "$ns" link del "$tap" 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}

side() {  # ns tap_mac vx_mac under_self under_peer tap_mac_peer over_self over_peer vx_mac_peer over6_self over6_peer
    ns=$1
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    links "$@"
}

links() {  # the same arguments as side: the tap and the VXLAN device of an existing namespace
    ns=$1
    ip -n "$ns" link del "$vx" 2>/dev/null || true
    ip -n "$ns" link del "$tap" 2>/dev/null || true
    ip netns exec "$ns" ip tuntap add mode tap name "$tap" vnet_hdr
    ip -n "$ns" link set "$tap" address "$2" mtu "$mtu"
    if [ $ipv6 = 1 ]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip -n "$ns" addr add "$4/$under_len" dev "$tap" nodad
    else
        ip -n "$ns" addr add "$4/$under_len" dev "$tap"
    fi
    ip -n "$ns" link set "$tap" up
    [ $dynamic = 1 ] || ip -n "$ns" neigh replace "$5" lladdr "$6" dev "$tap" nud permanent
    if [ $ipv6 = 1 ]; then
        if [ $udpcsum = 1 ]; then csum="udpcsum"; else csum="noudpcsum udp6zerocsumtx udp6zerocsumrx"; fi
    else
        if [ $udpcsum = 1 ]; then csum="udpcsum"; else csum="noudpcsum"; fi
    fi
    # shellcheck disable=SC2086
    ip -n "$ns" link add "$vx" address "$3" type vxlan id 42 local "$4" remote "$5" dstport 4789 dev "$tap" $csum
    ip -n "$ns" link set "$vx" mtu $((mtu - overhead))
    ip -n "$ns" addr add "$7/24" dev "$vx"
    ip -n "$ns" addr add "${10}/64" dev "$vx" nodad
    ip -n "$ns" link set "$vx" up
    if [ $dynamic = 0 ]; then
        ip -n "$ns" neigh replace "$8" lladdr "$9" dev "$vx" nud permanent
        ip -n "$ns" neigh replace "${11}" lladdr "$9" dev "$vx" nud permanent
    fi
}

case $action in
    up)
        down
        trap 'down' EXIT
        side "$ns_a" $tap_mac_a $vx_mac_a $under_a $under_b $tap_mac_b $over_a $over_b $vx_mac_b $over6_a $over6_b
        side "$ns_b" $tap_mac_b $vx_mac_b $under_b $under_a $tap_mac_a $over_b $over_a $vx_mac_a $over6_b $over6_a
        trap - EXIT
        ;;
    down) down ;;
    retap)
        # The side comes after the prefix; the options were read above.
        case ${side_arg:-} in
            a) links "$ns_a" $tap_mac_a $vx_mac_a $under_a $under_b $tap_mac_b $over_a $over_b $vx_mac_b $over6_a $over6_b ;;
            b) links "$ns_b" $tap_mac_b $vx_mac_b $under_b $under_a $tap_mac_a $over_b $over_a $vx_mac_a $over6_b $over6_a ;;
            *) echo "$0: retap needs a side: a or b" >&2; exit 2 ;;
        esac
        ;;
    env) ;;
    *) usage ;;
esac
if [ "$action" != down ]; then
    echo "NS_A=$ns_a NS_B=$ns_b TAP=$tap VX=$vx UNDER_A=$under_a UNDER_B=$under_b OVER_A=$over_a OVER_B=$over_b OVER6_A=$over6_a OVER6_B=$over6_b MTU=$mtu"
fi
