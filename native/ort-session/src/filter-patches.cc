// FilterPatchesNchw(x [N, C, H, W]) -> [KH*KW*C, N*OH*OW]: row (i, j, c)
// holds x[n, c, p*sh + i*dh - pt, q*sw + j*dw - pl] for every output position
// (n, p, q), zero in the padding. A convolution's filter gradient is then
// one matrix product, patches x dy [N*OH*OW, CO], with no transposed operand
// (slow in ONNX Runtime's Gemm); the standard operators build these patches
// from a transposed x, a strided Slice per tap and a Concat, each a full pass
// (Slice and Transpose ran slower on two threads than on one here). x comes
// in NCHW, the convolution's own layout (ONNX Runtime then needs no
// transpose), so each patch row is copied from channel planes as they are;
// the rows are spread over the session's intra-op threads.
// Attributes kh, kw, sh, sw, dh, dw, pt, pl, oh, ow.
#include <cstring>

#include "custom-ops.h"

namespace rxkeras {
namespace {

struct Kernel {
  const ort::Api* api;
  int64_t kh, kw, sh, sw, dh, dw, pt, pl, oh, ow;
};

const ort::Api* theApi = nullptr;

void* create(const ort::CustomOp*, const void*, const OrtKernelInfo* info) {
  auto get = [info](const char* attribute) { return intAttribute(*theApi, info, attribute); };
  return new Kernel{theApi, get("kh"), get("kw"), get("sh"), get("sw"), get("dh"), get("dw"), get("pt"), get("pl"), get("oh"), get("ow")};
}

struct Job {
  const Kernel* k;
  Tensor x;
  float* out;
};

// Output row (i, j, ch), written front to back from channel ch's plane.
void patchRow(void* data, size_t index) {
  Job& job = *static_cast<Job*>(data);
  const Kernel& k = *job.k;
  const int64_t n = job.x.shape[0], c = job.x.shape[1], h = job.x.shape[2], w = job.x.shape[3];
  const int64_t row = static_cast<int64_t>(index), ch = row % c, j = row / c % k.kw, i = row / c / k.kw;
  float* __restrict run = job.out + row * n * k.oh * k.ow;
  for (int64_t b = 0; b < n; b++) {
    const float* plane = job.x.data + (b * c + ch) * h * w;
    for (int64_t p = 0; p < k.oh; p++, run += k.ow) {
      const int64_t r = p * k.sh + i * k.dh - k.pt;
      if (r < 0 || r >= h) {
        std::memset(run, 0, sizeof(float) * k.ow);
        continue;
      }
      const float* __restrict in = plane + r * w;
      for (int64_t q = 0; q < k.ow; q++) {
        const int64_t s = q * k.sw + j * k.dw - k.pl;
        run[q] = s >= 0 && s < w ? in[s] : 0.f;
      }
    }
  }
}

void compute(void* state, OrtKernelContext* context) {
  const Kernel& k = *static_cast<Kernel*>(state);
  const ort::Api& api = *k.api;
  Job job{&k, input(api, context, 0), nullptr};
  if (job.x.rank != 4 || job.x.data == nullptr) return;
  const int64_t n = job.x.shape[0], c = job.x.shape[1];
  const int64_t shape[2] = {k.kh * k.kw * c, n * k.oh * k.ow};
  job.out = output(api, context, 0, shape, 2);
  if (job.out == nullptr) return;
  parallelFor(api, context, patchRow, static_cast<size_t>(shape[0]), &job);
}

constexpr char kName[] = "FilterPatchesNchw";
const ort::CustomOp op = cpuFloatOp<kName, 1, 1>(create, compute, deleteKernel<Kernel>);

}  // namespace

const ort::CustomOp& filterPatchesOp(const ort::Api& api) {
  theApi = &api;
  return op;
}

}  // namespace rxkeras
