/* Picks the kernel table for this CPU: AVX-512 (F, BW, DQ, VL), AVX2 + FMA, or generic C, by
 * __builtin_cpu_supports at load time. RLAIF_CPU (read by the binding) may force a lower level. */
#include "common.h"
#include <string.h>

int rlaif_cpu_supports(const char *level) {
  __builtin_cpu_init();
  if (strcmp(level, "generic") == 0) return 1;
  if (strcmp(level, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (strcmp(level, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return 0;
}

const KernelTable *rlaif_table(const char *level) {
  if (strcmp(level, "avx512") == 0) return &rlaif_table_avx512;
  if (strcmp(level, "avx2") == 0) return &rlaif_table_avx2;
  if (strcmp(level, "generic") == 0) return &rlaif_table_generic;
  return NULL;
}

const char *rlaif_best_level(void) {
  if (rlaif_cpu_supports("avx512")) return "avx512";
  if (rlaif_cpu_supports("avx2")) return "avx2";
  return "generic";
}
