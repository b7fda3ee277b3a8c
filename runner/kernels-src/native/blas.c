// Optional native matmul for the wasm backend: OpenBLAS's sgemm run directly on the
// backend's memory (an ArrayBuffer; zero copy), on all cores. A Node-API module, so one
// binary serves every Node version; OpenBLAS is opened at load time with dlopen, so the
// binary has no link-time dependency and a machine without libopenblas0 simply gets the
// wasm kernels (the load throws, the caller falls back).
#define NAPI_VERSION 6
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static sgemm_fn sgemm;
static set_threads_fn set_threads;
static get_threads_fn get_threads;

static napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// matmul(memory: ArrayBuffer, batch, m, n, k, aByte, strideA, transA, bByte, strideB, transB, outByte, biasByte)
// out[i] = op(a[i])·op(b[i]) (+ bias[n] when biasByte ≥ 0); strides in floats, 0 broadcasts.
static napi_value matmul(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) return fail(env, "matmul: 13 arguments");
  void* data;
  size_t bytes;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) return fail(env, "matmul: memory must be an ArrayBuffer");
  double v[12];
  for (int i = 0; i < 12; i++)
    if (napi_get_value_double(env, argv[i + 1], &v[i]) != napi_ok) return fail(env, "matmul: numeric arguments");
  int64_t batch = (int64_t)v[0], m = (int64_t)v[1], n = (int64_t)v[2], k = (int64_t)v[3];
  int64_t aByte = (int64_t)v[4], strideA = (int64_t)v[5], bByte = (int64_t)v[7], strideB = (int64_t)v[8];
  int64_t outByte = (int64_t)v[10], biasByte = (int64_t)v[11];
  int transA = v[6] != 0, transB = v[9] != 0;
  if (batch < 0 || m < 0 || n < 0 || k < 0 || strideA < 0 || strideB < 0) return fail(env, "matmul: negative size");
  // Every read and write must stay inside the memory: a wrong offset from JS would
  // otherwise corrupt the backend's heap.
  int64_t total = (int64_t)bytes;
  int64_t lastA = aByte + 4 * ((batch > 0 ? batch - 1 : 0) * strideA + m * k);
  int64_t lastB = bByte + 4 * ((batch > 0 ? batch - 1 : 0) * strideB + k * n);
  int64_t lastOut = outByte + 4 * batch * m * n;
  if (aByte < 0 || bByte < 0 || outByte < 0 || lastA > total || lastB > total || lastOut > total ||
      (biasByte >= 0 && biasByte + 4 * n > total))
    return fail(env, "matmul: operand outside memory");
  if (batch == 0 || m == 0 || n == 0) return NULL;
  char* base = (char*)data;
  const float* bias = biasByte >= 0 ? (const float*)(base + biasByte) : NULL;
  for (int64_t i = 0; i < batch; i++) {
    const float* a = (const float*)(base + aByte) + i * strideA;
    const float* b = (const float*)(base + bByte) + i * strideB;
    float* c = (float*)(base + outByte) + i * m * n;
    if (bias)
      for (int64_t r = 0; r < m; r++) memcpy(c + r * n, bias, 4 * n);
    if (k == 0) {
      if (!bias) memset(c, 0, 4 * m * n);
      continue;
    }
    sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a,
          transA ? (int)m : (int)k, b, transB ? (int)k : (int)n, bias ? 1.0f : 0.0f, c, (int)n);
  }
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1) {
    int32_t count;
    if (napi_get_value_int32(env, argv[0], &count) != napi_ok || count < 1) return fail(env, "threads: a positive integer");
    set_threads(count);
  }
  napi_value out;
  napi_create_int32(env, get_threads(), &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  const char* names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"};
  void* lib = NULL;
  for (unsigned i = 0; i < sizeof names / sizeof names[0] && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!lib) return fail(env, "OpenBLAS not found (install libopenblas0)");
  sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
  get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
  if (!sgemm || !set_threads || !get_threads) return fail(env, "OpenBLAS lacks cblas_sgemm or its thread controls");
  napi_value fn;
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, matmul, NULL, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "threads", NAPI_AUTO_LENGTH, threads, NULL, &fn);
  napi_set_named_property(env, exports, "threads", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
