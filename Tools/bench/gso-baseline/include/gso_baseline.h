// GSOBaseline: librte_gso plus a software checksum fix-up, the C side of make bench-gso.
#ifndef GSO_BASELINE_H
#define GSO_BASELINE_H
#endif
