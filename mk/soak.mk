# Soak and fault campaign (issue 12): Tools/soak/soak.py. Included by the top-level Makefile.
# `make soak` runs SOAK_SECONDS (10 minutes by default) of overlay traffic through tunnelpmd's
# csum engine (GSO and GRO on) while a fault loop deletes taps, stops ports, flips settings,
# starves the pool, replays hostile frames and sends SIGUSR1; `soak-short` is the short form
# `make test` runs. Root, network namespaces, /dev/net/tun; python3 and scapy (make deps).
SOAK_APT_PACKAGES := iproute2 python3 iputils-ping
SOAK_PIP_PACKAGES :=   # scapy (hostile.py, make_seeds.py): mk/wire.mk installs it
SOAK_SECONDS ?= 600
SOAK_SAMPLE_SECONDS ?= 60
SOAK_SHORT_SECONDS ?= 45
SOAK_SHORT_SAMPLE_SECONDS ?= 15

.PHONY: soak soak-short

soak: deps release
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SAMPLE_SECONDS=$(SOAK_SAMPLE_SECONDS) SOAK_BIN=$(RELEASE_BIN) \
	  python3 Tools/soak/soak.py

# The short form: every fault kind once or twice, samples every 15 s.
soak-short: deps release
	SOAK_SECONDS=$(SOAK_SHORT_SECONDS) SOAK_SAMPLE_SECONDS=$(SOAK_SHORT_SAMPLE_SECONDS) SOAK_FAULT_GAP=3 \
	  SOAK_BIN=$(RELEASE_BIN) python3 Tools/soak/soak.py
