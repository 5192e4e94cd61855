// MaxPoolGrad(dy [N, OH, OW, C], x [N, C, H, W]) -> dx [N, H, W, C], sums [C]: each
// window's dy goes to the first maximum of x in the window in row-major tap
// order (as tfjs and TensorFlow pick), padding never chosen, overlapping
// windows adding up. x comes in NCHW, the layout of the convolution before it
// and of the forward MaxPool, so that ONNX Runtime cancels the transposes
// around them; dy and dx are NHWC like the rest of the gradient. Attributes
// kh, kw, sh, sw (window, strides), pt, pl (padding before the rows and
// columns) and positive: 1 multiplies each window's dy by whether its maximum
// is > 0, which is a ReLU's gradient (tfjs's dy * step(x)) folded in where x is
// a ReLU's output or input. One pass over x, in place of the dozens of slices,
// comparisons and concatenations the standard operators need. A second
// output, sums [C], holds dx summed over batch and positions (a bias's
// gradient when dx is a convolution's output gradient), added up as the
// windows are written, in place of another pass over dx.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "custom-ops.h"

namespace rxkeras {
namespace {

struct Kernel {
  const ort::Api* api;
  int64_t kh, kw, sh, sw, pt, pl;
  bool positive;
};

const ort::Api* theApi = nullptr;

void* create(const ort::CustomOp*, const void*, const OrtKernelInfo* info) {
  const ort::Api& a = *theApi;
  auto get = [&](const char* attribute) { return intAttribute(a, info, attribute); };
  return new Kernel{theApi, get("kh"), get("kw"), get("sh"), get("sw"), get("pt"), get("pl"), get("positive") != 0};
}

// AVX2 where the CPU has it (chosen when the addon loads): the branch-free
// maximum below vectorises there, ~4x faster than SSE2 code.
#if defined(__x86_64__) && defined(__GNUC__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

// Positions [from, to) of one item's [C, P] planes as [P, C] rows: 8 x 8
// blocks through AVX2 registers where the CPU has them (several times faster
// than scalar copies), the rest one value at a time.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) int64_t channelsLastAvx2(const float* planes, float* rows, int64_t c, int64_t p, int64_t from, int64_t to) {
  if (c % 8 != 0) return from;
  const int64_t end = from + (to - from) / 8 * 8;
  for (int64_t ch = 0; ch < c; ch += 8)
    for (int64_t q = from; q < end; q += 8) {
      __m256 r[8];
      for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(planes + (ch + k) * p + q);
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      const __m256 out[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                             _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                             _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                             _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
      for (int k = 0; k < 8; k++) _mm256_storeu_ps(rows + (q + k) * c + ch, out[k]);
    }
  return end;
}
// (cpu_init first: this runs while the addon loads, maybe before the compiler's own check.)
const bool avx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

void channelsLast(const float* __restrict planes, float* __restrict rows, int64_t c, int64_t p, int64_t from, int64_t to) {
  int64_t q = from;
#if defined(__x86_64__) && defined(__GNUC__)
  if (avx2) q = channelsLastAvx2(planes, rows, c, p, from, to);
#endif
  for (; q < to; q++)
    for (int64_t ch = 0; ch < c; ch++) rows[q * c + ch] = planes[ch * p + q];
}

struct Job {
  const Kernel* k;
  Tensor dy, x;
  float* dx;
  float* partial;  // [N, C]: each item's sums
};

// One batch item (items never share a window, so they run in parallel).
VECTOR_CLONES void firstMaxima(void* data, size_t item) {
  const Job& job = *static_cast<Job*>(data);
  const Kernel& k = *job.k;
  const int64_t b = static_cast<int64_t>(item);
  const int64_t c = job.x.shape[1], h = job.x.shape[2], w = job.x.shape[3], oh = job.dy.shape[1], ow = job.dy.shape[2];
  float* dx = job.dx + b * h * w * c;
  // The item's x in HWC (a per-thread copy), so that the loops below run over channels.
  thread_local std::vector<float> copy;
  copy.resize(h * w * c);
  float* __restrict hwc = copy.data();
  // Windows that do not overlap are written whole (no scatter); zeros first where some position may be in none.
  const bool disjoint = k.sh >= k.kh && k.sw >= k.kw, positive = k.positive;
  if (!disjoint || k.pt || k.pl || oh * k.sh != h || ow * k.sw != w || k.sh != k.kh || k.sw != k.kw)
    std::memset(dx, 0, sizeof(float) * h * w * c);
  // Per channel the running maximum, the window tap it is at and the window's dy; the taps' offsets in the item.
  std::vector<float> best(c), grad(c);
  std::vector<int32_t> tap(c);
  std::vector<int64_t> offsets(k.kh * k.kw);
  // x's rows are turned as the windows reach them, so that reading x overlaps the work on earlier rows.
  const float* planes = job.x.data + b * c * h * w;
  float* __restrict sum = job.partial + b * c;
  int64_t turned = 0;
  for (int64_t i = 0; i < oh; i++) {
    const int64_t needed = std::min(h, std::max<int64_t>(0, i * k.sh - k.pt + k.kh)) * w;
    if (needed > turned) channelsLast(planes, hwc, c, h * w, turned, needed);
    turned = std::max(turned, needed);
    for (int64_t j = 0; j < ow; j++) {
      std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
      std::fill(tap.begin(), tap.end(), -1);
      int32_t t = 0;
      for (int64_t r = i * k.sh - k.pt, re = r + k.kh; r < re; r++)
        for (int64_t s = j * k.sw - k.pl, se = s + k.kw; s < se; s++) {
          if (r < 0 || r >= h || s < 0 || s >= w) continue;
          offsets[t] = (r * w + s) * c;
          const float* __restrict row = hwc + offsets[t];
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
      const float* __restrict dy = job.dy.data + ((b * oh + i) * ow + j) * c;
      float* __restrict g = grad.data();
      const float* __restrict m = best.data();
      // dy * 0 rather than 0: a NaN or infinite dy gives NaN, as tfjs's product does.
      if (positive)
        for (int64_t ch = 0; ch < c; ch++) g[ch] = m[ch] > 0.f ? dy[ch] : dy[ch] * 0.f;
      else
        std::memcpy(g, dy, sizeof(float) * c);
      for (int64_t ch = 0; ch < c; ch++) sum[ch] += g[ch];
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
}

void compute(void* state, OrtKernelContext* context) {
  const Kernel& k = *static_cast<Kernel*>(state);
  const ort::Api& api = *k.api;
  Job job{&k, input(api, context, 0), input(api, context, 1), nullptr, nullptr};
  if (job.dy.rank != 4 || job.x.rank != 4 || job.dy.data == nullptr || job.x.data == nullptr) return;
  const int64_t* s = job.x.shape;
  const int64_t nhwc[4] = {s[0], s[2], s[3], s[1]};
  job.dx = output(api, context, 0, nhwc, 4);
  float* sums = output(api, context, 1, s + 1, 1);
  if (job.dx == nullptr || sums == nullptr) return;
  std::vector<float> partial(s[0] * s[1], 0.f);
  job.partial = partial.data();
  parallelFor(api, context, firstMaxima, static_cast<size_t>(s[0]), &job);
  // The items' sums in batch order (the same result on any number of threads).
  for (int64_t ch = 0; ch < s[1]; ch++) sums[ch] = 0.f;
  for (int64_t b = 0; b < s[0]; b++)
    for (int64_t ch = 0; ch < s[1]; ch++) sums[ch] += partial[b * s[1] + ch];
}

constexpr char kName[] = "MaxPoolGrad";
const ort::CustomOp op = cpuFloatOp<kName, 2, 2>(create, compute, deleteKernel<Kernel>);

}  // namespace

const ort::CustomOp& maxPoolGradOp(const ort::Api& api) {
  theApi = &api;
  return op;
}

}  // namespace rxkeras
