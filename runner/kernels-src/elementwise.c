// Element-wise, reduction and layout kernels for the wasm backend, where the stock ones
// were measured slow in a training step (bench: profile-step.ts): Pow (std::pow per
// element), Tanh, Sum over a leading axis (stock transposes first), Transpose.
// Same rules as gemm.c: no static data, no stack; addresses are into the backend's memory.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// out = x^e for a small integer e (the GELU's x³); e ∈ {2, 3, 4}.
EXPORT(pow_int) void pow_int(const float* x, float* out, int n, int e) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t sq = wasm_f32x4_mul(v, v);
    v128_t r = e == 2 ? sq : e == 3 ? wasm_f32x4_mul(sq, v) : wasm_f32x4_mul(sq, sq);
    wasm_v128_store(out + i, r);
  }
  for (; i < n; i++) {
    float v = x[i];
    out[i] = e == 2 ? v * v : e == 3 ? v * v * v : v * v * v * v;
  }
}

#include "simd_math.h"

EXPORT(tanh_f32) void tanh_f32(const float* x, float* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, tanh4(wasm_v128_load(x + i)));
  if (i < n) {
    // The tail through one vector in registers (no stack: read lanes, write lanes).
    float t0 = x[i], t1 = i + 1 < n ? x[i + 1] : 0.0f, t2 = i + 2 < n ? x[i + 2] : 0.0f;
    v128_t r = tanh4(wasm_f32x4_make(t0, t1, t2, 0.0f));
    out[i] = wasm_f32x4_extract_lane(r, 0);
    if (i + 1 < n) out[i + 1] = wasm_f32x4_extract_lane(r, 1);
    if (i + 2 < n) out[i + 2] = wasm_f32x4_extract_lane(r, 2);
  }
}

// out[o, i] = Σ_r x[o, r, i] for x viewed as [outer, red, inner].
EXPORT(sum_reduce) void sum_reduce(const float* x, float* out, int outer, int red, int inner) {
  for (int o = 0; o < outer; o++) {
    const float* src = x + (long)o * red * inner;
    float* dst = out + (long)o * inner;
    if (inner == 1) {
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
      int r = 0;
      for (; r + 8 <= red; r += 8) {
        a0 = wasm_f32x4_add(a0, wasm_v128_load(src + r));
        a1 = wasm_f32x4_add(a1, wasm_v128_load(src + r + 4));
      }
      a0 = wasm_f32x4_add(a0, a1);
      float s = wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1) + wasm_f32x4_extract_lane(a0, 2) +
                wasm_f32x4_extract_lane(a0, 3);
      for (; r < red; r++) s += src[r];
      dst[0] = s;
      continue;
    }
    // Column sums: walk the rows once per block of 16 columns, accumulators in registers.
    int i = 0;
    for (; i + 16 <= inner; i += 16) {
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (int r = 0; r < red; r++) {
        const float* row = src + (long)r * inner + i;
        a0 = wasm_f32x4_add(a0, wasm_v128_load(row));
        a1 = wasm_f32x4_add(a1, wasm_v128_load(row + 4));
        a2 = wasm_f32x4_add(a2, wasm_v128_load(row + 8));
        a3 = wasm_f32x4_add(a3, wasm_v128_load(row + 12));
      }
      wasm_v128_store(dst + i, a0);
      wasm_v128_store(dst + i + 4, a1);
      wasm_v128_store(dst + i + 8, a2);
      wasm_v128_store(dst + i + 12, a3);
    }
    for (; i + 4 <= inner; i += 4) {
      v128_t a0 = wasm_f32x4_splat(0.0f);
      for (int r = 0; r < red; r++) a0 = wasm_f32x4_add(a0, wasm_v128_load(src + (long)r * inner + i));
      wasm_v128_store(dst + i, a0);
    }
    for (; i < inner; i++) {
      float s = 0.0f;
      for (int r = 0; r < red; r++) s += src[(long)r * inner + i];
      dst[i] = s;
    }
  }
}

static inline int pick_int(int i, int a, int b, int c, int d) { return i == 0 ? a : i == 1 ? b : i == 2 ? c : d; }
static inline long pick_long(int i, long a, long b, long c, long d) { return i == 0 ? a : i == 1 ? b : i == 2 ? c : d; }

// 4-byte elements, rank ≤ 4 (shorter ranks padded with leading 1s): out has dims
// d[p0], d[p1], d[p2], d[p3] of x's dims d0..d3.
EXPORT(transpose4)
void transpose4(const int* x, int* out, int d0, int d1, int d2, int d3, int p0, int p1, int p2, int p3) {
  // Selects rather than arrays: a local array would live on the shadow stack.
  long t0 = (long)d1 * d2 * d3, t1 = (long)d2 * d3, t2 = d3, t3 = 1;
  int o0 = pick_int(p0, d0, d1, d2, d3), o1 = pick_int(p1, d0, d1, d2, d3);
  int o2 = pick_int(p2, d0, d1, d2, d3), o3 = pick_int(p3, d0, d1, d2, d3);
  long s0 = pick_long(p0, t0, t1, t2, t3), s1 = pick_long(p1, t0, t1, t2, t3);
  long s2 = pick_long(p2, t0, t1, t2, t3), s3 = pick_long(p3, t0, t1, t2, t3);
  if (p3 == 3) {
    // The last axis stays last: contiguous runs of o3 elements.
    for (int a = 0; a < o0; a++)
      for (int b = 0; b < o1; b++)
        for (int c = 0; c < o2; c++) {
          const int* src = x + a * s0 + b * s1 + c * s2;
          int j = 0;
          for (; j + 4 <= o3; j += 4) wasm_v128_store(out + j, wasm_v128_load(src + j));
          for (; j < o3; j++) out[j] = src[j];
          out += o3;
        }
    return;
  }
  // The last output axis is strided in x: transpose in 8×8 blocks over the last two
  // output axes so reads and writes both stay within a few cache lines.
  for (int a = 0; a < o0; a++)
    for (int b = 0; b < o1; b++) {
      const int* base = x + a * s0 + b * s1;
      for (int c0 = 0; c0 < o2; c0 += 8)
        for (int e0 = 0; e0 < o3; e0 += 8) {
          int cEnd = c0 + 8 < o2 ? c0 + 8 : o2;
          int eEnd = e0 + 8 < o3 ? e0 + 8 : o3;
          for (int c = c0; c < cEnd; c++)
            for (int e = e0; e < eEnd; e++) out[(long)c * o3 + e] = base[c * s2 + e * s3];
        }
      out += (long)o2 * o3;
    }
}

// out[o, i, :] = x[o, idx[i], :] for 4-byte elements, x viewed as [outer, dim, inner].
// Returns 0, or 1 + the position of the first index outside [0, dim) (nothing written;
// the caller hands the case to the stock kernel, which reports it).
EXPORT(gather_rows) int gather_rows(const int* x, const int* idx, int* out, int outer, int dim, int inner, int n) {
  for (int i = 0; i < n; i++)
    if ((unsigned)idx[i] >= (unsigned)dim) return i + 1;
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < n; i++) {
      const int* src = x + ((long)o * dim + idx[i]) * inner;
      int* dst = out + ((long)o * n + i) * inner;
      int j = 0;
      for (; j + 4 <= inner; j += 4) wasm_v128_store(dst + j, wasm_v128_load(src + j));
      for (; j < inner; j++) dst[j] = src[j];
    }
  return 0;
}
