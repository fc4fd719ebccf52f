/* Pool-parallel entry points over the per-level kernels (ops.c); binding.c calls these after validating input.
 * Each splits its rows / elements / heads into pool tasks when the work is large enough, else runs inline. */
#ifndef RLAIF_OPS_H
#define RLAIF_OPS_H
#include "common.h"

enum {
  OP_BIAS_ADD, OP_ADD, OP_AXPY, OP_GELU, OP_GELU_BWD, OP_SILU, OP_SILU_BWD, OP_LAYER_NORM, OP_RMS_NORM,
  OP_SOFTMAX, OP_SOFTMAX_BWD, OP_LOG_SOFTMAX, OP_LOG_SOFTMAX_BWD, OP_TARGET_LOGPROBS, OP_TARGET_LOGPROBS_BWD,
  OP_ENTROPY, OP_ENTROPY_BWD, OP_ADAMW
};

/* Arguments of one row/elementwise op: in[] read, out[] written, n rows (or elements), cols per row. */
typedef struct {
  int op;
  const KernelTable *t;
  const float *in[6];
  float *out[4];
  const int32_t *ids;
  long n, cols;
  float f[10];
  int32_t ignore;
} RowJob;

/* Runs j over its n rows (cols > 0) or n elements (cols == 0); cost: rough ns per element. */
void rlaif_rows(RowJob *j, double cost);
void rlaif_sum_rows_into(const KernelTable *t, const float *x, float *out, long rows, long cols);
void rlaif_norm_bwd(const KernelTable *t, int rms, const float *dy, const float *x, const float *w,
                    const float *mean, const float *rstd, float *dx, float *dw, float *db, long rows, long cols);
void rlaif_attention(const KernelTable *t, const float *q, const float *k, const float *v, float *out, float *probs,
                     const AttnShape *s);
void rlaif_attention_bwd(const KernelTable *t, const float *q, const float *k, const float *v, const float *probs,
                         const float *dout, float *dq, float *dk, float *dv, const AttnShape *s);
void rlaif_heads_layout(const float *src, float *dst, long B, long T, long H, long D, long W, long offset, int to_heads,
                        int accumulate);
void rlaif_embedding(const float *table, const int32_t *ids, float *out, long n, long D);
void rlaif_embedding_bwd(const float *dout, const int32_t *ids, float *dtable, long n, long D);
double rlaif_sum_squares(const KernelTable *t, const float *x, long n);
#endif
