/* Runs the per-level kernels on the pool: rows / elements in chunks, attention per (b, h) or (b, kv head),
 * norm backward with per-task partial dweight/dbias summed at the end. Embedding gather/scatter live here too
 * (plain copies, no level needed). Leaves out: validation (binding.c). */
#include "ops.h"
#include <stdlib.h>
#include <string.h>

static void row_range(void *ctx, long r0, long r1) {
  RowJob *j = ctx;
  const KernelTable *t = j->t;
  const float *const *in = j->in;
  float *const *out = j->out;
  const float *f = j->f;
  long n = r1 - r0, c = j->cols;
  switch (j->op) {
    case OP_BIAS_ADD: t->bias_add(out[0], in[0], r0, r1, c); break;
    case OP_ADD: t->add(in[0] + r0, in[1] + r0, out[0] + r0, n); break;
    case OP_AXPY: t->axpy(f[0], in[0] + r0, out[0] + r0, n); break;
    case OP_GELU: t->gelu(in[0] + r0, out[0] + r0, n); break;
    case OP_GELU_BWD: t->gelu_bwd(in[0] + r0, in[1] + r0, out[0] + r0, n, f[0] != 0.0f); break;
    case OP_SILU: t->silu(in[0] + r0, out[0] + r0, n); break;
    case OP_SILU_BWD: t->silu_bwd(in[0] + r0, in[1] + r0, out[0] + r0, n, f[0] != 0.0f); break;
    case OP_LAYER_NORM: t->layer_norm(in[0], in[1], in[2], out[0], out[1], out[2], r0, r1, c, f[0]); break;
    case OP_RMS_NORM: t->rms_norm(in[0], in[1], out[0], out[1], r0, r1, c, f[0]); break;
    case OP_SOFTMAX: t->softmax(in[0], out[0], r0, r1, c); break;
    case OP_SOFTMAX_BWD: t->softmax_bwd(in[0], in[1], out[0], r0, r1, c); break;
    case OP_LOG_SOFTMAX: t->log_softmax(in[0], out[0], r0, r1, c); break;
    case OP_LOG_SOFTMAX_BWD: t->log_softmax_bwd(in[0], in[1], out[0], r0, r1, c); break;
    case OP_TARGET_LOGPROBS: t->target_logprobs(in[0], j->ids, out[0], out[1], r0, r1, c, j->ignore); break;
    case OP_TARGET_LOGPROBS_BWD:
      t->target_logprobs_bwd(in[0], j->ids, in[1], in[2], out[0], r0, r1, c, j->ignore); break;
    case OP_ENTROPY: t->entropy(in[0], out[0], out[1], r0, r1, c); break;
    case OP_ENTROPY_BWD: t->entropy_bwd(in[0], in[1], in[2], in[3], out[0], r0, r1, c); break;
    case OP_ADAMW:
      t->adamw(out[0] + r0, in[0] + r0, out[1] + r0, out[2] + r0, n, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
      break;
  }
}

void rlaif_rows(RowJob *j, double cost) {
  long per = j->cols > 0 ? j->cols : 1;
  double work = cost * (double)j->n * (double)per;
  long grain = j->cols > 0 ? (4096 + per - 1) / per : 4096;
  if (j->op == OP_ADAMW || j->cols == 0) grain = 4096;
  rlaif_parallel_for(j->n, grain, work, row_range, j);
}

/* Column sums in float64: row blocks on the pool, each into its own accumulator row, summed at the end (a row block
 * streams contiguous memory; splitting by columns left narrow products on one thread). */
typedef struct { const KernelTable *t; const float *x; double *acc; long rows, cols, chunks; } ColJob;

static void col_task(void *ctx, long task) {
  ColJob *j = ctx;
  long r0 = j->rows * task / j->chunks, r1 = j->rows * (task + 1) / j->chunks;
  j->t->sum_cols(j->x + r0 * j->cols, j->acc + task * j->cols, r1 - r0, 0, j->cols, j->cols);
}

void rlaif_sum_rows_into(const KernelTable *t, const float *x, float *out, long rows, long cols) {
  if (cols == 0) return;
  int threads = rlaif_threads();
  long chunks = threads > 1 && (double)rows * cols > 65536.0 ? threads * 2 : 1;
  if (chunks > rows) chunks = rows > 0 ? rows : 1;
  double *acc = calloc((size_t)(chunks * cols), sizeof(double));
  if (!acc) { /* no memory for the float64 accumulator: accumulate straight into out */
    for (long r = 0; r < rows; r++) for (long c = 0; c < cols; c++) out[c] += x[r * cols + c];
    return;
  }
  ColJob j = { t, x, acc, rows, cols, chunks };
  if (chunks > 1) rlaif_pool_run(chunks, col_task, &j);
  else col_task(&j, 0);
  for (long c = 0; c < cols; c++) {
    double sum = out[c];
    for (long k = 0; k < chunks; k++) sum += acc[k * cols + c];
    out[c] = (float)sum;
  }
  free(acc);
}

typedef struct {
  const KernelTable *t;
  int rms;
  const float *dy, *x, *w, *mean, *rstd;
  float *dx, *partial;
  long rows, cols, chunks;
} NormBwdJob;

static void norm_bwd_task(void *ctx, long task) {
  NormBwdJob *j = ctx;
  long r0 = j->rows * task / j->chunks, r1 = j->rows * (task + 1) / j->chunks;
  float *dw = j->partial + task * 2 * j->cols, *db = dw + j->cols;
  if (j->rms) j->t->rms_norm_bwd(j->dy, j->x, j->w, j->rstd, j->dx, dw, r0, r1, j->cols);
  else j->t->layer_norm_bwd(j->dy, j->x, j->w, j->mean, j->rstd, j->dx, dw, db, r0, r1, j->cols);
}

void rlaif_norm_bwd(const KernelTable *t, int rms, const float *dy, const float *x, const float *w,
                    const float *mean, const float *rstd, float *dx, float *dw, float *db, long rows, long cols) {
  if (rows == 0 || cols == 0) return;
  int threads = rlaif_threads();
  long chunks = (double)rows * cols * 1.0 < 40000.0 || threads == 1 ? 1 : threads;
  if (chunks > rows) chunks = rows;
  float *partial = chunks > 1 ? calloc((size_t)(chunks * 2 * cols), sizeof(float)) : NULL;
  if (!partial) {
    if (rms) t->rms_norm_bwd(dy, x, w, rstd, dx, dw, 0, rows, cols);
    else t->layer_norm_bwd(dy, x, w, mean, rstd, dx, dw, db, 0, rows, cols);
    return;
  }
  NormBwdJob j = { t, rms, dy, x, w, mean, rstd, dx, partial, rows, cols, chunks };
  rlaif_pool_run(chunks, norm_bwd_task, &j);
  for (long task = 0; task < chunks; task++) {
    const float *pw = partial + task * 2 * cols, *pb = pw + cols;
    for (long c = 0; c < cols; c++) dw[c] += pw[c];
    if (!rms) for (long c = 0; c < cols; c++) db[c] += pb[c];
  }
  free(partial);
}

typedef struct {
  const KernelTable *t;
  const float *q, *k, *v, *probs, *dout;
  float *out, *probsOut, *dq, *dk, *dv;
  const AttnShape *s;
  long heads; /* heads a forward task covers */
} AttnJob;

static void attn_task(void *ctx, long task) {
  AttnJob *j = ctx;
  const long per = j->heads, tasks_b = (j->s->H + per - 1) / per, h = task % tasks_b * per;
  float *scratch = rlaif_scratch(2, (size_t)attn_scratch(j->s));
  j->t->attention(j->q, j->k, j->v, j->out, j->probsOut, j->s, task / tasks_b, h, j->s->H - h < per ? j->s->H - h : per,
                  scratch);
}

static void attn_bwd_task(void *ctx, long task) {
  AttnJob *j = ctx;
  float *scratch = rlaif_scratch(2, (size_t)attn_scratch(j->s));
  j->t->attention_bwd(j->q, j->k, j->v, j->probs, j->dout, j->dq, j->dk, j->dv, j->s, task / j->s->Hkv,
                      task % j->s->Hkv, scratch);
}

static int attn_parallel(const AttnShape *s) {
  return (double)s->B * s->H * s->T * s->S * s->D > 1048576.0; /* decode-sized heads lose more to pool sync than they gain */
}

void rlaif_attention(const KernelTable *t, const float *q, const float *k, const float *v, float *out, float *probs,
                     const AttnShape *s) {
  const int parallel = attn_parallel(s);
  /* A decode step's one query per head on one thread: up to 4 of a batch row's heads a task, their weighted sums side
   * by side and fewer calls (level_attention.inc); on the pool, one head a task, so a few rows' heads still spread
   * evenly over the threads (a long context at batch 1). */
  AttnJob j = { t, q, k, v, NULL, NULL, out, probs, NULL, NULL, NULL, s, s->T == 1 && !parallel ? 4 : 1 };
  const long tasks = s->B * ((s->H + j.heads - 1) / j.heads);
  if (s->T == 0) return;
  if (parallel) rlaif_pool_run(tasks, attn_task, &j);
  else for (long i = 0; i < tasks; i++) attn_task(&j, i);
}

void rlaif_attention_bwd(const KernelTable *t, const float *q, const float *k, const float *v, const float *probs,
                         const float *dout, float *dq, float *dk, float *dv, const AttnShape *s) {
  AttnJob j = { t, q, k, v, probs, dout, NULL, NULL, dq, dk, dv, s, 1 };
  long tasks = s->B * s->Hkv;
  if (s->T == 0 || s->S == 0) return;
  if (attn_parallel(s)) rlaif_pool_run(tasks, attn_bwd_task, &j);
  else for (long i = 0; i < tasks; i++) attn_bwd_task(&j, i);
}

/* Head-major (B, H, T, D) <-> token-major (B, T, W) at column offset: one contiguous run of D floats per
 * (b, t, h); memory-bound, so plain loops the compiler vectorizes, (b, h) pairs split over the pool. */
typedef struct { const float *src; float *dst; long T, H, D, W, offset; int to_heads, accumulate; } HeadsJob;

static void heads_range(void *ctx, long p0, long p1) {
  const HeadsJob *j = ctx;
  const long T = j->T, H = j->H, D = j->D, W = j->W;
  for (long p = p0; p < p1; p++) {
    const long b = p / H, h = p % H;
    for (long t = 0; t < T; t++) {
      long token_major = (b * T + t) * W + j->offset + h * D, head_major = ((b * H + h) * T + t) * D;
      const float *from = j->src + (j->to_heads ? token_major : head_major);
      float *to = j->dst + (j->to_heads ? head_major : token_major);
      if (j->accumulate) for (long d = 0; d < D; d++) to[d] += from[d];
      else memcpy(to, from, (size_t)D * sizeof(float));
    }
  }
}

void rlaif_heads_layout(const float *src, float *dst, long B, long T, long H, long D, long W, long offset, int to_heads,
                        int accumulate) {
  HeadsJob j = { src, dst, T, H, D, W, offset, to_heads, accumulate };
  rlaif_parallel_for(B * H, 1, 0.25 * (double)B * H * T * D, heads_range, &j);
}

void rlaif_embedding(const float *table, const int32_t *ids, float *out, long n, long D) {
  for (long i = 0; i < n; i++) memcpy(out + i * D, table + (long)ids[i] * D, (size_t)D * sizeof(float));
}

void rlaif_embedding_bwd(const float *dout, const int32_t *ids, float *dtable, long n, long D) {
  for (long i = 0; i < n; i++) {
    float *dst = dtable + (long)ids[i] * D;
    const float *src = dout + i * D;
    for (long d = 0; d < D; d++) dst[d] += src[d];
  }
}

double rlaif_sum_squares(const KernelTable *t, const float *x, long n) { return t->sum_squares(x, n); }
