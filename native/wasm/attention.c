// Fused causal self-attention (grouped-query heads) forward and backward on the wasm GEMM, one task per (batch,
// kv head): its query heads form one (group*T, D) matrix, so scores = Q K^T, out = P V, dV += P^T dO, dP = dO V^T,
// dQ += dS K, dK += dS^T Q are single GEMMs. Leaves out flash-style tiling (probs are materialised by contract).
#include "kernels.h"

// Masks and normalises one row of scores in place: invisible keys get 0, a row that sees nothing is all 0. `first` is
// the row's first real key (the keys before it are left padding): the sum's vector lanes start there, so a row's bits
// do not depend on the padding before it (a batched decode step's rows: the native kernels' contract too).
static void softmax_masked_row(float *s, int S, int first, int limit, const float *mask) {
  float mx = -__builtin_inff();
  for (int j = 0; j < first; j++) s[j] = 0.f;
  for (int j = first; j < S; j++) {
    if (j >= limit || (mask && mask[j] == 0.f)) s[j] = -__builtin_inff();
    else if (s[j] > mx) mx = s[j];
  }
  if (mx == -__builtin_inff()) { for (int j = first; j < S; j++) s[j] = 0.f; return; }
  float inv = 1.f / row_sumexp(s + first, s + first, mx, S - first);
  for (int j = first; j < S; j++) s[j] *= inv;
}

#define P(name) ((float *)job[name])

// One (batch, kv head) of the forward: q (B, H, T, D), k, v (B, Hkv, S, D), out (B, H, T, D),
// probs (B, H, T, S), mask (B, S) or 0. scratch: GEMM packing space for N up to max(S, D).
void attention_task(const int32_t *job, int t, float *scratch) {
  int H = job[J_AH], Hkv = job[J_AHKV], T = job[J_AT], S = job[J_AS], D = job[J_AD];
  int group = H / Hkv, rows = group * T, b = t / Hkv, kh = t % Hkv;
  float scale = ((const float *)job)[J_SCALE];
  const float *mask = job[J_MASK] ? P(J_MASK) + (size_t)b * S : 0;
  size_t qo = (size_t)(b * H + kh * group) * T * D, ko = (size_t)(b * Hkv + kh) * S * D;
  float *probs = P(J_PROBS) + (size_t)(b * H + kh * group) * T * S;
  gemm_block(P(J_Q) + qo, P(J_KK) + ko, probs, rows, S, D, 0, 1, scale, 0.f, 0, rows, 0, S, scratch, 0);
  int first = 0; // keys before the batch row's first real one: zero weights, left out of the sums
  if (mask) while (first < S && mask[first] == 0.f) first++;
  for (int r = 0; r < rows; r++) {
    int i = r % T;
    softmax_masked_row(probs + (size_t)r * S, S, first, job[J_CAUSAL] ? i + (S - T) + 1 : S, mask);
  }
  gemm_block(probs, P(J_V) + ko, P(J_OUT) + qo, rows, D, S, 0, 0, 1.f, 0.f, 0, rows, 0, D, scratch, first);
}

// One (batch, kv head) of the backward (dout in J_OUT): dq, dk, dv accumulate. scratch: (group*T, S) floats for
// dP / dS, then GEMM packing space.
void attention_bwd_task(const int32_t *job, int t, float *scratch) {
  int H = job[J_AH], Hkv = job[J_AHKV], T = job[J_AT], S = job[J_AS], D = job[J_AD];
  int group = H / Hkv, rows = group * T, b = t / Hkv, kh = t % Hkv;
  float scale = ((const float *)job)[J_SCALE];
  size_t qo = (size_t)(b * H + kh * group) * T * D, ko = (size_t)(b * Hkv + kh) * S * D;
  const float *probs = P(J_PROBS) + (size_t)(b * H + kh * group) * T * S;
  const float *q = P(J_Q) + qo, *k = P(J_KK) + ko, *v = P(J_V) + ko, *dout = P(J_OUT) + qo;
  float *dq = P(J_DQ) + qo, *dk = P(J_DK) + ko, *dv = P(J_DV) + ko;
  float *tmp = scratch, *pack = scratch + ((size_t)rows * S + 15) / 16 * 16;
  gemm_block(probs, dout, dv, S, D, rows, 1, 0, 1.f, 1.f, 0, S, 0, D, pack, 0);
  gemm_block(dout, v, tmp, rows, S, D, 0, 1, 1.f, 0.f, 0, rows, 0, S, pack, 0);
  for (int r = 0; r < rows; r++) {
    const float *pr = probs + (size_t)r * S;
    float *dr = tmp + (size_t)r * S, dot = 0;
    for (int j = 0; j < S; j++) dot += dr[j] * pr[j];
    for (int j = 0; j < S; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
  }
  gemm_block(tmp, k, dq, rows, D, S, 0, 0, 1.f, 1.f, 0, rows, 0, D, pack, 0);
  gemm_block(tmp, q, dk, S, D, rows, 1, 0, 1.f, 1.f, 0, S, 0, D, pack, 0);
}
