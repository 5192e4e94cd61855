// MaxPoolGradNhwc(dy [N, OH, OW, C], x [N, H, W, C]) -> dx [N, H, W, C]: each
// window's dy goes to the first maximum of x in the window in row-major tap
// order (as tfjs and TensorFlow pick), padding never chosen, overlapping
// windows adding up. Attributes kh, kw, sh, sw (window, strides) and pt, pl
// (padding before the rows and columns). One pass over x, in place of the
// dozens of slices, comparisons and concatenations the standard operators need.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "custom-ops.h"

namespace rxkeras {
namespace {

struct Kernel {
  const ort::Api* api;
  int64_t kh, kw, sh, sw, pt, pl;
};

const ort::Api* theApi = nullptr;

void* create(const ort::CustomOp*, const void*, const OrtKernelInfo* info) {
  const ort::Api& a = *theApi;
  auto get = [&](const char* attribute) { return intAttribute(a, info, attribute); };
  return new Kernel{theApi, get("kh"), get("kw"), get("sh"), get("sw"), get("pt"), get("pl")};
}

// AVX2 where the CPU has it (chosen when the addon loads): the branch-free
// maximum below vectorises there, ~4x faster than SSE2 code.
#if defined(__x86_64__) && defined(__GNUC__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

struct Job {
  const Kernel* k;
  Tensor dy, x;
  float* dx;
};

// One batch item (items never share a window, so they run in parallel).
VECTOR_CLONES void firstMaxima(void* data, size_t item) {
  const Job& job = *static_cast<Job*>(data);
  const Kernel& k = *job.k;
  const int64_t b = static_cast<int64_t>(item);
  const int64_t h = job.x.shape[1], w = job.x.shape[2], c = job.x.shape[3], oh = job.dy.shape[1], ow = job.dy.shape[2];
  float* dx = job.dx;
  // Windows that do not overlap are written whole (no scatter); zeros first where some position may be in none.
  const bool disjoint = k.sh >= k.kh && k.sw >= k.kw;
  if (!disjoint || k.pt || k.pl || oh * k.sh != h || ow * k.sw != w || k.sh != k.kh || k.sw != k.kw)
    std::memset(dx + b * h * w * c, 0, sizeof(float) * h * w * c);
  // Per channel the running maximum and the window tap it is at; the taps' offsets in x.
  std::vector<float> best(c);
  std::vector<int32_t> tap(c);
  std::vector<int64_t> offsets(k.kh * k.kw);
  for (int64_t i = 0; i < oh; i++)
    for (int64_t j = 0; j < ow; j++) {
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      std::fill(tap.begin(), tap.end(), -1);
      int32_t t = 0;
      for (int64_t r = i * k.sh - k.pt, re = r + k.kh; r < re; r++)
        for (int64_t s = j * k.sw - k.pl, se = s + k.kw; s < se; s++) {
          if (r < 0 || r >= h || s < 0 || s >= w) continue;
          offsets[t] = ((b * h + r) * w + s) * c;
          const float* __restrict row = job.x.data + offsets[t];
          float* __restrict m = best.data();
          int32_t* __restrict at = tap.data();
          // Strictly greater: the first maximum stays.
          for (int64_t ch = 0; ch < c; ch++) {
            const bool greater = row[ch] > m[ch];
            m[ch] = greater ? row[ch] : m[ch];
            at[ch] = greater ? t : at[ch];
          }
          t++;
        }
      const float* g = job.dy.data + ((b * oh + i) * ow + j) * c;
      if (disjoint)
        for (int32_t u = 0; u < t; u++) {
          float* __restrict out = dx + offsets[u];
          for (int64_t ch = 0; ch < c; ch++) out[ch] = tap[ch] == u ? g[ch] : 0.f;
        }
      else
        for (int64_t ch = 0; ch < c; ch++)
          if (tap[ch] >= 0) dx[offsets[tap[ch]] + ch] += g[ch];
    }
}

void compute(void* state, OrtKernelContext* context) {
  const Kernel& k = *static_cast<Kernel*>(state);
  const ort::Api& api = *k.api;
  Job job{&k, input(api, context, 0), input(api, context, 1), nullptr};
  if (job.dy.rank != 4 || job.x.rank != 4 || job.dy.data == nullptr || job.x.data == nullptr) return;
  job.dx = output(api, context, 0, job.x.shape, 4);
  if (job.dx == nullptr) return;
  // Over the session's intra-op threads; in this thread if ONNX Runtime cannot.
  const size_t n = static_cast<size_t>(job.x.shape[0]);
  OrtStatus* status = api.KernelContext_ParallelFor(context, firstMaxima, n, 0, &job);
  if (status == nullptr) return;
  api.ReleaseStatus(status);
  for (size_t b = 0; b < n; b++) firstMaxima(&job, b);
}

void destroy(void* state) { delete static_cast<Kernel*>(state); }

constexpr char kName[] = "MaxPoolGradNhwc";
const ort::CustomOp op = cpuFloatOp<kName, 2, 1>(create, compute, destroy);

}  // namespace

const ort::CustomOp& maxPoolGradOp(const ort::Api& api) {
  theApi = &api;
  return op;
}

}  // namespace rxkeras
