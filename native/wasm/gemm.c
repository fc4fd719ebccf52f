// Blocked SGEMM in wasm SIMD128 (no FMA): packed A/B panels, a 4x8 register-blocked micro-kernel, all four
// transpose variants, batched with strides. Work is cut into independent tasks (batch, row block, column block)
// taken from one atomic counter, so any number of threads sharing this memory can run gemm_run on the same job.
#include "kernels.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 128


// Transposes the 4x4 block at src (rows ld apart) into 4 vectors at dst, dst + step, dst + 2 step, dst + 3 step.
static inline void transpose4(const float *src, size_t ld, float *dst, int step) {
  v128_t a0 = wasm_v128_load(src), a1 = wasm_v128_load(src + ld);
  v128_t a2 = wasm_v128_load(src + 2 * ld), a3 = wasm_v128_load(src + 3 * ld);
  v128_t t0 = wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5);
  v128_t t2 = wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7);
  wasm_v128_store(dst, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
  wasm_v128_store(dst + step, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
  wasm_v128_store(dst + 2 * step, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
  wasm_v128_store(dst + 3 * step, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
}

// Packs rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row panels: ap[(panel*kc + k)*MR + i].
static void pack_a(const float *a, int M, int K, int ta, int i0, int mc, int p0, int kc, float *ap) {
  for (int ip = 0; ip < mc; ip += MR) {
    int mr = mc - ip < MR ? mc - ip : MR;
    float *dst = ap + ip * kc;
    if (ta) {  // A stored (K, M): op(A)[i][k] = a[k*M + i]
      const float *src = a + (size_t)p0 * M + i0 + ip;
      if (mr == MR) {
        for (int k = 0; k < kc; k++) wasm_v128_store(dst + k * MR, wasm_v128_load(src + (size_t)k * M));
      } else {
        for (int k = 0; k < kc; k++)
          for (int i = 0; i < MR; i++) dst[k * MR + i] = i < mr ? src[(size_t)k * M + i] : 0.f;
      }
    } else if (mr == MR) {  // A stored (M, K), a full panel: 4x4 transposes
      const float *src = a + (size_t)(i0 + ip) * K + p0;
      int k = 0;
      for (; k + 4 <= kc; k += 4) transpose4(src + k, K, dst + k * MR, MR);
      for (; k < kc; k++) for (int i = 0; i < MR; i++) dst[k * MR + i] = src[(size_t)i * K + k];
    } else {   // A stored (M, K)
      const float *src = a + (size_t)(i0 + ip) * K + p0;
      for (int i = 0; i < MR; i++) {
        if (i < mr) { const float *row = src + (size_t)i * K; for (int k = 0; k < kc; k++) dst[k * MR + i] = row[k]; }
        else for (int k = 0; k < kc; k++) dst[k * MR + i] = 0.f;
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-column panels: bp[(panel*kc + k)*NR + j].
static void pack_b(const float *b, int N, int K, int tb, int p0, int kc, int j0, int nc, float *bp) {
  for (int jp = 0; jp < nc; jp += NR) {
    int nr = nc - jp < NR ? nc - jp : NR;
    float *dst = bp + jp * kc;
    if (!tb) {  // B stored (K, N)
      const float *src = b + (size_t)p0 * N + j0 + jp;
      if (nr == NR) {
        for (int k = 0; k < kc; k++) {
          const float *s = src + (size_t)k * N; float *d = dst + k * NR;
          wasm_v128_store(d, wasm_v128_load(s)); wasm_v128_store(d + 4, wasm_v128_load(s + 4));
        }
      } else {
        for (int k = 0; k < kc; k++)
          for (int j = 0; j < NR; j++) dst[k * NR + j] = j < nr ? src[(size_t)k * N + j] : 0.f;
      }
    } else if (nr == NR) {  // B stored (N, K), a full panel: two 4x4 transposes per 4 k
      const float *src = b + (size_t)(j0 + jp) * K + p0;
      int k = 0;
      for (; k + 4 <= kc; k += 4) {
        transpose4(src + k, K, dst + k * NR, NR);
        transpose4(src + 4 * (size_t)K + k, K, dst + k * NR + 4, NR);
      }
      for (; k < kc; k++) for (int j = 0; j < NR; j++) dst[k * NR + j] = src[(size_t)j * K + k];
    } else {    // B stored (N, K): op(B)[k][j] = b[j*K + k]
      const float *src = b + (size_t)(j0 + jp) * K + p0;
      for (int j = 0; j < NR; j++) {
        if (j < nr) { const float *row = src + (size_t)j * K; for (int k = 0; k < kc; k++) dst[k * NR + j] = row[k]; }
        else for (int k = 0; k < kc; k++) dst[k * NR + j] = 0.f;
      }
    }
  }
}

static inline void store4(float *c, v128_t acc, v128_t alpha, v128_t beta, int readC) {
  v128_t v = wasm_f32x4_mul(acc, alpha);
  if (readC) v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(c), beta));
  wasm_v128_store(c, v);
}

// 4x8 tile: 8 accumulators + 2 B vectors + 1 broadcast A fit V8's 15 usable xmm registers without spills
// (4x16 and 6x8 spill and run at about half the speed).
#define ROW(r) { v128_t av = wasm_v128_load32_splat(a + r); \
    c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(av, b0)); c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(av, b1)); }

// C (mr x nr, leading dimension ldc) = alpha * Apanel @ Bpanel + beta * C; beta == 0 never reads C.
static void micro(int kc, const float *a, const float *b, float *c, int ldc, float alpha, float beta,
                  int mr, int nr, float *tile) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    ROW(0) ROW(1) ROW(2) ROW(3)
    a += MR; b += NR;
  }
  v128_t va = wasm_f32x4_splat(alpha), vb = wasm_f32x4_splat(beta);
  int readC = beta != 0.f;
  if (mr == MR && nr == NR) {
#define STORE_ROW(r) store4(c + r * ldc, c##r##0, va, vb, readC); store4(c + r * ldc + 4, c##r##1, va, vb, readC);
    STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3)
    return;
  }
#define TILE_ROW(r) wasm_v128_store(tile + r * NR, c##r##0); wasm_v128_store(tile + r * NR + 4, c##r##1);
  TILE_ROW(0) TILE_ROW(1) TILE_ROW(2) TILE_ROW(3)
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) {
      float v = alpha * tile[i * NR + j];
      c[i * ldc + j] = readC ? v + beta * c[i * ldc + j] : v;
    }
}

// One block of C: rows [m0, m1), cols [n0, n1) of a single batch entry. scratch: KC*nc + MC*KC + MR*NR floats.
void gemm_block(const float *a, const float *b, float *c, int M, int N, int K, int ta, int tb, float alpha,
                float beta, int m0, int m1, int n0, int n1, float *scratch, int k0) {
  int nc = n1 - n0;
  if (K <= k0) {
    for (int i = m0; i < m1; i++)
      for (int j = n0; j < n1; j++) c[(size_t)i * N + j] = beta == 0.f ? 0.f : beta * c[(size_t)i * N + j];
    return;
  }
  int ncPad = (nc + NR - 1) / NR * NR;
  float *bp = scratch, *ap = scratch + (size_t)KC * ncPad, *tile = ap + MC * KC;
  for (int p0 = k0; p0 < K; p0 += KC) {
    int kc = K - p0 < KC ? K - p0 : KC;
    float betaK = p0 == k0 ? beta : 1.f;
    pack_b(b, N, K, tb, p0, kc, n0, nc, bp);
    for (int i0 = m0; i0 < m1; i0 += MC) {
      int mc = m1 - i0 < MC ? m1 - i0 : MC;
      pack_a(a, M, K, ta, i0, mc, p0, kc, ap);
      for (int jp = 0; jp < nc; jp += NR) {
        int nr = nc - jp < NR ? nc - jp : NR;
        for (int ip = 0; ip < mc; ip += MR) {
          int mr = mc - ip < MR ? mc - ip : MR;
          micro(kc, ap + ip * kc, bp + jp * kc, c + (size_t)(i0 + ip) * N + n0 + jp, N, alpha, betaK, mr, nr, tile);
        }
      }
    }
  }
}

/** Floats of scratch one thread needs for column blocks up to nTask wide. */
int EXPORT(gemm_scratch_floats)(int nTask) { return KC * ((nTask + NR - 1) / NR * NR) + MC * KC + MR * NR; }

static void gemm_task(int32_t *job, int t, float *scratch) {
  int M = job[J_M], N = job[J_N], K = job[J_K], mTask = job[J_MTASK], nTask = job[J_NTASK];
  int mTiles = job[J_MTILES], nTiles = job[J_NTILES];
  int bi = t / (mTiles * nTiles), rest = t % (mTiles * nTiles), mi = rest / nTiles, ni = rest % nTiles;
  int m0 = mi * mTask, n0 = ni * nTask;
  int m1 = m0 + mTask < M ? m0 + mTask : M, n1 = n0 + nTask < N ? n0 + nTask : N;
  float alpha = ((float *)job)[J_ALPHA], beta = ((float *)job)[J_BETA];
  const float *A = (const float *)job[J_A], *B = (const float *)job[J_B];
  float *C = (float *)job[J_C];
  gemm_block(A + (size_t)bi * job[J_SA], B + (size_t)bi * job[J_SB], C + (size_t)bi * job[J_SC], M, N, K,
             job[J_TA], job[J_TB], alpha, beta, m0, m1, n0, n1, scratch, 0);
}

// Runs tasks of the job at `job` until none are left. job[J_WORD] = nTasks << 16 | next task index, so one
// fetch_add yields a task index and the job's task count atomically (a late thread never runs a stale task).
// The job's kind picks the task: a GEMM block, or one (batch, kv head) of attention forward or backward.
void EXPORT(job_run)(int32_t *job, int tid) {
  for (;;) {
    int word = __atomic_fetch_add(&job[J_WORD], 1, __ATOMIC_SEQ_CST);
    int t = word & 0xffff, nTasks = (unsigned)word >> 16;
    if (t >= nTasks) return;
    // Read the parameters only after claiming a task: they cannot change until this task is counted finished.
    float *scratch = (float *)(job[J_SCRATCH] + tid * job[J_SCRATCH_BYTES]);
    switch (job[J_KIND]) {
      case 0: gemm_task(job, t, scratch); break;
      case 1: attention_task(job, t, scratch); break;
      default: attention_bwd_task(job, t, scratch); break;
    }
    if (tid) __atomic_fetch_add(&job[J_HELPED], 1, __ATOMIC_SEQ_CST);  // tasks run by worker threads
    __atomic_fetch_add(&job[J_FINISHED], 1, __ATOMIC_SEQ_CST);
  }
}
