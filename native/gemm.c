/* Batched strided GEMM driver: splits C into tasks (whole batch items, or row/column chunks of one item) and
 * runs them on the pool; each task is a serial blocked GEMM of the chosen level on its own packing buffers.
 * Small products run on the calling thread only. Leaves out: sharing packed B between threads. */
#include "common.h"
#include <string.h>

/* below this many multiply-adds, one thread (no wake-up, no sync) wins */
#define GEMM_MT_MIN_MACS (1L << 18)

typedef struct {
  const KernelTable *t;
  const float *a, *b;
  float *c;
  long M, N, K, sa, sb, sc;
  int transA, transB;
  float alpha, beta;
  long mchunks, nchunks, mstep, nstep;
} GemmJob;

static void run_block(const GemmJob *j, long bi, long m0, long m1, long n0, long n1) {
  const KernelTable *t = j->t;
  GemmBlock g;
  g.rsa = j->transA ? 1 : j->K; g.csa = j->transA ? j->M : 1;
  g.rsb = j->transB ? 1 : j->N; g.csb = j->transB ? j->K : 1;
  g.a = j->a + bi * j->sa + m0 * g.rsa;
  g.b = j->b + bi * j->sb + n0 * g.csb;
  g.c = j->c + bi * j->sc + m0 * j->N + n0;
  g.ldc = j->N;
  g.M = m1 - m0; g.N = n1 - n0; g.K = j->K;
  g.alpha = j->alpha; g.beta = j->beta;
  long kc = t->kc, mc = t->mc, nc = ((g.N < t->nc ? g.N : t->nc) + t->nr - 1) / t->nr * t->nr;
  float *packA = rlaif_scratch(0, (size_t)(mc + t->mr) * kc);
  float *packB = rlaif_scratch(1, (size_t)nc * kc);
  t->gemm(&g, packA, packB);
}

static void gemm_task(void *ctx, long task) {
  const GemmJob *j = ctx;
  long per = j->mchunks * j->nchunks;
  long bi = task / per, rest = task % per;
  long mi = rest / j->nchunks, ni = rest % j->nchunks;
  long m0 = mi * j->mstep, n0 = ni * j->nstep;
  long m1 = m0 + j->mstep < j->M ? m0 + j->mstep : j->M;
  long n1 = n0 + j->nstep < j->N ? n0 + j->nstep : j->N;
  if (m0 < m1 && n0 < n1) run_block(j, bi, m0, m1, n0, n1);
}

void rlaif_gemm(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K, int transA,
                int transB, float alpha, float beta, long batch, long sa, long sb, long sc) {
  if (batch == 0 || M == 0 || N == 0) return;
  if (K == 0) { /* C = beta C; beta 0 never reads C */
    for (long bi = 0; bi < batch; bi++)
      for (long i = 0; i < M * N; i++) {
        float *p = c + bi * sc + i;
        *p = beta == 0.0f ? 0.0f : beta * *p;
      }
    return;
  }
  GemmJob j = { t, a, b, c, M, N, K, sa, sb, sc, transA, transB, alpha, beta, 1, 1, M, N };
  int threads = rlaif_threads();
  double macs = (double)M * N * K * batch;
  if (threads == 1 || macs < GEMM_MT_MIN_MACS) {
    for (long bi = 0; bi < batch; bi++) run_block(&j, bi, 0, M, 0, N);
    return;
  }
  long want = threads * 2; /* tasks per call: a little over the thread count absorbs noisy neighbours */
  if (batch < want) {
    long per = (want + batch - 1) / batch;
    if (M >= N) {
      long step = (M + per - 1) / per;
      step = (step + t->mr - 1) / t->mr * t->mr;
      j.mstep = step; j.mchunks = (M + step - 1) / step;
    } else {
      long step = (N + per - 1) / per;
      step = (step + t->nr - 1) / t->nr * t->nr;
      j.nstep = step; j.nchunks = (N + step - 1) / step;
    }
  }
  rlaif_pool_run(batch * j.mchunks * j.nchunks, gemm_task, &j);
}
