// Fast float32 kernels for the TensorFlow.js wasm backend, compiled to wasm32 + SIMD128
// and instantiated against the backend's own memory (import), so they read and write
// tensors in place. Built by build.mjs beside this file; the .wasm is committed.
//
// Rules that keep this safe inside someone else's memory:
// - no static data and no stack: the linker would place both at low addresses that
//   belong to the backend's Emscripten heap. Scratch space is passed in by the caller
//   (allocated with the backend's malloc); build.mjs rejects a binary with data
//   segments or stack-pointer use.
// - no libc: only clang builtins and wasm_simd128.h intrinsics.
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// Register tile: MR rows × NR columns of C held in MR·NR/4 SIMD accumulators. 6×8 uses
// 12 accumulators + 2 B vectors + 1 A splat = 15 of the 16 xmm registers V8 has on x64.
#define MR 6
#define NR 8
// Cache blocks (floats): a KC×NC panel of B (256 KB) stays in L2, an MC×KC panel of A
// (72 KB) in L1/L2 while the register tiles stream over it.
#define KC 256
#define MC 96
#define NC 256

// Bytes of scratch the caller must pass as `work`.
EXPORT(gemm_workspace_bytes) int gemm_workspace_bytes(void) {
  return (KC * NC + MC * KC + MR * NR) * 4 + 64;
}

// Copies A[ic:ic+mc, pc:pc+kc] into row panels of MR: panel p holds, for each k, the MR
// values A[ic+p·MR+r, pc+k]; rows past mc are zero so every tile is full.
static void pack_a(const float* a, int rs, int cs, int mc, int kc, float* out) {
  for (int p = 0; p < mc; p += MR) {
    int rows = mc - p < MR ? mc - p : MR;
    const float* src = a + p * rs;
    if (rows == MR && cs == 1) {
      for (int k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++) out[r] = src[r * rs + k];
        out += MR;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++) out[r] = r < rows ? src[r * rs + k * cs] : 0.0f;
        out += MR;
      }
    }
  }
}

// Copies B[pc:pc+kc, jc:jc+nc] into column panels of NR (k-major inside a panel);
// columns past nc are zero.
static void pack_b(const float* b, int rs, int cs, int kc, int nc, float* out) {
  for (int q = 0; q < nc; q += NR) {
    int cols = nc - q < NR ? nc - q : NR;
    const float* src = b + q * cs;
    if (cols == NR && cs == 1) {
      for (int k = 0; k < kc; k++) {
        wasm_v128_store(out, wasm_v128_load(src + k * rs));
        wasm_v128_store(out + 4, wasm_v128_load(src + k * rs + 4));
        out += NR;
      }
    } else if (cols == NR && rs == 1) {
      // B transposed in memory: column j is contiguous. Read NR columns in parallel.
      for (int k = 0; k < kc; k++) {
        for (int c = 0; c < NR; c++) out[c] = src[c * cs + k];
        out += NR;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        for (int c = 0; c < NR; c++) out[c] = c < cols ? src[c * cs + k * rs] : 0.0f;
        out += NR;
      }
    }
  }
}

// One MR×NR tile: C = init + Apanel·Bpanel over kc, where init is C itself (accumulate),
// the bias row (first K block with a bias), or zero.
static inline void tile(int kc, const float* pa, const float* pb, float* c, int ldc, int mode,
                        const float* bias) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (mode == 1) {
    c00 = wasm_v128_load(c + 0 * ldc); c01 = wasm_v128_load(c + 0 * ldc + 4);
    c10 = wasm_v128_load(c + 1 * ldc); c11 = wasm_v128_load(c + 1 * ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc); c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc); c31 = wasm_v128_load(c + 3 * ldc + 4);
    c40 = wasm_v128_load(c + 4 * ldc); c41 = wasm_v128_load(c + 4 * ldc + 4);
    c50 = wasm_v128_load(c + 5 * ldc); c51 = wasm_v128_load(c + 5 * ldc + 4);
  } else if (mode == 2) {
    c00 = c10 = c20 = c30 = c40 = c50 = wasm_v128_load(bias);
    c01 = c11 = c21 = c31 = c41 = c51 = wasm_v128_load(bias + 4);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = wasm_f32x4_splat(0.0f);
  }
  for (int k = 0; k < kc; k++) {
    v128_t b0 = wasm_v128_load(pb);
    v128_t b1 = wasm_v128_load(pb + 4);
    v128_t a;
    a = wasm_v128_load32_splat(pa + 0); c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(pa + 1); c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(pa + 2); c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(pa + 3); c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(pa + 4); c40 = wasm_f32x4_add(c40, wasm_f32x4_mul(a, b0)); c41 = wasm_f32x4_add(c41, wasm_f32x4_mul(a, b1));
    a = wasm_v128_load32_splat(pa + 5); c50 = wasm_f32x4_add(c50, wasm_f32x4_mul(a, b0)); c51 = wasm_f32x4_add(c51, wasm_f32x4_mul(a, b1));
    pa += MR;
    pb += NR;
  }
  wasm_v128_store(c + 0 * ldc, c00); wasm_v128_store(c + 0 * ldc + 4, c01);
  wasm_v128_store(c + 1 * ldc, c10); wasm_v128_store(c + 1 * ldc + 4, c11);
  wasm_v128_store(c + 2 * ldc, c20); wasm_v128_store(c + 2 * ldc + 4, c21);
  wasm_v128_store(c + 3 * ldc, c30); wasm_v128_store(c + 3 * ldc + 4, c31);
  wasm_v128_store(c + 4 * ldc, c40); wasm_v128_store(c + 4 * ldc + 4, c41);
  wasm_v128_store(c + 5 * ldc, c50); wasm_v128_store(c + 5 * ldc + 4, c51);
}

// C[M×N] (row stride ldc) = A·B (+ bias[N] when bias is non-null, + C when accumulate),
// with A(i,k) = a[i·rsA + k·csA] and B(k,j) = b[k·rsB + j·csB]: strides express
// transposes, so every layout takes the same packed path.
static void gemm(int m, int n, int k, const float* a, int rsA, int csA, const float* b, int rsB, int csB,
                 float* c, int ldc, const float* bias, int accumulate, float* work) {
  float* pb = (float*)(((unsigned long)work + 63) & ~63ul);
  float* pa = pb + KC * NC;
  float* edge = pa + MC * KC;
  if (k == 0) {
    // Nothing to multiply: C is the bias, zero, or left as it is.
    if (accumulate) return;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : 0.0f;
    return;
  }
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      pack_b(b + pc * rsB + jc * csB, rsB, csB, kc, nc, pb);
      int mode = (pc > 0 || accumulate) ? 1 : (bias ? 2 : 0);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        pack_a(a + ic * rsA + pc * csA, rsA, csA, mc, kc, pa);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = nc - jr < NR ? nc - jr : NR;
          const float* biasTile = bias ? bias + jc + jr : 0;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            float* ct = c + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              tile(kc, pa + ir * kc, pb + jr * kc, ct, ldc, mode, biasTile);
            } else {
              // Partial tile: compute a full one in scratch, copy the valid part.
              float* e = edge;
              if (mode == 1) {
                for (int r = 0; r < mr; r++) for (int q = 0; q < nr; q++) e[r * NR + q] = ct[r * ldc + q];
              } else if (mode == 2) {
                for (int r = 0; r < MR; r++) for (int q = 0; q < NR; q++) e[r * NR + q] = q < nr ? biasTile[q] : 0.0f;
              }
              tile(kc, pa + ir * kc, pb + jr * kc, e, NR, mode == 0 ? 0 : 1, 0);
              for (int r = 0; r < mr; r++) for (int q = 0; q < nr; q++) ct[r * ldc + q] = e[r * NR + q];
            }
          }
        }
      }
    }
  }
}

// batch × (M×K · K×N) with each operand's batch stride in floats (0 broadcasts it).
// transA/transB say the stored matrix is the transpose (K×M or N×K, row-major).
EXPORT(batch_matmul)
void batch_matmul(int batch, int m, int n, int k, const float* a, int strideA, int transA, const float* b,
                  int strideB, int transB, float* c, const float* bias, float* work) {
  int rsA = transA ? 1 : k, csA = transA ? m : 1;
  int rsB = transB ? 1 : n, csB = transB ? k : 1;
  for (int i = 0; i < batch; i++)
    gemm(m, n, k, a + i * strideA, rsA, csA, b + i * strideB, rsB, csB, c + i * m * n, n, bias, 0, work);
}
