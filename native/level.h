/* Names for the code compiled once per CPU level: RLAIF_LEVEL (avx512 | avx2 | generic) suffixes every symbol.
 * level_gemm.c builds the table; level_ops.c holds the fused row/elementwise kernels it points to. */
#ifndef RLAIF_LEVEL_H
#define RLAIF_LEVEL_H
#include "common.h"

#ifndef RLAIF_LEVEL
#error "compile with -DRLAIF_LEVEL=avx512|avx2|generic"
#endif
#define RL_CAT2(a, b) a##_##b
#define RL_CAT(a, b) RL_CAT2(a, b)
#define L(name) RL_CAT(name, RLAIF_LEVEL)
#define RL_STR2(x) #x
#define RL_STR(x) RL_STR2(x)
#define LEVEL_NAME RL_STR(RLAIF_LEVEL)
#define LEVEL_TABLE RL_CAT(rlaif_table, RLAIF_LEVEL)

#define RL_OPS(X) X(gemv_nn) X(gemv_nn_rows) X(gemv_nt) X(gemv_nt_tiles) X(gemv_bf16) X(bf16_widen) X(bf16_round) X(bias_add) X(sum_cols) X(add) X(axpy) X(gelu) X(gelu_bwd) X(silu) X(silu_bwd) \
  X(layer_norm) X(layer_norm_bwd) X(rms_norm) X(rms_norm_bwd) X(softmax) X(softmax_bwd) X(log_softmax) \
  X(log_softmax_bwd) X(target_logprobs) X(target_logprobs_bwd) X(entropy) X(entropy_bwd) X(attention) \
  X(attention_bwd) X(adamw) X(sum_squares)

/* each op is declared with the type of its table slot */
#define RL_DECL(op) extern __typeof__(*((KernelTable *)0)->op) L(op);
RL_OPS(RL_DECL)
#define RL_INIT(op) .op = L(op),
#define LEVEL_OPS_INIT RL_OPS(RL_INIT)
#endif
