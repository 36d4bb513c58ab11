// Everything in CDPDK is static inline in include/cdpdk.h; this unit only gives SwiftPM a
// C target to compile and link DPDK's libraries into.
#include "cdpdk.h"
