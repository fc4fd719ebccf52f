/* Picks the kernel table for this CPU: AVX-512 (F, BW, DQ, VL), AVX2 + FMA, or generic C, by
 * __builtin_cpu_supports at load time. RLAIF_CPU (read by the binding) may force a lower level.
 * Also names the CPU features the dispatch looks at (the bench prints them beside every figure). */
#include "common.h"
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

/* CPUID leaf 7: AMX-BF16 (EDX bit 22) and AMX-TILE (bit 24); the OS's consent is asked separately (rlaif_amx_request) */
static int cpu_has_amx_bf16(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  return (d >> 22 & 1u) && (d >> 24 & 1u);
}

/* RLAIF_AMX: unset or 1, AMX where the CPU and OS allow it; 0, never; emulate, the AMX layout computed in C (tests) */
static int amx_mode(void) {
  const char *env = getenv("RLAIF_AMX");
  if (env && strcmp(env, "emulate") == 0) return 2;
  if (env && strcmp(env, "0") == 0) return 0;
  return cpu_has_amx_bf16() && rlaif_amx_request() ? 1 : 0;
}

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

static KernelTable avx512_dpbf16;
static int avx512_dpbf16_ready;

const KernelTable *rlaif_table_bf16(const char *level, int native_bf16) {
  const KernelTable *t = rlaif_table(level);
  if (!t || !native_bf16 || strcmp(level, "avx512") != 0) return t;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) return t;
  if (!avx512_dpbf16_ready) { /* create() runs on a JS thread; a race writes the same bytes */
    avx512_dpbf16 = *t;
    avx512_dpbf16.gemv_bf16 = rlaif_gemv_bf16_dpbf16;
    avx512_dpbf16.bf16_kernel = "vdpbf16ps";
    avx512_dpbf16.dpbf16 = 1;
    rlaif_amx_mode = amx_mode();
    avx512_dpbf16_ready = 1;
  }
  return &avx512_dpbf16;
}

/* Every table whose GEMM runs on one level's micro-kernel shares that level's blocking (it lives in the level's
 * statics): all of them are told, so each one's kc (which its few-row paths follow) stays the kc its GEMM uses. */
void rlaif_set_blocking(const char *level, long mc, long kc, long nc) {
  KernelTable *t = (KernelTable *)rlaif_table(level);
  if (!t) return;
  t->set_blocking(mc, kc, nc);
  KernelTable *all[] = { &rlaif_table_avx512, &rlaif_table_avx2, &rlaif_table_generic, avx512_dpbf16_ready ? &avx512_dpbf16 : NULL };
  for (int i = 0; i < 4; i++)
    if (all[i] && all[i]->set_blocking == t->set_blocking) { all[i]->mc = (int)mc; all[i]->kc = (int)kc; all[i]->nc = (int)nc; }
}

const char *const RLAIF_LEVELS[3] = { "avx512", "avx2", "generic" };

int rlaif_level_index(const char *level) {
  for (int i = 0; i < 3; i++) if (strcmp(level, RLAIF_LEVELS[i]) == 0) return i;
  return -1;
}

/* Each table's own GEMM at its compiled blocking, kept at load before anything changes them: a table borrows another's
 * own, never one it borrowed. */
static KernelTable own[3];

__attribute__((constructor)) static void keep_own(void) {
  own[0] = rlaif_table_avx512; own[1] = rlaif_table_avx2; own[2] = rlaif_table_generic;  /* RLAIF_LEVELS' order */
}

static void take_gemm(KernelTable *t, const KernelTable *from) {
  t->gemm_level = from->gemm_level;
  t->mr = from->mr; t->nr = from->nr; t->mc = from->mc; t->kc = from->kc; t->nc = from->nc;
  t->set_blocking = from->set_blocking; t->gemm = from->gemm; t->pack_b = from->pack_b; t->sum_packed_b = from->sum_packed_b; t->macro = from->macro;
}

int rlaif_set_gemm_kernel(const char *level, const char *from) {
  int to = rlaif_level_index(level), index = rlaif_level_index(from);
  if (to < 0 || index < to || !rlaif_cpu_supports(level) || !rlaif_cpu_supports(from)) return 0;  /* index < 0 < to too */
  const KernelTable *source = &own[index];
  KernelTable *t = (KernelTable *)rlaif_table(level);
  take_gemm(t, source);
  if (t == &rlaif_table_avx512 && avx512_dpbf16_ready) take_gemm(&avx512_dpbf16, source);
  /* the borrowed level's statics back to its compiled blocking, and every table on them told */
  rlaif_set_blocking(level, source->mc, source->kc, source->nc);
  return 1;
}

const char *rlaif_best_level(void) {
  if (rlaif_cpu_supports("avx512")) return "avx512";
  if (rlaif_cpu_supports("avx2")) return "avx2";
  return "generic";
}

/* __builtin_cpu_supports takes a literal: one case per feature the kernels dispatch on (or the bench reports) */
#define RL_FEATURES(X) X("avx2") X("fma") X("avx512f") X("avx512bw") X("avx512dq") X("avx512vl") X("avx512vnni") \
  X("avx512bf16")
static const char *FEATURE_NAMES[] = {
#define RL_NAME(f) f,
  RL_FEATURES(RL_NAME)
  "amx-bf16", /* read from CPUID (cpu_has_amx_bf16): older GCCs' __builtin_cpu_supports does not know it */
};

int rlaif_cpu_feature_count(void) { return (int)(sizeof FEATURE_NAMES / sizeof FEATURE_NAMES[0]); }

const char *rlaif_cpu_feature_name(int i) { return i >= 0 && i < rlaif_cpu_feature_count() ? FEATURE_NAMES[i] : NULL; }

int rlaif_cpu_feature(int i) {
  __builtin_cpu_init();
  int k = 0;
#define RL_CASE(f) if (i == k++) return __builtin_cpu_supports(f) != 0;
  RL_FEATURES(RL_CASE)
  if (i == k) return cpu_has_amx_bf16();
  return 0;
}
