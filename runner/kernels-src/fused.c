// Fused transformer kernels (forward and backward) for the custom ops in
// src/kernels/fused.ts: each replaces 5–15 tfjs ops (and their dispatch cost) by one pass
// over memory. Matmuls inside attention are done by the caller with the gemm kernels;
// this file holds the parts between them. Same rules as gemm.c: no data, no stack.
#include <wasm_simd128.h>
#include "simd_math.h"

#define EXPORT(name) __attribute__((export_name(#name)))

static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}
static inline float hmax(v128_t v) {
  float a = wasm_f32x4_extract_lane(v, 0), b = wasm_f32x4_extract_lane(v, 1);
  float c = wasm_f32x4_extract_lane(v, 2), d = wasm_f32x4_extract_lane(v, 3);
  float ab = a > b ? a : b, cd = c > d ? c : d;
  return ab > cd ? ab : cd;
}

// ---- layer norm over rows of x [n, c] -------------------------------------------------
// y = (x − mean)·rstd·g + b; stats[2i] = mean, stats[2i+1] = rstd (kept for the backward).
EXPORT(layer_norm_fwd)
void layer_norm_fwd(const float* x, const float* g, const float* b, float* y, float* stats, int n, int c, float eps) {
  for (int i = 0; i < n; i++) {
    const float* row = x + (long)i * c;
    float* out = y + (long)i * c;
    v128_t s = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= c; j += 4) s = wasm_f32x4_add(s, wasm_v128_load(row + j));
    float sum = hsum(s);
    for (; j < c; j++) sum += row[j];
    float mean = sum / c;
    v128_t m4 = wasm_f32x4_splat(mean);
    v128_t q = wasm_f32x4_splat(0.0f);
    for (j = 0; j + 4 <= c; j += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(row + j), m4);
      q = wasm_f32x4_add(q, wasm_f32x4_mul(d, d));
    }
    float var = hsum(q);
    for (; j < c; j++) var += (row[j] - mean) * (row[j] - mean);
    var /= c;
    float rstd = 1.0f / __builtin_sqrtf(var + eps);
    stats[2 * i] = mean;
    stats[2 * i + 1] = rstd;
    v128_t r4 = wasm_f32x4_splat(rstd);
    for (j = 0; j + 4 <= c; j += 4) {
      v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(row + j), m4), r4);
      wasm_v128_store(out + j, wasm_f32x4_add(wasm_f32x4_mul(h, wasm_v128_load(g + j)), wasm_v128_load(b + j)));
    }
    for (; j < c; j++) out[j] = (row[j] - mean) * rstd * g[j] + b[j];
  }
}

// dx = rstd·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂)); dg = Σ dy·x̂; db = Σ dy (over rows).
EXPORT(layer_norm_bwd)
void layer_norm_bwd(const float* dy, const float* x, const float* stats, const float* g, float* dx, float* dg, float* db,
                    int n, int c) {
  for (int j = 0; j < c; j++) dg[j] = db[j] = 0.0f;
  for (int i = 0; i < n; i++) {
    const float* d = dy + (long)i * c;
    const float* row = x + (long)i * c;
    float* out = dx + (long)i * c;
    float mean = stats[2 * i], rstd = stats[2 * i + 1];
    v128_t m4 = wasm_f32x4_splat(mean), r4 = wasm_f32x4_splat(rstd);
    v128_t s1 = wasm_f32x4_splat(0.0f), s2 = s1;
    int j = 0;
    for (; j + 4 <= c; j += 4) {
      v128_t dv = wasm_v128_load(d + j);
      v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(row + j), m4), r4);
      v128_t dh = wasm_f32x4_mul(dv, wasm_v128_load(g + j));
      s1 = wasm_f32x4_add(s1, dh);
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(dh, h));
      wasm_v128_store(dg + j, wasm_f32x4_add(wasm_v128_load(dg + j), wasm_f32x4_mul(dv, h)));
      wasm_v128_store(db + j, wasm_f32x4_add(wasm_v128_load(db + j), dv));
    }
    float a1 = hsum(s1), a2 = hsum(s2);
    for (; j < c; j++) {
      float h = (row[j] - mean) * rstd;
      float dh = d[j] * g[j];
      a1 += dh;
      a2 += dh * h;
      dg[j] += d[j] * h;
      db[j] += d[j];
    }
    float mean1 = a1 / c, mean2 = a2 / c;
    v128_t u1 = wasm_f32x4_splat(mean1), u2 = wasm_f32x4_splat(mean2);
    for (j = 0; j + 4 <= c; j += 4) {
      v128_t h = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(row + j), m4), r4);
      v128_t dh = wasm_f32x4_mul(wasm_v128_load(d + j), wasm_v128_load(g + j));
      wasm_v128_store(out + j, wasm_f32x4_mul(r4, wasm_f32x4_sub(wasm_f32x4_sub(dh, u1), wasm_f32x4_mul(h, u2))));
    }
    for (; j < c; j++) {
      float h = (row[j] - mean) * rstd;
      out[j] = rstd * (d[j] * g[j] - mean1 - h * mean2);
    }
  }
}

// ---- GELU, tanh approximation (GPT-2's) ---------------------------------------------
#define GELU_K 0.7978845608028654f
#define GELU_C 0.044715f

static inline v128_t gelu_tanh_arg(v128_t x) {
  v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
  return tanh4(wasm_f32x4_mul(wasm_f32x4_add(x, wasm_f32x4_mul(x3, wasm_f32x4_splat(GELU_C))), wasm_f32x4_splat(GELU_K)));
}

// Tails (n not a multiple of 4) go through one vector built from lanes (no stack).
static inline v128_t load_tail(const float* p, int count) {
  return wasm_f32x4_make(p[0], count > 1 ? p[1] : 0.0f, count > 2 ? p[2] : 0.0f, 0.0f);
}
static inline void store_tail(float* p, v128_t v, int count) {
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (count > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (count > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

static inline v128_t gelu4(v128_t x) {
  v128_t t = gelu_tanh_arg(x);
  return wasm_f32x4_mul(wasm_f32x4_mul(x, wasm_f32x4_splat(0.5f)), wasm_f32x4_add(t, wasm_f32x4_splat(1.0f)));
}

EXPORT(gelu_fwd) void gelu_fwd(const float* x, float* y, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, gelu4(wasm_v128_load(x + i)));
  if (i < n) store_tail(y + i, gelu4(load_tail(x + i, n - i)), n - i);
}

// ---- attention softmax ----------------------------------------------------------------
// s holds q·kᵀ for `bh` = B·H blocks of [tq, tk]; in place: p = softmax(s·scale + mask),
// rows i of block (b, h) see keys j ≤ i + causalOffset when causal (others get 0).
// mask (additive, may be 0) is addressed with element strides (mb, mh, mq, mk) so any
// broadcast of [B, H, Tq, Tk] works.
EXPORT(attention_softmax)
void attention_softmax(float* s, int b, int h, int tq, int tk, float scale, const float* mask, int mb, int mh, int mq, int mk,
                       int causal, int causalOffset) {
  v128_t sc = wasm_f32x4_splat(scale);
  for (int bi = 0; bi < b; bi++)
    for (int hi = 0; hi < h; hi++)
      for (int i = 0; i < tq; i++) {
        float* row = s + (((long)bi * h + hi) * tq + i) * tk;
        const float* m = mask ? mask + (long)bi * mb + (long)hi * mh + (long)i * mq : 0;
        int len = causal ? i + causalOffset + 1 : tk;
        if (len > tk) len = tk;
        if (len < 0) len = 0;
        int j = 0;
        if (m && mk == 1) {
          for (; j + 4 <= len; j += 4)
            wasm_v128_store(row + j, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(row + j), sc), wasm_v128_load(m + j)));
          for (; j < len; j++) row[j] = row[j] * scale + m[j];
        } else if (m) {
          for (; j < len; j++) row[j] = row[j] * scale + m[(long)j * mk];
        } else {
          for (; j + 4 <= len; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(row + j), sc));
          for (; j < len; j++) row[j] *= scale;
        }
        float mx = -3.4e38f;
        v128_t mx4 = wasm_f32x4_splat(mx);
        for (j = 0; j + 4 <= len; j += 4) mx4 = wasm_f32x4_max(mx4, wasm_v128_load(row + j));
        mx = hmax(mx4);
        for (; j < len; j++) mx = row[j] > mx ? row[j] : mx;
        v128_t m4 = wasm_f32x4_splat(mx);
        v128_t sum4 = wasm_f32x4_splat(0.0f);
        for (j = 0; j + 4 <= len; j += 4) {
          v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(row + j), m4));
          wasm_v128_store(row + j, e);
          sum4 = wasm_f32x4_add(sum4, e);
        }
        float sum = hsum(sum4);
        if (j < len) {
          v128_t e = exp4(wasm_f32x4_sub(load_tail(row + j, len - j), m4));
          // Lanes past the row's end hold exp(0 − max), not part of the sum.
          e = wasm_v128_and(e, wasm_i32x4_gt(wasm_i32x4_splat(len - j), wasm_i32x4_make(0, 1, 2, 3)));
          store_tail(row + j, e, len - j);
          sum += hsum(e);
        }
        float inv = len > 0 ? 1.0f / sum : 0.0f;
        v128_t inv4 = wasm_f32x4_splat(inv);
        for (j = 0; j + 4 <= len; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(row + j), inv4));
        for (; j < len; j++) row[j] *= inv;
        for (j = len; j < tk; j++) row[j] = 0.0f;
      }
}

// In place on dp [rows, tk]: ds = p ∘ (dp − Σⱼ dp·p) · scale (the softmax backward, with
// the score scale folded in so q and k gradients need no extra pass).
EXPORT(attention_softmax_bwd) void attention_softmax_bwd(float* dp, const float* p, long rows, int tk, float scale) {
  for (long r = 0; r < rows; r++) {
    float* d = dp + r * tk;
    const float* pr = p + r * tk;
    v128_t acc = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= tk; j += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(d + j), wasm_v128_load(pr + j)));
    float dot = hsum(acc);
    for (; j < tk; j++) dot += d[j] * pr[j];
    v128_t dot4 = wasm_f32x4_splat(dot), sc = wasm_f32x4_splat(scale);
    for (j = 0; j + 4 <= tk; j += 4)
      wasm_v128_store(d + j, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(pr + j), wasm_f32x4_sub(wasm_v128_load(d + j), dot4)), sc));
    for (; j < tk; j++) d[j] = pr[j] * (d[j] - dot) * scale;
  }
}

// ---- token log-probabilities ------------------------------------------------------------
// out[i] = logits[i, t_i] − logsumexp(logits[i]); lse[i] kept for the backward.
EXPORT(token_logprobs_fwd) void token_logprobs_fwd(const float* logits, const int* targets, float* out, float* lse, int n, int v) {
  for (int i = 0; i < n; i++) {
    const float* row = logits + (long)i * v;
    float mx = -3.4e38f;
    for (int j = 0; j < v; j++) mx = row[j] > mx ? row[j] : mx;
    v128_t m4 = wasm_f32x4_splat(mx);
    v128_t s4 = wasm_f32x4_splat(0.0f);
    int j = 0;
    for (; j + 4 <= v; j += 4) s4 = wasm_f32x4_add(s4, exp4(wasm_f32x4_sub(wasm_v128_load(row + j), m4)));
    float sum = hsum(s4);
    if (j < v) {
      v128_t e = exp4(wasm_f32x4_sub(load_tail(row + j, v - j), m4));
      e = wasm_v128_and(e, wasm_i32x4_gt(wasm_i32x4_splat(v - j), wasm_i32x4_make(0, 1, 2, 3)));
      sum += hsum(e);
    }
    float l = mx + log_scalar(sum);
    lse[i] = l;
    int t = targets[i];
    out[i] = (t >= 0 && t < v ? row[t] : 0.0f) - l;
  }
}

// dlogits[i, j] = dy[i]·(1[j = t_i] − softmax(logits[i])_j)
EXPORT(token_logprobs_bwd)
void token_logprobs_bwd(const float* logits, const int* targets, const float* lse, const float* dy, float* dlogits, int n, int v) {
  for (int i = 0; i < n; i++) {
    const float* row = logits + (long)i * v;
    float* out = dlogits + (long)i * v;
    v128_t l4 = wasm_f32x4_splat(lse[i]);
    v128_t nd = wasm_f32x4_splat(-dy[i]);
    int j = 0;
    for (; j + 4 <= v; j += 4) wasm_v128_store(out + j, wasm_f32x4_mul(nd, exp4(wasm_f32x4_sub(wasm_v128_load(row + j), l4))));
    if (j < v) store_tail(out + j, wasm_f32x4_mul(nd, exp4(wasm_f32x4_sub(load_tail(row + j, v - j), l4))), v - j);
    int t = targets[i];
    if (t >= 0 && t < v) out[t] += dy[i];
  }
}

// ---- pieces of the fused decoder block (inference with a key/value cache) -------------
// Head layouts: rows of a linear's output are [B, T, H, D] (token-major); attention wants
// [B, H, T, D]; the cache is [B, H, capacity, D] with the tokens so far at rows < length.

static inline void copy_floats(float* dst, const float* src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

// src [B, T, H, D] (token rows `srcStride` floats apart, e.g. 3C for a fused q|k|v row) →
// dst [B, H, rows, D] at row offset `at` (rows = T for a plain split, the cache capacity
// when writing into the cache).
EXPORT(split_heads)
void split_heads(const float* src, float* dst, int b, int t, int h, int d, int rows, int at, int srcStride) {
  for (int bi = 0; bi < b; bi++)
    for (int ti = 0; ti < t; ti++)
      for (int hi = 0; hi < h; hi++)
        copy_floats(dst + (((long)bi * h + hi) * rows + at + ti) * d, src + ((long)bi * t + ti) * srcStride + (long)hi * d, d);
}

// Copies a [rows, cols] matrix into columns [at, at + cols) of a [rows, stride] one: builds
// the fused q|k|v weight [C, 3C] from three [C, C] ones (and the bias, rows = 1).
EXPORT(copy_columns) void copy_columns(const float* src, float* dst, int rows, int cols, int stride, int at) {
  for (int r = 0; r < rows; r++) copy_floats(dst + (long)r * stride + at, src + (long)r * cols, cols);
}

// src [B, H, T, D] → dst [B, T, H, D]
EXPORT(merge_heads) void merge_heads(const float* src, float* dst, int b, int t, int h, int d) {
  for (int bi = 0; bi < b; bi++)
    for (int hi = 0; hi < h; hi++)
      for (int ti = 0; ti < t; ti++)
        copy_floats(dst + (((long)bi * t + ti) * h + hi) * d, src + (((long)bi * h + hi) * t + ti) * d, d);
}

// out = a + b (n floats; out may be a or b)
EXPORT(add_into) void add_into(const float* a, const float* b, float* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_add(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  for (; i < n; i++) out[i] = a[i] + b[i];
}

// ---- AdamW ---------------------------------------------------------------------------
EXPORT(sum_squares) float sum_squares(const float* x, int n) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t u = wasm_v128_load(x + i), w = wasm_v128_load(x + i + 4);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(u, u));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(w, w));
  }
  float s = hsum(wasm_f32x4_add(a0, a1));
  for (; i < n; i++) s += x[i] * x[i];
  return s;
}

// As torch.optim.AdamW (and the engine's composite): g ← g·gradScale (clipping);
// m' = β1·m + (1−β1)·g; v' = β2·v + (1−β2)·g²; p' = p − stepSize·m'/(√v'/secondCorrection + ε)
// − decay·p, with stepSize = lr/(1−β1ᵗ), secondCorrection = √(1−β2ᵗ), decay = lr·wd or 0.
EXPORT(adamw)
void adamw(const float* p, const float* g, const float* m, const float* v, float* p2, float* m2, float* v2, int n, float beta1,
           float beta2, float eps, float stepSize, float secondCorrection, float decay, float gradScale) {
  v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(1.0f - beta1);
  v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(1.0f - beta2);
  v128_t e = wasm_f32x4_splat(eps), ss = wasm_f32x4_splat(stepSize), sc = wasm_f32x4_splat(1.0f / secondCorrection);
  v128_t dc = wasm_f32x4_splat(decay), gs = wasm_f32x4_splat(gradScale);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_f32x4_mul(wasm_v128_load(g + i), gs);
    v128_t pi = wasm_v128_load(p + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1), wasm_f32x4_mul(gi, c1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), c2));
    v128_t denom = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vi), sc), e);
    v128_t upd = wasm_f32x4_sub(pi, wasm_f32x4_mul(wasm_f32x4_div(mi, denom), ss));
    wasm_v128_store(p2 + i, wasm_f32x4_sub(upd, wasm_f32x4_mul(pi, dc)));
    wasm_v128_store(m2 + i, mi);
    wasm_v128_store(v2 + i, vi);
  }
  for (; i < n; i++) {
    float gi = g[i] * gradScale;
    float mi = m[i] * beta1 + gi * (1.0f - beta1);
    float vi = v[i] * beta2 + gi * gi * (1.0f - beta2);
    float denom = __builtin_sqrtf(vi) / secondCorrection + eps;
    p2[i] = p[i] - mi / denom * stepSize - p[i] * decay;
    m2[i] = mi;
    v2[i] = vi;
  }
}

// Attention of a few new tokens over the cache, one query row at a time: the decode step's
// products are matrix-vector (1×D·D×Tk per head), where a gemm's packing and per-call cost
// dominate. q and out are token-major [B, T, H, D] (the projections' own layout, so no head
// split or merge is needed; q's token rows are qStride floats apart); the cache is [B, H, capacity, D] with `length + T` rows filled.
// Query i sees keys j ≤ length + i, plus the additive mask (strides as attention_softmax).
// scratch: at least length + T floats.
EXPORT(attention_rows)
void attention_rows(const float* q, int qStride, const float* kc, const float* vc, float* out, float* scratch, int b, int t, int h,
                    int d, int capacity, int length, float scale, const float* mask, int mb, int mh, int mq, int mk) {
  for (int bi = 0; bi < b; bi++)
    for (int ti = 0; ti < t; ti++)
      for (int hi = 0; hi < h; hi++) {
        const float* qi = q + ((long)bi * t + ti) * qStride + (long)hi * d;
        float* oi = out + (((long)bi * t + ti) * h + hi) * d;
        const float* keys = kc + ((long)bi * h + hi) * capacity * d;
        const float* values = vc + ((long)bi * h + hi) * capacity * d;
        const float* m = mask ? mask + (long)bi * mb + (long)hi * mh + (long)ti * mq : 0;
        int len = length + ti + 1;
        // Scores four keys at a time: four dot-product accumulators reduced together by a
        // 4×4 transpose-add (one horizontal sum per key would cost more than the products).
        v128_t mx4 = wasm_f32x4_splat(-3.4e38f);
        v128_t sc4 = wasm_f32x4_splat(scale);
        int j = 0;
        if ((d & 3) == 0) {
          for (; j + 4 <= len; j += 4) {
            const float* k0 = keys + (long)j * d;
            v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0; e < d; e += 4) {
              v128_t qv = wasm_v128_load(qi + e);
              a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(qv, wasm_v128_load(k0 + e)));
              a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(qv, wasm_v128_load(k0 + d + e)));
              a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(qv, wasm_v128_load(k0 + 2 * d + e)));
              a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(qv, wasm_v128_load(k0 + 3 * d + e)));
            }
            v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
            v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
            v128_t s4 = wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
            s4 = wasm_f32x4_mul(s4, sc4);
            if (m) s4 = wasm_f32x4_add(s4, wasm_f32x4_make(m[(long)j * mk], m[(long)(j + 1) * mk], m[(long)(j + 2) * mk], m[(long)(j + 3) * mk]));
            wasm_v128_store(scratch + j, s4);
            mx4 = wasm_f32x4_max(mx4, s4);
          }
        }
        float mx = hmax(mx4);
        for (; j < len; j++) {
          const float* kj = keys + (long)j * d;
          v128_t acc = wasm_f32x4_splat(0.0f);
          int e = 0;
          for (; e + 4 <= d; e += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(qi + e), wasm_v128_load(kj + e)));
          float s = hsum(acc);
          for (; e < d; e++) s += qi[e] * kj[e];
          s = s * scale + (m ? m[(long)j * mk] : 0.0f);
          scratch[j] = s;
          mx = s > mx ? s : mx;
        }
        v128_t m4 = wasm_f32x4_splat(mx);
        v128_t sum4 = wasm_f32x4_splat(0.0f);
        for (j = 0; j + 4 <= len; j += 4) {
          v128_t ex = exp4(wasm_f32x4_sub(wasm_v128_load(scratch + j), m4));
          wasm_v128_store(scratch + j, ex);
          sum4 = wasm_f32x4_add(sum4, ex);
        }
        float sum = hsum(sum4);
        if (j < len) {
          v128_t ex = exp4(wasm_f32x4_sub(load_tail(scratch + j, len - j), m4));
          ex = wasm_v128_and(ex, wasm_i32x4_gt(wasm_i32x4_splat(len - j), wasm_i32x4_make(0, 1, 2, 3)));
          store_tail(scratch + j, ex, len - j);
          sum += hsum(ex);
        }
        float inv = 1.0f / sum;
        int e = 0;
        for (; e + 4 <= d; e += 4) {
          v128_t acc = wasm_f32x4_splat(0.0f);
          for (int k = 0; k < len; k++) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(scratch[k]), wasm_v128_load(values + (long)k * d + e)));
          wasm_v128_store(oi + e, wasm_f32x4_mul(acc, wasm_f32x4_splat(inv)));
        }
        for (; e < d; e++) {
          float acc = 0.0f;
          for (int k = 0; k < len; k++) acc += scratch[k] * values[(long)k * d + e];
          oi[e] = acc * inv;
        }
      }
}

// GELU for training: also keeps t = tanh(k(x + c·x³)) so the backward pass needs no
// second tanh (the most expensive part of both).
EXPORT(gelu_fwd_keep) void gelu_fwd_keep(const float* x, float* y, float* tkeep, int n) {
  v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t t = gelu_tanh_arg(xv);
    wasm_v128_store(tkeep + i, t);
    wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(xv, half), wasm_f32x4_add(t, one)));
  }
  if (i < n) {
    v128_t xv = load_tail(x + i, n - i);
    v128_t t = gelu_tanh_arg(xv);
    store_tail(tkeep + i, t, n - i);
    store_tail(y + i, wasm_f32x4_mul(wasm_f32x4_mul(xv, half), wasm_f32x4_add(t, one)), n - i);
  }
}

// d/dx ½x(1+t) = ½(1+t) + ½x(1−t²)·k(1+3c·x²)
static inline v128_t gelu_grad_kept4(v128_t x, v128_t t, v128_t dy) {
  v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f);
  v128_t inner = wasm_f32x4_mul(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(x, x), wasm_f32x4_splat(3.0f * GELU_C)), one),
                                wasm_f32x4_splat(GELU_K));
  v128_t local = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_add(t, one), half),
                                wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(x, half), wasm_f32x4_sub(one, wasm_f32x4_mul(t, t))), inner));
  return wasm_f32x4_mul(dy, local);
}

EXPORT(gelu_bwd_kept) void gelu_bwd_kept(const float* x, const float* t, const float* dy, float* dx, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(dx + i, gelu_grad_kept4(wasm_v128_load(x + i), wasm_v128_load(t + i), wasm_v128_load(dy + i)));
  if (i < n) store_tail(dx + i, gelu_grad_kept4(load_tail(x + i, n - i), load_tail(t + i, n - i), load_tail(dy + i, n - i)), n - i);
}
