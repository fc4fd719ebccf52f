// Fused causal self-attention forward and backward (grouped-query heads) on the wasm GEMM, single-threaded.
// Per (batch, kv head) the `group` query heads sharing it are one contiguous (group*T, D) matrix, so each step is
// one GEMM: scores = Q K^T, out = P V; backward dV += P^T dO, dP = dO V^T, dS = P (dP - rowdot) scale,
// dQ += dS K, dK += dS^T Q. Leaves out flash-style tiling (probs are materialised, as the interface requires).
#include "kernels.h"

// Masks and normalises one row of scores in place: invisible keys get 0, a row that sees nothing is all 0.
static void softmax_masked_row(float *s, int S, int limit, const float *mask) {
  float mx = -__builtin_inff();
  for (int j = 0; j < S; j++) {
    if (j >= limit || (mask && mask[j] == 0.f)) s[j] = -__builtin_inff();
    else if (s[j] > mx) mx = s[j];
  }
  if (mx == -__builtin_inff()) { for (int j = 0; j < S; j++) s[j] = 0.f; return; }
  float inv = 1.f / row_sumexp(s, s, mx, S);
  for (int j = 0; j < S; j++) s[j] *= inv;
}

// q (B, H, T, D), k, v (B, Hkv, S, D), out (B, H, T, D), probs (B, H, T, S), mask (B, S) or null.
void EXPORT(attention)(const float *q, const float *k, const float *v, float *out, float *probs, const float *mask,
                       int B, int H, int Hkv, int T, int S, int D, int causal, float scale, float *scratch) {
  int group = H / Hkv, rows = group * T;
  for (int b = 0; b < B; b++)
    for (int kh = 0; kh < Hkv; kh++) {
      size_t qo = (size_t)(b * H + kh * group) * T * D, ko = (size_t)(b * Hkv + kh) * S * D;
      float *P = probs + (size_t)(b * H + kh * group) * T * S;
      gemm_block(q + qo, k + ko, P, rows, S, D, 0, 1, scale, 0.f, 0, rows, 0, S, scratch);
      for (int r = 0; r < rows; r++) {
        int i = r % T;
        softmax_masked_row(P + (size_t)r * S, S, causal ? i + (S - T) + 1 : S, mask ? mask + (size_t)b * S : 0);
      }
      gemm_block(P, v + ko, out + qo, rows, D, S, 0, 0, 1.f, 0.f, 0, rows, 0, D, scratch);
    }
}

// dq, dk, dv accumulate; tmp holds (group*T, S) floats for dP / dS.
void EXPORT(attention_bwd)(const float *q, const float *k, const float *v, const float *probs, const float *dout,
                           float *dq, float *dk, float *dv, int B, int H, int Hkv, int T, int S, int D, float scale,
                           float *tmp, float *scratch) {
  int group = H / Hkv, rows = group * T;
  for (int b = 0; b < B; b++)
    for (int kh = 0; kh < Hkv; kh++) {
      size_t qo = (size_t)(b * H + kh * group) * T * D, ko = (size_t)(b * Hkv + kh) * S * D;
      const float *P = probs + (size_t)(b * H + kh * group) * T * S;
      gemm_block(P, dout + qo, dv + ko, S, D, rows, 1, 0, 1.f, 1.f, 0, S, 0, D, scratch);
      gemm_block(dout + qo, v + ko, tmp, rows, S, D, 0, 1, 1.f, 0.f, 0, rows, 0, S, scratch);
      for (int r = 0; r < rows; r++) {
        const float *pr = P + (size_t)r * S;
        float *dr = tmp + (size_t)r * S, dot = 0;
        for (int j = 0; j < S; j++) dot += dr[j] * pr[j];
        for (int j = 0; j < S; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
      }
      gemm_block(tmp, k + ko, dq + qo, rows, D, S, 0, 0, 1.f, 1.f, 0, rows, 0, D, scratch);
      gemm_block(tmp, q + qo, dk + ko, S, D, rows, 1, 0, 1.f, 1.f, 0, S, 0, D, scratch);
    }
}
