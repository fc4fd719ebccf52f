// Elementwise, normalization, softmax-family and AdamW kernels in wasm SIMD128, mirroring js-backend.ts.
// Leaves out bounds and index checks (the TypeScript wrapper validates first); sums run in float32, 4 lanes.
#include "kernels.h"

// log(x) for x > 0 in float64: x = m 2^e, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m-1)/(m+1)) by series.
static double logd(double x) {
  if (!(x > 0)) return x == 0 ? -__builtin_inf() : __builtin_nan("");
  if (x == __builtin_inf()) return x;
  uint64_t bits = __builtin_bit_cast(uint64_t, x);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  double m = __builtin_bit_cast(double, (bits & 0xfffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 1.4142135623730951) { m *= 0.5; e++; }
  double z = (m - 1) / (m + 1), z2 = z * z, s = 0;
  for (int k = 23; k >= 1; k -= 2) s = s * z2 + 1.0 / k;
  return 2 * z * s + e * 0.6931471805599453;
}

static inline float hmax(v128_t v) {
  float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
  float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
  a = a > b ? a : b; c = c > d ? c : d;
  return a > c ? a : c;
}

// Applies a unary vector function f over n elements of x into y (tail handled with a padded vector).
#define UNARY(f, x, y, n) do { int i_ = 0; \
    for (; i_ + 4 <= (n); i_ += 4) wasm_v128_store((y) + i_, f(wasm_v128_load((x) + i_))); \
    if (i_ < (n)) store_tail((y) + i_, f(load_tail((x) + i_, (n) - i_)), (n) - i_); } while (0)
// dx += dy * f'(x) over n elements.
#define BINARY_ACC(f, x, dy, dx, n) do { int i_ = 0; \
    for (; i_ + 4 <= (n); i_ += 4) wasm_v128_store((dx) + i_, wasm_f32x4_add(wasm_v128_load((dx) + i_), \
        wasm_f32x4_mul(wasm_v128_load((dy) + i_), f(wasm_v128_load((x) + i_))))); \
    if (i_ < (n)) { int r_ = (n) - i_; store_tail((dx) + i_, wasm_f32x4_add(load_tail((dx) + i_, r_), \
        wasm_f32x4_mul(load_tail((dy) + i_, r_), f(load_tail((x) + i_, r_)))), r_); } } while (0)

// 1 / (1 + exp(-x)), 0 where -x > 88.6: vexp stays finite there, so GELU and SiLU of -inf came out -inf (-inf times a
// tiny s) where js and native give NaN (-inf times 0)
static inline v128_t sigmoid(v128_t x) {
  v128_t s = wasm_f32x4_div(SPLAT(1.f), wasm_f32x4_add(SPLAT(1.f), vexp(wasm_f32x4_neg(x))));
  return wasm_v128_andnot(s, wasm_f32x4_lt(x, SPLAT(-88.6f)));
}
#define GELU_C 0.7978845608028654f
// 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).
static inline v128_t gelu_u2(v128_t x) {
  v128_t x2 = wasm_f32x4_mul(x, x);
  return wasm_f32x4_mul(SPLAT(2 * GELU_C), wasm_f32x4_mul(x, wasm_f32x4_add(SPLAT(1.f), wasm_f32x4_mul(SPLAT(0.044715f), x2))));
}
static inline v128_t gelu_v(v128_t x) { return wasm_f32x4_mul(x, sigmoid(gelu_u2(x))); }
// d/dx = s + 2 x s (1 - s) du/dx with s = sigmoid(2u) (since 1 + tanh u = 2s, 1 - tanh^2 u = 4 s (1 - s)). The second
// term takes x clamped to +-1e4 (+ (x - x): inf and NaN stay NaN): past ~1.8e19, x^2 overflowed and 0 * inf made the
// gradient of a finite x NaN (as in level_ops.c); s (1 - s) is 0 long before 1e4, so no other value changes.
static inline v128_t gelu_d(v128_t x) {
  v128_t s = sigmoid(gelu_u2(x));
  v128_t xc = wasm_f32x4_add(wasm_f32x4_min(wasm_f32x4_max(x, SPLAT(-1e4f)), SPLAT(1e4f)), wasm_f32x4_sub(x, x));
  v128_t du = wasm_f32x4_mul(SPLAT(GELU_C), wasm_f32x4_add(SPLAT(1.f), wasm_f32x4_mul(SPLAT(3 * 0.044715f), wasm_f32x4_mul(xc, xc))));
  v128_t t = wasm_f32x4_mul(wasm_f32x4_mul(SPLAT(2.f), xc), wasm_f32x4_mul(s, wasm_f32x4_sub(SPLAT(1.f), s)));
  return wasm_f32x4_add(s, wasm_f32x4_mul(t, du));
}
static inline v128_t silu_v(v128_t x) { return wasm_f32x4_mul(x, sigmoid(x)); }
static inline v128_t silu_d(v128_t x) {
  v128_t s = sigmoid(x);
  return wasm_f32x4_mul(s, wasm_f32x4_add(SPLAT(1.f), wasm_f32x4_mul(x, wasm_f32x4_sub(SPLAT(1.f), s))));
}

void EXPORT(gelu)(const float *x, float *y, int n) { UNARY(gelu_v, x, y, n); }
void EXPORT(gelu_bwd)(const float *x, const float *dy, float *dx, int n) { BINARY_ACC(gelu_d, x, dy, dx, n); }
void EXPORT(silu)(const float *x, float *y, int n) { UNARY(silu_v, x, y, n); }
void EXPORT(silu_bwd)(const float *x, const float *dy, float *dx, int n) { BINARY_ACC(silu_d, x, dy, dx, n); }

static float row_sum(const float *x, int n) {
  v128_t s = SPLAT(0); int j = 0;
  for (; j + 4 <= n; j += 4) s = wasm_f32x4_add(s, wasm_v128_load(x + j));
  float t = hsum(s);
  for (; j < n; j++) t += x[j];
  return t;
}
static float row_dot(const float *x, const float *y, int n) {
  v128_t s = SPLAT(0); int j = 0;
  for (; j + 4 <= n; j += 4) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(x + j), wasm_v128_load(y + j)));
  float t = hsum(s);
  for (; j < n; j++) t += x[j] * y[j];
  return t;
}
static float row_max(const float *x, int n) {
  v128_t m = SPLAT(-__builtin_inff()); int j = 0;
  for (; j + 4 <= n; j += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(x + j));
  float t = hmax(m);
  for (; j < n; j++) t = x[j] > t ? x[j] : t;
  return t;
}
// sum_j exp(x_j - mx); when y is not null also writes the exponentials there.
float row_sumexp(const float *x, float *y, float mx, int n) {
  v128_t s = SPLAT(0), m = SPLAT(mx); int j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t e = vexp(wasm_f32x4_sub(wasm_v128_load(x + j), m));
    if (y) wasm_v128_store(y + j, e);
    s = wasm_f32x4_add(s, e);
  }
  if (j < n) {
    v128_t e = vexp(wasm_f32x4_sub(load_tail(x + j, n - j), m));
    e = wasm_v128_and(e, wasm_i32x4_lt(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(n - j)));
    if (y) store_tail(y + j, e, n - j);
    s = wasm_f32x4_add(s, e);
  }
  return hsum(s);
}
static float row_lse(const float *x, int n) {
  float mx = row_max(x, n);
  if (mx == -__builtin_inff()) return mx;
  return (float)(mx + logd(row_sumexp(x, 0, mx, n)));
}

void EXPORT(layernorm)(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd,
                       int rows, int cols, float eps) {
  for (int r = 0; r < rows; r++, x += cols, y += cols) {
    float mu = row_sum(x, cols) / cols;
    v128_t vm = SPLAT(mu), ss = SPLAT(0); int j = 0;
    for (; j + 4 <= cols; j += 4) { v128_t d = wasm_f32x4_sub(wasm_v128_load(x + j), vm); ss = wasm_f32x4_add(ss, wasm_f32x4_mul(d, d)); }
    float var = hsum(ss);
    for (; j < cols; j++) var += (x[j] - mu) * (x[j] - mu);
    float rs = 1.f / __builtin_sqrtf(var / cols + eps);
    mean[r] = mu; rstd[r] = rs;
    v128_t vr = SPLAT(rs);
    for (j = 0; j + 4 <= cols; j += 4)
      wasm_v128_store(y + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + j), vm), vr),
                                                           wasm_v128_load(w + j)), wasm_v128_load(b + j)));
    for (; j < cols; j++) y[j] = (x[j] - mu) * rs * w[j] + b[j];
  }
}

void EXPORT(layernorm_bwd)(const float *dy, const float *x, const float *w, const float *mean, const float *rstd,
                           float *dx, float *dw, float *db, int rows, int cols) {
  for (int r = 0; r < rows; r++, x += cols, dy += cols, dx += cols) {
    v128_t vm = SPLAT(mean[r]), vr = SPLAT(rstd[r]), sg = SPLAT(0), sgx = SPLAT(0);
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      v128_t xhat = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + j), vm), vr), d = wasm_v128_load(dy + j);
      v128_t g = wasm_f32x4_mul(d, wasm_v128_load(w + j));
      sg = wasm_f32x4_add(sg, g); sgx = wasm_f32x4_add(sgx, wasm_f32x4_mul(g, xhat));
      wasm_v128_store(dw + j, wasm_f32x4_add(wasm_v128_load(dw + j), wasm_f32x4_mul(d, xhat)));
      wasm_v128_store(db + j, wasm_f32x4_add(wasm_v128_load(db + j), d));
    }
    float sumG = hsum(sg), sumGX = hsum(sgx), mu = mean[r], rs = rstd[r];
    for (; j < cols; j++) {
      float xhat = (x[j] - mu) * rs, g = dy[j] * w[j];
      sumG += g; sumGX += g * xhat; dw[j] += dy[j] * xhat; db[j] += dy[j];
    }
    float mG = sumG / cols, mGX = sumGX / cols;
    v128_t vmG = SPLAT(mG), vmGX = SPLAT(mGX);
    for (j = 0; j + 4 <= cols; j += 4) {
      v128_t xhat = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + j), vm), vr);
      v128_t t = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(dy + j), wasm_v128_load(w + j)), vmG), wasm_f32x4_mul(xhat, vmGX));
      wasm_v128_store(dx + j, wasm_f32x4_add(wasm_v128_load(dx + j), wasm_f32x4_mul(vr, t)));
    }
    for (; j < cols; j++) { float xhat = (x[j] - mu) * rs; dx[j] += rs * (dy[j] * w[j] - mG - xhat * mGX); }
  }
}

void EXPORT(rmsnorm)(const float *x, const float *w, float *y, float *rstd, int rows, int cols, float eps) {
  for (int r = 0; r < rows; r++, x += cols, y += cols) {
    float rs = 1.f / __builtin_sqrtf(row_dot(x, x, cols) / cols + eps);
    rstd[r] = rs;
    v128_t vr = SPLAT(rs); int j = 0;
    for (; j + 4 <= cols; j += 4) wasm_v128_store(y + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + j), vr), wasm_v128_load(w + j)));
    for (; j < cols; j++) y[j] = x[j] * rs * w[j];
  }
}

void EXPORT(rmsnorm_bwd)(const float *dy, const float *x, const float *w, const float *rstd, float *dx, float *dw,
                         int rows, int cols) {
  for (int r = 0; r < rows; r++, x += cols, dy += cols, dx += cols) {
    float rs = rstd[r], sumGX = 0;
    for (int j = 0; j < cols; j++) { float xhat = x[j] * rs; sumGX += dy[j] * w[j] * xhat; dw[j] += dy[j] * xhat; }
    float m = sumGX / cols;
    for (int j = 0; j < cols; j++) dx[j] += rs * (dy[j] * w[j] - x[j] * rs * m);
  }
}

void EXPORT(softmax)(const float *x, float *y, int rows, int cols) {
  for (int r = 0; r < rows; r++, x += cols, y += cols) {
    float inv = 1.f / row_sumexp(x, y, row_max(x, cols), cols);
    for (int j = 0; j < cols; j++) y[j] *= inv;
  }
}

void EXPORT(softmax_bwd)(const float *y, const float *dy, float *dx, int rows, int cols) {
  for (int r = 0; r < rows; r++, y += cols, dy += cols, dx += cols) {
    float dot = row_dot(dy, y, cols);
    for (int j = 0; j < cols; j++) dx[j] += y[j] * (dy[j] - dot);
  }
}

void EXPORT(logsoftmax)(const float *x, float *y, int rows, int cols) {
  for (int r = 0; r < rows; r++, x += cols, y += cols) {
    float lse = row_lse(x, cols);
    for (int j = 0; j < cols; j++) y[j] = x[j] - lse;
  }
}

void EXPORT(logsoftmax_bwd)(const float *y, const float *dy, float *dx, int rows, int cols) {
  for (int r = 0; r < rows; r++, y += cols, dy += cols, dx += cols) {
    v128_t s = SPLAT(row_sum(dy, cols)); int j = 0;
    for (; j + 4 <= cols; j += 4)
      wasm_v128_store(dx + j, wasm_f32x4_add(wasm_v128_load(dx + j),
                      wasm_f32x4_sub(wasm_v128_load(dy + j), wasm_f32x4_mul(vexp(wasm_v128_load(y + j)), s))));
    if (j < cols) { int t = cols - j;
      store_tail(dx + j, wasm_f32x4_add(load_tail(dx + j, t), wasm_f32x4_sub(load_tail(dy + j, t), wasm_f32x4_mul(vexp(load_tail(y + j, t)), s))), t); }
  }
}

void EXPORT(target_logprobs)(const float *logits, const int32_t *targets, float *out, float *lse, int rows, int V,
                             int ignore) {
  for (int r = 0; r < rows; r++, logits += V) {
    float l = row_lse(logits, V);
    lse[r] = l;
    out[r] = targets[r] == ignore ? 0.f : logits[targets[r]] - l;
  }
}

// dlogits[r] += g[r] * (onehot(t) - softmax) when wantTarget, else dlogits[r] -= g[r] * p (logp + h[r]) (entropy).
static void softmax_grad_row(const float *x, float l, float g, float h, float *d, int V, int entropyGrad) {
  v128_t vl = SPLAT(l), vg = SPLAT(g), vh = SPLAT(h); int j = 0;
  for (; j + 4 <= V; j += 4) {
    v128_t lp = wasm_f32x4_sub(wasm_v128_load(x + j), vl), p = vexp(lp);
    if (entropyGrad) p = wasm_f32x4_mul(p, wasm_f32x4_add(lp, vh));
    wasm_v128_store(d + j, wasm_f32x4_sub(wasm_v128_load(d + j), wasm_f32x4_mul(vg, p)));
  }
  if (j < V) { int t = V - j;
    v128_t lp = wasm_f32x4_sub(load_tail(x + j, t), vl), p = vexp(lp);
    if (entropyGrad) p = wasm_f32x4_mul(p, wasm_f32x4_add(lp, vh));
    store_tail(d + j, wasm_f32x4_sub(load_tail(d + j, t), wasm_f32x4_mul(vg, p)), t); }
}

void EXPORT(target_logprobs_bwd)(const float *logits, const int32_t *targets, const float *lse, const float *g,
                                 float *dlogits, int rows, int V, int ignore) {
  for (int r = 0; r < rows; r++) {
    int t = targets[r];
    if (t == ignore || g[r] == 0.f) continue;
    softmax_grad_row(logits + (size_t)r * V, lse[r], g[r], 0.f, dlogits + (size_t)r * V, V, 0);
    dlogits[(size_t)r * V + t] += g[r];
  }
}

void EXPORT(entropy)(const float *logits, float *out, float *lse, int rows, int V) {
  for (int r = 0; r < rows; r++, logits += V) {
    float l = row_lse(logits, V);
    v128_t vl = SPLAT(l), acc = SPLAT(0); int j = 0;
    for (; j + 4 <= V; j += 4) {
      v128_t x = wasm_v128_load(logits + j);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(vexp(wasm_f32x4_sub(x, vl)), x));
    }
    float px = hsum(acc);
    for (; j < V; j++) px += wasm_f32x4_extract_lane(vexp(SPLAT(logits[j] - l)), 0) * logits[j];
    lse[r] = l; out[r] = l - px;
  }
}

void EXPORT(entropy_bwd)(const float *logits, const float *lse, const float *h, const float *g, float *dlogits,
                         int rows, int V) {
  for (int r = 0; r < rows; r++) {
    if (g[r] == 0.f) continue;
    softmax_grad_row(logits + (size_t)r * V, lse[r], g[r], h[r], dlogits + (size_t)r * V, V, 1);
  }
}

void EXPORT(adamw)(float *param, const float *grad, float *m, float *v, int n, float lr, float b1, float b2,
                   float eps, float wd, float bc1, float bc2, float gs) {
  v128_t vb1 = SPLAT(b1), vb2 = SPLAT(b2), c1 = SPLAT(1 - b1), c2 = SPLAT(1 - b2), vgs = SPLAT(gs);
  v128_t ibc1 = SPLAT(1 / bc1), ibc2 = SPLAT(1 / bc2), veps = SPLAT(eps), vlr = SPLAT(lr), vwd = SPLAT(wd);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t g = wasm_f32x4_mul(wasm_v128_load(grad + i), vgs);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(vb1, wasm_v128_load(m + i)), wasm_f32x4_mul(c1, g));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(vb2, wasm_v128_load(v + i)), wasm_f32x4_mul(c2, wasm_f32x4_mul(g, g)));
    wasm_v128_store(m + i, mi); wasm_v128_store(v + i, vi);
    v128_t p = wasm_v128_load(param + i);
    v128_t step = wasm_f32x4_div(wasm_f32x4_mul(mi, ibc1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vi, ibc2)), veps));
    wasm_v128_store(param + i, wasm_f32x4_sub(p, wasm_f32x4_mul(vlr, wasm_f32x4_add(step, wasm_f32x4_mul(vwd, p)))));
  }
  for (; i < n; i++) {
    float g = grad[i] * gs;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    param[i] -= lr * ((m[i] / bc1) / (__builtin_sqrtf(v[i] / bc2) + eps) + wd * param[i]);
  }
}
