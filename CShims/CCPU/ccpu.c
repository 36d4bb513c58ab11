#include "ccpu.h"

int ccpu_detected_level = 0;

#if defined(__x86_64__)
#include <cpuid.h>

// XCR0: which register states the OS saves on a context switch (bit 1 XMM, bit 2 YMM).
static unsigned long long xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static int x86_64_level(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 1;
    // v2 (SSE3, SSSE3, SSE4.1/4.2, POPCNT, CMPXCHG16B) is part of v3.
    unsigned int v3_leaf1 = bit_SSE3 | bit_SSSE3 | bit_SSE4_1 | bit_SSE4_2 | bit_POPCNT | bit_CMPXCHG16B
        | bit_FMA | bit_MOVBE | bit_OSXSAVE | bit_AVX | bit_F16C;
    if ((c & v3_leaf1) != v3_leaf1 || (xcr0() & 0x6) != 0x6) return 1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 1;
    unsigned int v3_leaf7 = bit_AVX2 | bit_BMI | bit_BMI2;
    if ((b & v3_leaf7) != v3_leaf7) return 1;
    if (!__get_cpuid(0x80000001, &a, &b, &c, &d) || !(c & bit_LZCNT)) return 1;
    return 3;
}

__attribute__((constructor)) static void ccpu_detect(void) { ccpu_detected_level = x86_64_level(); }
#endif
