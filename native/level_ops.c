/* Fused elementwise, norm, softmax, log-prob, attention and AdamW kernels for one CPU level (compiled per level).
 * Plain C the compiler vectorizes at the level's width: reductions use LANES independent accumulators (no
 * -ffast-math, so NaN/Inf propagate as in the js reference); exp is a branch-free Cephes polynomial (~1 ulp) written so GCC vectorizes it (check: -fopt-info-vec). */
#include "level.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define LANES 16
#define K_GELU 0.7978845608028654f /* sqrt(2 / pi) */

/* exp's core for xc already clamped to [-87.3, 88.3], scalar or vector (type T, P0 the first coefficient as a T):
 * xc = fn ln2 + r, |r| <= ln2/2, p = exp(r) by a degree-6 polynomial; the caller builds 2^fn in the exponent bits.
 * fn is rounded to nearest by the 1.5 * 2^23 trick: exact without -fassociative-math, and it vectorizes. One text for
 * both forms, so their operations, and bits, are the same. */
#define EXP_CORE(T, xc, fn, p, P0) \
  T fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; \
  T r_ = xc - fn * 0.693359375f; \
  r_ = r_ - fn * -2.12194440e-4f; \
  T p = P0; \
  p = p * r_ + 1.3981999507e-3f; \
  p = p * r_ + 8.3334519073e-3f; \
  p = p * r_ + 4.1665795894e-2f; \
  p = p * r_ + 1.6666665459e-1f; \
  p = p * r_ + 5.0000001201e-1f; \
  p = p * r_ * r_ + r_ + 1.0f;

/* exp(x), vectorizable (~1 ulp), 0 below -87.3, +inf above 88.6, NaN for NaN. */
static inline float vexp(float x) {
  float xc = x > -87.3f ? x : -87.3f;
  xc = xc < 88.3f ? xc : 88.3f;
  EXP_CORE(float, xc, fn, p, 1.9875691500e-4f)
  int n = (int)fn;
  union { int32_t i; float f; } e = { .i = (n + 127) << 23 };
  float res = p * e.f;
  res = x < -87.3f ? 0.0f : res;
  res = x > 88.6f ? INFINITY : res;
  res = x != x ? x : res;
  return res;
}
/* The level's native vectors (GCC vector extensions): NL floats, one zmm on AVX-512, one ymm on AVX2, one xmm in
 * generic. */
#if defined(__AVX512F__)
#define NL 16
#elif defined(__AVX2__)
#define NL 8
#else
#define NL 4
#endif
typedef float vn __attribute__((vector_size(NL * sizeof(float))));
typedef int32_t vni __attribute__((vector_size(NL * sizeof(float))));
static inline vn vnload(const float *p) { vn v; memcpy(&v, p, sizeof v); return v; }
static inline void vnstore(float *p, vn v) { memcpy(p, &v, sizeof v); }
/* a > b ? a : b and a < b ? a : b lane by lane (b where a is NaN), as maxps / minps compute them in one instruction:
 * GCC compiles the select form to compares and blends without fast-math flags */
#if NL == 16
static inline vn vnmax(vn a, vn b) { return (vn)_mm512_max_ps((__m512)a, (__m512)b); }
static inline vn vnmin(vn a, vn b) { return (vn)_mm512_min_ps((__m512)a, (__m512)b); }
#elif NL == 8
static inline vn vnmax(vn a, vn b) { return (vn)_mm256_max_ps((__m256)a, (__m256)b); }
static inline vn vnmin(vn a, vn b) { return (vn)_mm256_min_ps((__m256)a, (__m256)b); }
#else
static inline vn vnmax(vn a, vn b) { return (vn)_mm_max_ps((__m128)a, (__m128)b); }
static inline vn vnmin(vn a, vn b) { return (vn)_mm_min_ps((__m128)a, (__m128)b); }
#endif

/* exp(x) for a sigmoid's 1 + exp(x), NL lanes: vexp's bits for every x >= -87.3 (+inf past 88.6, as vexp); below
 * -87.3 (vexp: 0) it gives exp(-87.3) ~ 1.2e-38, which 1 + e rounds away as 1 + 0; for a NaN x some finite value
 * (callers whose x is NaN only where their own input is get NaN from that input). Without vexp's other two selects and with
 * its clamps as maxps / minps, GELU ran ~30% faster (GCC had compiled the scalar form's clamps and selects as
 * compares and blends). */
static inline vn vnexp_sig(vn x) {
  vn xc = vnmin(vnmax(x, (vn){0} - 87.3f), (vn){0} + 88.3f);
  EXP_CORE(vn, xc, fn, p, (vn){0} + 1.9875691500e-4f)
  vni n = __builtin_convertvector(fn, vni);
  vn res = p * (vn)((n + 127) << 23);
  vni big = x > 88.6f;
  return (vn)(((vni)((vn){0} + INFINITY) & big) | ((vni)res & ~big));
}

/* LANES-wide vectors for the reductions: lane l accumulates elements j with j % LANES == l, and the lanes are added in
 * order, so every level computes the same sums (up to FMA contraction, which generic lacks). Held as LANES / NL native
 * vectors (lane l is lane l % NL of part l / NL): one zmm on AVX-512, two ymm on AVX2, four xmm in generic. A 64-byte
 * GCC vector on a target without 64-byte registers was kept on the stack and moved through general registers every
 * step (vmovq/vpinsrq; layer norm ran 4x slower on AVX2 than on AVX-512); a struct of native vectors stays in
 * registers, with the same arithmetic lane by lane. */
#define VPARTS (LANES / NL)
typedef struct { vn p[VPARTS]; } vf;

static inline vf vzero(void) { vf v; for (int i = 0; i < VPARTS; i++) v.p[i] = (vn){0}; return v; }
static inline vf vload(const float *p) { vf v; for (int i = 0; i < VPARTS; i++) v.p[i] = vnload(p + i * NL); return v; }
static inline vf vadd(vf a, vf b) { for (int i = 0; i < VPARTS; i++) a.p[i] += b.p[i]; return a; }
static inline vf vmul(vf a, vf b) { for (int i = 0; i < VPARTS; i++) a.p[i] *= b.p[i]; return a; }
static inline vf vsubs(vf a, float s) { for (int i = 0; i < VPARTS; i++) a.p[i] -= s; return a; }
static inline vf vmuls(vf a, float s) { for (int i = 0; i < VPARTS; i++) a.p[i] *= s; return a; }
/* acc + x y, lane by lane (contracted to an FMA where the level has one, as `acc += x * y` was) */
static inline vf vmuladd(vf acc, vf x, vf y) { for (int i = 0; i < VPARTS; i++) acc.p[i] += x.p[i] * y.p[i]; return acc; }
/* a > b ? a : b lane by lane (b where a is NaN) */
static inline vf vmax(vf a, vf b) {
  for (int i = 0; i < VPARTS; i++) { vni m = a.p[i] > b.p[i]; a.p[i] = (vn)(((vni)a.p[i] & m) | ((vni)b.p[i] & ~m)); }
  return a;
}
static inline float vlane(vf v, int l) { return v.p[l / NL][l % NL]; }

static inline float lane_sum(const float *acc) {
  float s = 0.0f;
  for (int l = 0; l < LANES; l++) s += acc[l];
  return s;
}

static inline float vsum(vf v) {
  float s = 0.0f;
  for (int l = 0; l < LANES; l++) s += vlane(v, l);
  return s;
}

static inline float row_sum(const float *x, long n) {
  vf acc = vzero();
  long j = 0;
  for (; j + LANES <= n; j += LANES) acc = vadd(acc, vload(x + j));
  float s = vsum(acc);
  for (; j < n; j++) s += x[j];
  return s;
}

static inline float row_dot(const float *x, const float *y, long n) {
  vf acc = vzero();
  long j = 0;
  for (; j + LANES <= n; j += LANES) acc = vmuladd(acc, vload(x + j), vload(y + j));
  float s = vsum(acc);
  for (; j < n; j++) s += x[j] * y[j];
  return s;
}

static inline float row_max(const float *x, long n) {
  vf acc = vsubs(vzero(), INFINITY); /* -inf in every lane */
  long j = 0;
  float m = -INFINITY;
  if (n >= LANES) {
    for (; j + LANES <= n; j += LANES) acc = vmax(vload(x + j), acc);
    for (int l = 0; l < LANES; l++) m = vlane(acc, l) > m ? vlane(acc, l) : m;
  }
  for (; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

/* sum_j exp(x[j] - mx) */
static inline float row_sum_exp(const float *x, float mx, long n) {
  float acc[LANES] = {0};
  long j = 0;
  for (; j + LANES <= n; j += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += vexp(x[j + l] - mx);
  float s = lane_sum(acc);
  for (; j < n; j++) s += vexp(x[j] - mx);
  return s;
}

static inline float row_lse(const float *x, long n) {
  float mx = row_max(x, n);
  if (mx == -INFINITY) return -INFINITY;
  return mx + logf(row_sum_exp(x, mx, n));
}

void L(bias_add)(float *x, const float *bias, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    float *xr = x + r * cols;
    for (long j = 0; j < cols; j++) xr[j] += bias[j];
  }
}

void L(sum_cols)(const float *x, double *acc, long rows, long c0, long c1, long cols) {
  for (long r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    for (long j = c0; j < c1; j++) acc[j] += (double)xr[j];
  }
}

void L(add)(const float *a, const float *b, float *out, long n) {
  for (long i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void L(axpy)(float alpha, const float *x, float *y, long n) {
  for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

/* GELU_tanh(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u): no cancellation near 0. SiLU(x) = x * sigmoid(x). Each as
 * x / (1 + exp(z)) with z its sigmoid's argument negated (gelu_z: -2u, silu_z: -x), scalar and vector. */
static inline float gelu_z(float v) { return -2.0f * (K_GELU * (v + 0.044715f * v * v * v)); }
static inline vn gelu_zv(vn v) { return -2.0f * (K_GELU * (v + 0.044715f * v * v * v)); }
static inline float silu_z(float v) { return -v; }
static inline vn silu_zv(vn v) { return -v; }

/* y = x / (1 + exp(z(x))): two vectors a step (the exp's long dependent chain; GELU 0.79 -> 0.55 ns an element at AVX2
 * with the vector exp), the scalar tail through vexp (the same arithmetic, so the same bits) */
#define ACTIVATION_FWD(NAME, ZV, Z) \
  void L(NAME)(const float *x, float *y, long n) { \
    long i = 0; \
    for (; i + 2 * NL <= n; i += 2 * NL) { \
      vn v0 = vnload(x + i), v1 = vnload(x + i + NL); \
      vn e0 = vnexp_sig(ZV(v0)), e1 = vnexp_sig(ZV(v1)); \
      vnstore(y + i, v0 / (1.0f + e0)); \
      vnstore(y + i + NL, v1 / (1.0f + e1)); \
    } \
    for (; i < n; i++) y[i] = x[i] / (1.0f + vexp(Z(x[i]))); \
  }

ACTIVATION_FWD(gelu, gelu_zv, gelu_z)
ACTIVATION_FWD(silu, silu_zv, silu_z)

/* d/dx: 0.5 (1 + t) + 0.5 x (1 - t^2) u' with 0.5 (1 + t) = s, 1 - t^2 = 4 s (1 - s), s = sigmoid(2u). The second
 * term takes x clamped to +-1e4 (+ (x - x): inf and NaN stay NaN, as in the js reference): past ~1.8e19, x^2
 * overflowed, and past 1.7e38 2x did, and 0 * inf made the gradient of a finite x NaN (js, in float64: 1 or 0).
 * s (1 - s) is 0 long before 1e4, so no other value changes. */
static inline float gelu_grad(float v) {
  float s = 1.0f / (1.0f + vexp(gelu_z(v)));
  float vc = v > -1e4f ? v : -1e4f;
  vc = (vc < 1e4f ? vc : 1e4f) + (v - v);
  float du = K_GELU * (1.0f + 3.0f * 0.044715f * vc * vc);
  return s + 2.0f * vc * s * (1.0f - s) * du;
}
static inline vn gelu_gradv(vn v) {
  vn s = 1.0f / (1.0f + vnexp_sig(gelu_zv(v)));
  vn vc = vnmin(vnmax(v, (vn){0} - 1e4f), (vn){0} + 1e4f) + (v - v);
  vn du = K_GELU * (1.0f + 3.0f * 0.044715f * vc * vc);
  return s + 2.0f * vc * s * (1.0f - s) * du;
}

/* dx (+)= dy f'(x): two vectors a step through GRADV, the scalar tail through GRAD (the same arithmetic); with
 * accumulate 0, dx is written and not read */
#define ACTIVATION_BWD(NAME, GRADV, GRAD) \
  void L(NAME)(const float *x, const float *dy, float *dx, long n, int accumulate) { \
    long i = 0; \
    if (accumulate) { \
      for (; i + 2 * NL <= n; i += 2 * NL) { \
        vn f0 = GRADV(vnload(x + i)), f1 = GRADV(vnload(x + i + NL)); \
        vnstore(dx + i, vnload(dx + i) + vnload(dy + i) * f0); \
        vnstore(dx + i + NL, vnload(dx + i + NL) + vnload(dy + i + NL) * f1); \
      } \
      for (; i < n; i++) dx[i] += dy[i] * GRAD(x[i]); \
      return; \
    } \
    for (; i + 2 * NL <= n; i += 2 * NL) { \
      vn f0 = GRADV(vnload(x + i)), f1 = GRADV(vnload(x + i + NL)); \
      vnstore(dx + i, vnload(dy + i) * f0); \
      vnstore(dx + i + NL, vnload(dy + i + NL) * f1); \
    } \
    for (; i < n; i++) dx[i] = dy[i] * GRAD(x[i]); \
  }

ACTIVATION_BWD(gelu_bwd, gelu_gradv, gelu_grad)

static inline float silu_grad(float v) {
  float s = 1.0f / (1.0f + vexp(silu_z(v)));
  return s * (1.0f + v * (1.0f - s));
}
static inline vn silu_gradv(vn v) {
  vn s = 1.0f / (1.0f + vnexp_sig(silu_zv(v)));
  return s * (1.0f + v * (1.0f - s));
}

ACTIVATION_BWD(silu_bwd, silu_gradv, silu_grad)

void L(layer_norm)(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd,
                   long r0, long r1, long cols, float eps) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float mu = row_sum(xr, cols) / (float)cols;
    vf acc = vzero();
    long j = 0;
    for (; j + LANES <= cols; j += LANES) { vf d = vsubs(vload(xr + j), mu); acc = vmuladd(acc, d, d); }
    float ss = vsum(acc);
    for (; j < cols; j++) { float d = xr[j] - mu; ss += d * d; }
    float rs = 1.0f / sqrtf(ss / (float)cols + eps);
    mean[r] = mu; rstd[r] = rs;
    for (j = 0; j < cols; j++) yr[j] = (xr[j] - mu) * rs * w[j] + b[j];
  }
}

/* dx, dw, db never alias the inputs (nor each other): restrict lets the last loop vectorize */
void L(layer_norm_bwd)(const float *restrict dy, const float *restrict x, const float *restrict w,
                       const float *restrict mean, const float *restrict rstd, float *restrict dx,
                       float *restrict dw, float *restrict db, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols, *gr = dy + r * cols;
    float *dxr = dx + r * cols;
    float mu = mean[r], rs = rstd[r];
    vf aG = vzero(), aGX = vzero();
    long j = 0;
    for (; j + LANES <= cols; j += LANES) {
      vf xhat = vmuls(vsubs(vload(xr + j), mu), rs), g = vmul(vload(gr + j), vload(w + j));
      aG = vadd(aG, g); aGX = vmuladd(aGX, g, xhat);
    }
    float sumG = vsum(aG), sumGX = vsum(aGX);
    for (; j < cols; j++) {
      float xhat = (xr[j] - mu) * rs, g = gr[j] * w[j];
      sumG += g; sumGX += g * xhat;
    }
    float mG = sumG / (float)cols, mGX = sumGX / (float)cols;
    for (j = 0; j < cols; j++) {
      float xhat = (xr[j] - mu) * rs;
      dw[j] += gr[j] * xhat;
      db[j] += gr[j];
      dxr[j] += rs * (gr[j] * w[j] - mG - xhat * mGX);
    }
  }
}

void L(rms_norm)(const float *x, const float *w, float *y, float *rstd, long r0, long r1, long cols, float eps) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float rs = 1.0f / sqrtf(row_dot(xr, xr, cols) / (float)cols + eps);
    rstd[r] = rs;
    for (long j = 0; j < cols; j++) yr[j] = xr[j] * rs * w[j];
  }
}

void L(rms_norm_bwd)(const float *restrict dy, const float *restrict x, const float *restrict w,
                     const float *restrict rstd, float *restrict dx, float *restrict dw, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols, *gr = dy + r * cols;
    float *dxr = dx + r * cols;
    float rs = rstd[r];
    vf acc = vzero();
    long j = 0;
    for (; j + LANES <= cols; j += LANES) acc = vmuladd(acc, vmul(vload(gr + j), vload(w + j)), vload(xr + j));
    float s = vsum(acc);
    for (; j < cols; j++) s += gr[j] * w[j] * xr[j];
    float m = s * rs / (float)cols;
    for (j = 0; j < cols; j++) {
      dw[j] += gr[j] * xr[j] * rs;
      dxr[j] += rs * (gr[j] * w[j] - xr[j] * rs * m);
    }
  }
}

void L(softmax)(const float *x, float *y, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float mx = row_max(xr, cols);
    for (long j = 0; j < cols; j++) yr[j] = vexp(xr[j] - mx);
    float inv = 1.0f / row_sum(yr, cols);
    for (long j = 0; j < cols; j++) yr[j] *= inv;
  }
}

void L(softmax_bwd)(const float *y, const float *dy, float *dx, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    float *dxr = dx + r * cols;
    float dot = row_dot(yr, gr, cols);
    for (long j = 0; j < cols; j++) dxr[j] += yr[j] * (gr[j] - dot);
  }
}

void L(log_softmax)(const float *x, float *y, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    float lse = row_lse(xr, cols);
    for (long j = 0; j < cols; j++) yr[j] = xr[j] - lse;
  }
}

void L(log_softmax_bwd)(const float *y, const float *dy, float *dx, long r0, long r1, long cols) {
  for (long r = r0; r < r1; r++) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    float *dxr = dx + r * cols;
    float s = row_sum(gr, cols);
    for (long j = 0; j < cols; j++) dxr[j] += gr[j] - vexp(yr[j]) * s;
  }
}

void L(target_logprobs)(const float *logits, const int32_t *t, float *out, float *lse, long r0, long r1, long V,
                        int32_t ignore) {
  for (long r = r0; r < r1; r++) {
    const float *xr = logits + r * V;
    float l = row_lse(xr, V);
    lse[r] = l;
    out[r] = t[r] == ignore ? 0.0f : xr[t[r]] - l;
  }
}

void L(target_logprobs_bwd)(const float *logits, const int32_t *t, const float *lse, const float *g, float *dl,
                            long r0, long r1, long V, int32_t ignore) {
  for (long r = r0; r < r1; r++) {
    if (t[r] == ignore || g[r] == 0.0f) continue;
    const float *xr = logits + r * V;
    float *dr = dl + r * V;
    float l = lse[r], gr = g[r];
    for (long j = 0; j < V; j++) dr[j] -= gr * vexp(xr[j] - l);
    dr[t[r]] += gr;
  }
}

void L(entropy)(const float *logits, float *out, float *lse, long r0, long r1, long V) {
  for (long r = r0; r < r1; r++) {
    const float *xr = logits + r * V;
    float l = row_lse(xr, V);
    float acc[LANES] = {0};
    long j = 0;
    for (; j + LANES <= V; j += LANES)
      for (int q = 0; q < LANES; q++) acc[q] += vexp(xr[j + q] - l) * xr[j + q];
    float px = lane_sum(acc);
    for (; j < V; j++) px += vexp(xr[j] - l) * xr[j];
    lse[r] = l;
    out[r] = l - px;
  }
}

void L(entropy_bwd)(const float *logits, const float *lse, const float *h, const float *g, float *dl,
                    long r0, long r1, long V) {
  for (long r = r0; r < r1; r++) {
    float gr = g[r];
    if (gr == 0.0f) continue;
    const float *xr = logits + r * V;
    float *dr = dl + r * V;
    float l = lse[r], hr = h[r];
    for (long j = 0; j < V; j++) {
      float lp = xr[j] - l;
      dr[j] -= gr * vexp(lp) * (lp + hr);
    }
  }
}

void L(adamw)(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps,
              float wd, float bc1, float bc2, float gscale) {
  float ib1 = 1.0f - b1, ib2 = 1.0f - b2, rbc1 = 1.0f / bc1, rbc2 = 1.0f / bc2;
  for (long i = 0; i < n; i++) {
    float gi = g[i] * gscale;
    float mi = b1 * m[i] + ib1 * gi, vi = b2 * v[i] + ib2 * gi * gi;
    m[i] = mi; v[i] = vi;
    p[i] -= lr * (mi * rbc1 / (sqrtf(vi * rbc2) + eps) + wd * p[i]);
  }
}

double L(sum_squares)(const float *x, long n) {
  double acc[8] = {0};
  long i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += (double)x[i + l] * (double)x[i + l];
  double s = 0;
  for (int l = 0; l < 8; l++) s += acc[l];
  for (; i < n; i++) s += (double)x[i] * (double)x[i];
  return s;
}

/* C rows for columns [n0, n1): c = beta c (beta 0 never reads c) */
static inline void gemv_scale(float *c, long M, long N, long n0, long n1, float beta) {
  for (long m = 0; m < M; m++) {
    float *cr = c + m * N;
    if (beta == 0.0f) for (long n = n0; n < n1; n++) cr[n] = 0.0f;
    else if (beta != 1.0f) for (long n = n0; n < n1; n++) cr[n] *= beta;
  }
}


/* C (M rows) columns [n0, n1) = alpha A B + beta C, B (K, N) row-major read in place (no packing): register tiles of
 * up to GEMV_TILE_ROWS rows x GEMV_TILE_VECS vectors (per level, below), specialized for 1, 2, 4 and the most rows (a
 * decode step at batch 1 used to multiply 7 zero rows too: 8x the FMAs, enough to make a half-width AVX-512 core
 * compute-bound); A rows beyond M in the last tile are zero rows of a local copy. Each element is the packed GEMM's
 * arithmetic exactly: one multiply-add chain per panel of the level's kc, stored as its micro-kernels store a panel
 * (gemv_store; tail columns as zero-padded vectors), so a row's bits do not depend on which path or how many rows
 * computed it (alpha 1, beta 0 or 1: a prefill block, a batched decode step and a whole prompt agree). */
#define GEMV_MAX_K 1024
#define GEMV_PREFETCH_ROWS 16
/* The tile works in the level's native vectors (vn, above: arrays of a LANES-wide GCC vector, two ymm on AVX2, were
 * moved through general registers there, 1-2 GFLOP/s). Its accumulators (rows x vectors) must fit the level's
 * registers with room for the B loads and the broadcast A value; spilled, every multiply-add becomes a load, an add
 * and a store. AVX-512 (32 zmm): 8 rows x 2 vectors. AVX2 (16 ymm): 6 rows x 2, the level's 6x16 GEMM micro-kernel
 * shape. Generic (16 xmm): 3 rows x 4. */
#if defined(__AVX512F__)
#define GEMV_TILE_ROWS 8
#define GEMV_TILE_VECS 2
#elif defined(__AVX2__)
#define GEMV_TILE_ROWS 6
#define GEMV_TILE_VECS 2
#else
#define GEMV_TILE_ROWS 3
#define GEMV_TILE_VECS 4
#endif

/* c = alpha acc + beta c as the micro-kernels store a panel: the first with the caller's beta (0 never reads c), the
 * later ones added to c */
static inline float gemv_store(float acc, float alpha, float beta, float c, int first) {
#if defined(__FMA__)
  if (!first) return __builtin_fmaf(alpha, acc, c);
  return beta == 0.0f ? alpha * acc : __builtin_fmaf(alpha, acc, beta * c);
#else
  if (!first) return alpha * acc + c;
  return beta == 0.0f ? alpha * acc : alpha * acc + beta * c;
#endif
}

/* The packed GEMM's K panels, which every few-row path sums in: each element one multiply-add chain per panel */
static inline long gemv_panel(void) { return LEVEL_TABLE.kc < GEMV_MAX_K ? LEVEL_TABLE.kc : GEMV_MAX_K; }

/* One register tile: rows x VECS vectors of columns a strip, ROWS and VECS fixed per generated function (the
 * accumulators must be an array of exactly the registers used: one sized for the widest case spilled, and slowed
 * the full tiles by 14-32% at AVX2). */
#define GEMV_NN_TILE(NAME, ROWS, VECS) \
static inline __attribute__((always_inline)) void NAME(const float *a8, const float *b, long ldb, float *c, long ldc, \
                                                       long rows, long K, long n0, long n1, float alpha, float beta, \
                                                       int first, const int R, const int prefetch) { \
  long n = n0; \
  for (; n + VECS * NL <= n1; n += VECS * NL) { \
    vn acc[ROWS][VECS]; \
    for (int m = 0; m < R; m++) \
      for (int v = 0; v < VECS; v++) acc[m][v] = (vn){0}; \
    for (long k = 0; k < K; k++) { \
      if (prefetch) /* GEMV_PREFETCH_ROWS rows of this column strip ahead (the hardware prefetchers stop at pages) */ \
        for (int v = 0; v < VECS; v++) __builtin_prefetch(b + (k + GEMV_PREFETCH_ROWS) * ldb + n + v * NL, 0, 3); \
      vn bv[VECS]; \
      for (int v = 0; v < VECS; v++) bv[v] = vnload(b + k * ldb + n + v * NL); \
      for (int m = 0; m < R; m++) { \
        float av = a8[m * K + k]; \
        for (int v = 0; v < VECS; v++) acc[m][v] += av * bv[v]; \
      } \
    } \
    for (long m = 0; m < rows; m++) \
      for (int v = 0; v < VECS; v++) \
        for (int l = 0; l < NL; l++) { \
          float *cv = c + m * ldc + n + v * NL + l; \
          *cv = gemv_store(acc[m][v][l], alpha, beta, *cv, first); \
        } \
  } \
  for (; n < n1; n += NL) { /* tail columns: one zero-padded vector at a time */ \
    long w = n1 - n < NL ? n1 - n : NL; \
    vn acc[ROWS]; \
    for (int m = 0; m < R; m++) acc[m] = (vn){0}; \
    for (long k = 0; k < K; k++) { \
      vn bv = {0}; \
      memcpy(&bv, b + k * ldb + n, sizeof(float) * w); \
      for (int m = 0; m < R; m++) acc[m] += a8[m * K + k] * bv; \
    } \
    for (long m = 0; m < rows; m++) \
      for (long l = 0; l < w; l++) c[m * ldc + n + l] = gemv_store(acc[m][l], alpha, beta, c[m * ldc + n + l], first); \
  } \
}
GEMV_NN_TILE(gemv_nn_tile, GEMV_TILE_ROWS, GEMV_TILE_VECS)
/* A tile of 1 or 2 rows has only R x GEMV_TILE_VECS multiply-add chains at the level's strip width, too few to cover
 * the FMA latency (AVX2, 7 x 512 x 128: the 1-row tile after a 6-row one took longer than the 6-row one): those
 * tiles take 4 vectors a strip, more chains, each element's chain the same, so the same bits. */
#define GEMV_WIDE_VECS 4
GEMV_NN_TILE(gemv_nn_tile_wide, 2, GEMV_WIDE_VECS)

/* gemv_nn for more rows than a register tile (9-16 on AVX-512, 7-16 on AVX2) and a B too large for the caches (the
 * 124M's (in, out) weights at batch 9-16): the tiles read all of B once per tile of rows, each time down 2-vector
 * column strips (128 bytes of each row at a stride of N floats), so a second tile read B from memory again (16 x 3072
 * x 768 from memory took 1.5x the 8-row product). Here B is read once, GEMV_ROWS_KB rows at a time, each row's columns
 * in order, and every element's multiply-add chain over the kc panel is kept in a scratch row of sums between k (a
 * chunk of columns at a time, so the sums stay in L1) instead of in a register: the same chain in the same order, then
 * stored by gemv_store as the tiles store it, so the bits are the tiles' and the packed GEMM's. Up to one tile of rows
 * the tiles stay: they read B once too, and at 8 rows this path was slower (124M decode b8 -7%). */
#define GEMV_ROWS_MIN_FLOATS (1L << 20) /* B of 4 MiB or more: from L3 or memory */
#define GEMV_ROWS_KB 4                  /* rows of B a pass: each sum is loaded and stored once per 4 multiply-adds */
#define GEMV_ROWS_SUMS 8192             /* floats of sums a chunk of columns keeps */
#if defined(__AVX512F__)
#define GEMV_ROWS_MB 16                 /* rows of A a pass over the columns: their sums, 4 B vectors, a broadcast */
#else
#define GEMV_ROWS_MB 8
#endif

static inline __attribute__((always_inline)) vn gemv_rows_load(const float *row, long j, long w) {
  if ((j + 1) * NL <= w) return vnload(row + j * NL);
  vn v = {0}; /* the chunk's last columns: a zero-padded vector, as the tiles' tail */
  memcpy(&v, row + j * NL, sizeof(float) * (size_t)(w - j * NL));
  return v;
}

/* KB rows of B (bk, row stride N; w columns) into the sums (M rows of wpad), A's columns from ak (row stride lda) */
static inline __attribute__((always_inline)) void gemv_rows_pass(const float *ak, long lda, const float *bk, long N,
                                                                   long w, float *sums, long wpad, long M, const int KB) {
  const long nv = (w + NL - 1) / NL;
  for (long m0 = 0; m0 < M; m0 += GEMV_ROWS_MB) {
    long m1 = M - m0 < GEMV_ROWS_MB ? M : m0 + GEMV_ROWS_MB;
    for (long j = 0; j < nv; j++) {
      vn bv[GEMV_ROWS_KB];
      for (int r = 0; r < KB; r++) bv[r] = gemv_rows_load(bk + r * N, j, w);
      for (long m = m0; m < m1; m++) {
        float *sv = sums + m * wpad + j * NL;
        vn acc = vnload(sv);
        for (int r = 0; r < KB; r++) acc += ak[m * lda + r] * bv[r];
        memcpy(sv, &acc, sizeof acc);
      }
    }
  }
}

/* columns [n0, n1) of C (at most GEMV_ROWS_SUMS / M of them): every kc panel's chains in the sums, then stored. A's
 * panel is copied first (ap: M x kc), because A's own rows lie K floats apart: at K = 3072 (12 KiB) the 16 rows'
 * lines a pass reads fall in one L1 set: a scratch build reading them in place took 865 against 535 us for
 * 16 x 768 x 3072 from memory. */
static void gemv_nn_by_rows(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1,
                            float alpha, float beta, float *sums, float *ap) {
  const long panel = gemv_panel(), w = n1 - n0, wpad = (w + NL - 1) / NL * NL;
  for (long k0 = 0; k0 < K; k0 += panel) {
    long kc = K - k0 < panel ? K - k0 : panel, k = 0;
    for (long m = 0; m < M; m++) memcpy(ap + m * kc, a + m * K + k0, sizeof(float) * (size_t)kc);
    memset(sums, 0, sizeof(float) * (size_t)(M * wpad));
    for (; k + GEMV_ROWS_KB <= kc; k += GEMV_ROWS_KB)
      gemv_rows_pass(ap + k, kc, b + (k0 + k) * N + n0, N, w, sums, wpad, M, GEMV_ROWS_KB);
    for (; k < kc; k++) /* the panel's last rows, one at a time */
      gemv_rows_pass(ap + k, kc, b + (k0 + k) * N + n0, N, w, sums, wpad, M, 1);
    for (long m = 0; m < M; m++)
      for (long n = 0; n < w; n++) {
        float *cv = c + m * N + n0 + n;
        *cv = gemv_store(sums[m * wpad + n], alpha, beta, *cv, k0 == 0);
      }
  }
}

void L(gemv_nn)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                float beta) {
  const long panel = gemv_panel();
  if (M > GEMV_TILE_ROWS && M <= 16 && K * N >= GEMV_ROWS_MIN_FLOATS) {
    /* columns in chunks whose sums stay in L1 (32 KiB): 512 columns of 16 rows, 1024 of 8 */
    long chunk = GEMV_ROWS_SUMS / M / NL * NL;
    float *sums = rlaif_scratch(1, (size_t)(M * chunk + M * panel));
    if (sums) {
      for (long c0 = n0; c0 < n1; c0 += chunk)
        gemv_nn_by_rows(a, b, c, M, N, K, c0, c0 + chunk < n1 ? c0 + chunk : n1, alpha, beta, sums, sums + M * chunk);
      return;
    }
  }
  for (long m0 = 0; m0 < M; m0 += GEMV_TILE_ROWS) {
    long rows = M - m0 < GEMV_TILE_ROWS ? M - m0 : GEMV_TILE_ROWS;
    long tile = rows == 1 ? 1 : rows == 2 ? 2 : rows <= 4 && GEMV_TILE_ROWS > 4 ? 4 : GEMV_TILE_ROWS;
    for (long k0 = 0; k0 < K; k0 += panel) {               /* K panels keep the padded A copy on the stack */
      long kc = K - k0 < panel ? K - k0 : panel;
      float a8[GEMV_TILE_ROWS * GEMV_MAX_K];
      memset(a8, 0, sizeof(float) * tile * kc);
      for (long m = 0; m < rows; m++) memcpy(a8 + m * kc, a + (m0 + m) * K + k0, sizeof(float) * kc);
      const float *bk = b + k0 * N;
      float *cm = c + m0 * N;
      int first = k0 == 0;
      switch (tile) {
        case 1: gemv_nn_tile_wide(a8, bk, N, cm, N, rows, kc, n0, n1, alpha, beta, first, 1, 0); break;
        case 2: gemv_nn_tile_wide(a8, bk, N, cm, N, rows, kc, n0, n1, alpha, beta, first, 2, 0); break;
#if GEMV_TILE_ROWS > 4 /* a 4-row tile exists where tiles are taller (the generic level's are 3 rows) */
        case 4: gemv_nn_tile(a8, bk, N, cm, N, rows, kc, n0, n1, alpha, beta, first, 4, 0); break;
#endif
        default: /* the first of several full tiles reads B from memory; the later ones find it in L2 */
          if (m0 == 0 && M > GEMV_TILE_ROWS) gemv_nn_tile(a8, bk, N, cm, N, rows, kc, n0, n1, alpha, beta, first, GEMV_TILE_ROWS, 1);
          else gemv_nn_tile(a8, bk, N, cm, N, rows, kc, n0, n1, alpha, beta, first, GEMV_TILE_ROWS, 0);
          break;
      }
    }
  }
}

/* gemv_nn's arithmetic for B (N, K) (a tied LM head over a batched decode step's 5-16 rows), with C's roles turned
 * around: A's rows go across a vector (A^T copied once per call, M rows zero-padded to whole vectors) and each of a
 * group of B's rows is broadcast one element at a time, so B is read in place, row after row, once (the group's rows
 * are one contiguous block). Before, each 2-vector column panel of B^T was transposed element by element into a
 * buffer first: the 124M's LM head at batch 8 (8 x 50257 x 768) took 18 ms a step, its B read at 8.5 GB/s. Each
 * element is still one multiply-add chain per panel of the level's kc, in the same order, stored by gemv_store (the
 * product a b is b a exactly, a multiply-add too), so a row's bits are those the packed A B^T product gives it. */
#if defined(__AVX512F__)
#define NT_ACCUMULATORS 16 /* B rows x A vectors a group keeps in registers: 32 zmm */
#elif defined(__AVX2__)
#define NT_ACCUMULATORS 12 /* 16 ymm: 12 sums, the A vectors and the broadcast */
#else
#define NT_ACCUMULATORS 12
#endif

/* C columns [n, n + R) (rows < M) from B rows [n, n + R), k in [k0, k0 + kc): R rows x MV vectors of sums */
static inline __attribute__((always_inline)) void nt_group(const float *at, long mvl, const float *b, long K, long kc,
                                                             float *c, long ldc, long M, float alpha, float beta,
                                                             int first, const int MV, const int R) {
  vn acc[NT_ACCUMULATORS][4]; /* R x MV used: constants once inlined */
  for (int r = 0; r < R; r++)
    for (int v = 0; v < MV; v++) acc[r][v] = (vn){0};
  for (long k = 0; k < kc; k++) {
    vn av[4];
    for (int v = 0; v < MV; v++) av[v] = vnload(at + k * mvl + v * NL);
    if ((k & 15) == 0) /* the next group's rows, a line each per 16 k: B streams from memory */
      for (int r = 0; r < R; r++) __builtin_prefetch(b + (R + r) * K + k, 0, 0);
    for (int r = 0; r < R; r++) {
      float bs = b[r * K + k];
      for (int v = 0; v < MV; v++) acc[r][v] += bs * av[v];
    }
  }
  for (int v = 0; v < MV; v++)
    for (int l = 0; l < NL && v * NL + l < M; l++) {
      float *cm = c + (v * NL + l) * ldc;
      for (int r = 0; r < R; r++) cm[r] = gemv_store(acc[r][v][l], alpha, beta, cm[r], first);
    }
}

/* columns [n, n + R) of C over every kc panel */
static inline __attribute__((always_inline)) void nt_panels(const float *at, long mvl, const float *b, float *c, long M,
                                                              long N, long K, long n, float alpha, float beta,
                                                              long panel, const int MV, const int R) {
  for (long k0 = 0; k0 < K; k0 += panel)
    nt_group(at + k0 * mvl, mvl, b + n * K + k0, K, K - k0 < panel ? K - k0 : panel, c + n, N, M, alpha, beta, k0 == 0,
             MV, R);
}

static inline __attribute__((always_inline)) void nt_columns(const float *at, long mvl, const float *b, float *c,
                                                               long M, long N, long K, long n0, long n1, float alpha,
                                                               float beta, long panel, const int MV) {
  const int R = NT_ACCUMULATORS / MV;
  long n = n0;
  for (; n + R <= n1; n += R) nt_panels(at, mvl, b, c, M, N, K, n, alpha, beta, panel, MV, R);
  for (; n < n1; n++) nt_panels(at, mvl, b, c, M, N, K, n, alpha, beta, panel, MV, 1); /* the last few columns */
}

void L(gemv_nt_tiles)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                      float beta) {
  const long panel = gemv_panel();
  const long mv = (M + NL - 1) / NL, mvl = mv * NL;
  float *at = mv <= 4 ? rlaif_scratch(1, (size_t)K * mvl) : NULL; /* (K, mvl): A^T, zero past row M */
  if (!at) { L(gemv_nt)(a, b, c, M, N, K, n0, n1, alpha, beta); return; }
  for (long k = 0; k < K; k++) {
    for (long m = 0; m < M; m++) at[k * mvl + m] = a[m * K + k];
    for (long m = M; m < mvl; m++) at[k * mvl + m] = 0.0f;
  }
  switch (mv) {
    case 1: nt_columns(at, mvl, b, c, M, N, K, n0, n1, alpha, beta, panel, 1); break;
    case 2: nt_columns(at, mvl, b, c, M, N, K, n0, n1, alpha, beta, panel, 2); break;
    case 3: nt_columns(at, mvl, b, c, M, N, K, n0, n1, alpha, beta, panel, 3); break;
    default: nt_columns(at, mvl, b, c, M, N, K, n0, n1, alpha, beta, panel, 4); break;
  }
}

/* Rows [k0, k1) of B (K, N) streamed in order, each row read contiguously once: c (M, N) = A[:, k0:k1] B[k0:k1, :]
 * for a few rows of A (c overwritten; c's rows stay in L1/L2 while B streams). Register tiles walk B down a column
 * panel instead, a jump of N floats per row (a new 4 KiB page per row for N >= 1024), which the prefetchers do not
 * follow: a batch-1 decode step read its (in, out) weights that way. */
void L(gemv_nn_rows)(const float *a, long lda, const float *b, long N, float *c, long M, long k0, long k1) {
  for (long m = 0; m < M; m++) memset(c + m * N, 0, sizeof(float) * N);
  for (long k = k0; k < k1; k++) {
    const float *br = b + k * N;
    for (long m = 0; m < M; m++) {
      float av = a[m * lda + k];
      float *cr = c + m * N;
      long n = 0;
      for (; n + NL <= N; n += NL) { /* native vectors (vn), as the tiles above */
        vn v = vnload(cr + n) + av * vnload(br + n);
        memcpy(cr + n, &v, sizeof v);
      }
      for (; n < N; n++) cr[n] += av * br[n];
    }
  }
}

/* Four row_dots at once, x against rows y, y + ld, y + 2 ld, y + 3 ld, each with row_dot's arithmetic exactly (LANES
 * lane sums over the same steps, added in lane order, then the tail), in the level's native vectors: one dot at a
 * time is a chain of dependent multiply-adds and adds, and row_dot's LANES-wide vf costs two ymm a step on AVX2 (the
 * tied LM head of a 128-wide model, 1 x 128 x 1024 NT, took 160 us a token on Zen 2). */
#define ROW_DOT_VECS (LANES / NL)
static inline void row_dot4(const float *x, const float *y, long ld, long n, float out[4]) {
  vn acc[4][ROW_DOT_VECS];
  for (int r = 0; r < 4; r++)
    for (int v = 0; v < ROW_DOT_VECS; v++) acc[r][v] = (vn){0};
  long j = 0;
  for (; j + LANES <= n; j += LANES)
    for (int v = 0; v < ROW_DOT_VECS; v++) {
      vn xv = vnload(x + j + v * NL);
      for (int r = 0; r < 4; r++) acc[r][v] += xv * vnload(y + r * ld + j + v * NL);
    }
  for (int r = 0; r < 4; r++) {
    float s = 0.0f;
    for (int v = 0; v < ROW_DOT_VECS; v++)
      for (int l = 0; l < NL; l++) s += acc[r][v][l];
    for (long t = j; t < n; t++) s += x[t] * y[r * ld + t];
    out[r] = s;
  }
}

void L(gemv_nt)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                float beta) {
  gemv_scale(c, M, N, n0, n1, beta);
  long n = n0;
  for (; n + 4 <= n1; n += 4)
    for (long m = 0; m < M; m++) {
      float d[4];
      row_dot4(a + m * K, b + n * K, K, K, d);
      for (int r = 0; r < 4; r++) c[m * N + n + r] += alpha * d[r];
    }
  for (; n < n1; n++) {
    const float *br = b + n * K;
    for (long m = 0; m < M; m++) c[m * N + n] += alpha * row_dot(a + m * K, br, K);
  }
}

/* bf16 weights, plain path (every level; AVX512_BF16 CPUs use level_bf16.c's vdpbf16ps instead): each bf16 weight
 * row widened to float32 in registers (a 16-bit shift) and multiplied by the float32 copy of the rounded A. One row
 * of W (n) is read once from memory and again from L1 for each row of A. */
typedef uint16_t vh __attribute__((vector_size(NL * sizeof(uint16_t))));
typedef uint32_t vu __attribute__((vector_size(NL * sizeof(uint32_t))));

static inline vf bf16_vload(const uint16_t *p) {
  vf v;
#if NL == 4
  /* 8 at a time: four 4-lane conversions (SSE2 has no widening load) took 1.65x as long, 8 x 2304 x 768 on Zen 5 */
  typedef uint16_t vh8 __attribute__((vector_size(8 * sizeof(uint16_t))));
  typedef uint32_t vu8 __attribute__((vector_size(8 * sizeof(uint32_t))));
  for (int i = 0; i < VPARTS; i += 2) {
    vh8 h;
    memcpy(&h, p + i * NL, sizeof h);
    vu8 u = __builtin_convertvector(h, vu8) << 16;
    memcpy(&v.p[i], &u, sizeof u);
  }
#else
  for (int i = 0; i < VPARTS; i++) {
    vh h;
    memcpy(&h, p + i * NL, sizeof h);
    v.p[i] = (vn)(__builtin_convertvector(h, vu) << 16);
  }
#endif
  return v;
}

static inline float bf16_scalar(uint16_t h) {
  union { uint32_t u; float f; } v = { .u = (uint32_t)h << 16 };
  return v.f;
}

void L(gemv_bf16)(const float *af, const uint16_t *ab, const uint16_t *w, float *c, long M, long N, long K, long n0,
                  long n1) {
  (void)ab;
  for (long n = n0; n < n1; n++) {
    const uint16_t *wr = w + n * K;
    for (long m = 0; m < M; m++) {
      const float *ar = af + m * K;
      vf acc0 = vzero(), acc1 = vzero();
      long k = 0;
      for (; k + 2 * LANES <= K; k += 2 * LANES) {
        acc0 = vmuladd(acc0, vload(ar + k), bf16_vload(wr + k));
        acc1 = vmuladd(acc1, vload(ar + k + LANES), bf16_vload(wr + k + LANES));
      }
      float s = vsum(vadd(acc0, acc1));
      for (; k < K; k++) s += ar[k] * bf16_scalar(wr[k]);
      c[m * N + n] = s;
    }
  }
}

void L(bf16_widen)(const uint16_t *src, float *dst, long n) {
  uint32_t *out = (uint32_t *)dst;
  for (long i = 0; i < n; i++) out[i] = (uint32_t)src[i] << 16;
}

/* float32 -> bf16 bits, round to nearest even ((u + 0x7fff + lsb) >> 16); NaN keeps its top bits, made quiet. A
 * branch-free loop the compiler vectorizes at each level (16 lanes on AVX-512, 8 on AVX2) */
void L(bf16_round)(const float *src, uint16_t *dst, long n) {
  for (long i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, src + i, 4);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16, quiet = (u >> 16) | 0x40u;
    dst[i] = (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
  }
}

#include "level_attention.inc"
