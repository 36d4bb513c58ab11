# Kernel tap port (issue 5): its tests build network namespaces with a tap and a kernel VXLAN
# device each (Tools/netns/vxlan-taps.sh), run python3 TCP senders/receivers inside them
# (Tools/netns/tcp-pattern.py) and read the kernel's counters with nstat. Included by the
# top-level Makefile; `make deps` installs the packages named here.
TAP_APT_PACKAGES := iproute2 python3 iputils-ping
TAP_PIP_PACKAGES :=

.PHONY: test-tap netns-up netns-down

# The tap tests alone (root; /dev/net/tun; network namespaces).
test-tap:
	swift build --build-tests --scratch-path .build-tap
	swift test --skip-build --scratch-path .build-tap --filter TapDevice

# A topology to try by hand: make netns-up [NETNS_PREFIX=tt] [NETNS_FLAGS="--ipv6 --noudpcsum"]
NETNS_PREFIX ?= tt
NETNS_FLAGS ?=
netns-up:
	Tools/netns/vxlan-taps.sh up $(NETNS_PREFIX) $(NETNS_FLAGS)
netns-down:
	Tools/netns/vxlan-taps.sh down $(NETNS_PREFIX)
