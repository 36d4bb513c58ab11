// What this CPU can run, found once when the program loads (a constructor in ccpu.c), so the
// per-packet question is one load: no cpuid, no lazy Swift global.
#ifndef CCPU_H
#define CCPU_H
#include <stdbool.h>

// The x86-64 microarchitecture level the CPU and the OS support: 1 (the baseline), or 3
// (x86-64-v3: AVX2, BMI1/2, FMA, F16C, LZCNT, MOVBE, with YMM state enabled). 0 elsewhere.
// Set by the constructor only; read it through the functions below.
extern int ccpu_detected_level;

static inline int ccpu_x86_64_level(void) { return ccpu_detected_level; }
static inline bool ccpu_has_x86_64_v3(void) { return ccpu_detected_level >= 3; }

#endif
