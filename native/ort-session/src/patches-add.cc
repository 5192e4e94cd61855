// PatchesAdd(cols [N*OH*OW, KH*KW*C]) -> dx [N, H, W, C]: each output
// position's patch row added back where its window lies (col2im): with
// cols = dy [N*OH*OW, CO] x filter [KH*KW*C, CO]^T this is a convolution's
// input gradient, a matrix product on ONNX Runtime's fast kernels and one
// pass here, where ConvTranspose ran on one thread at about twice the
// forward convolution's time. Attributes h, w (dx's size), kh, kw, sh, sw,
// dh, dw, pt, pl, oh, ow. Batch items run over the intra-op threads.
#include <cstring>

#include "custom-ops.h"

namespace rxkeras {
namespace {

struct Kernel {
  const ort::Api* api;
  int64_t h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow;
};

const ort::Api* theApi = nullptr;

void* create(const ort::CustomOp*, const void*, const OrtKernelInfo* info) {
  auto get = [info](const char* attribute) { return intAttribute(*theApi, info, attribute); };
  return new Kernel{theApi, get("h"), get("w"), get("kh"), get("kw"), get("sh"), get("sw"), get("dh"), get("dw"), get("pt"), get("pl"), get("oh"), get("ow")};
}

struct Job {
  const Kernel* k;
  const float* cols;
  int64_t c;
  float* dx;
};

void addItem(void* data, size_t item) {
  const Job& job = *static_cast<Job*>(data);
  const Kernel& k = *job.k;
  const int64_t b = static_cast<int64_t>(item), c = job.c;
  float* dx = job.dx + b * k.h * k.w * c;
  std::memset(dx, 0, sizeof(float) * k.h * k.w * c);
  const float* row = job.cols + b * k.oh * k.ow * k.kh * k.kw * c;
  for (int64_t p = 0; p < k.oh; p++)
    for (int64_t q = 0; q < k.ow; q++)
      for (int64_t i = 0; i < k.kh; i++)
        for (int64_t j = 0; j < k.kw; j++, row += c) {
          const int64_t r = p * k.sh + i * k.dh - k.pt, s = q * k.sw + j * k.dw - k.pl;
          if (r < 0 || r >= k.h || s < 0 || s >= k.w) continue;
          float* __restrict out = dx + (r * k.w + s) * c;
          const float* __restrict in = row;
          for (int64_t ch = 0; ch < c; ch++) out[ch] += in[ch];
        }
}

void compute(void* state, OrtKernelContext* context) {
  const Kernel& k = *static_cast<Kernel*>(state);
  const ort::Api& api = *k.api;
  Tensor cols = input(api, context, 0);
  if (cols.rank != 2 || cols.data == nullptr || k.oh * k.ow == 0) return;
  const int64_t n = cols.shape[0] / (k.oh * k.ow), c = cols.shape[1] / (k.kh * k.kw);
  const int64_t shape[4] = {n, k.h, k.w, c};
  Job job{&k, cols.data, c, output(api, context, 0, shape, 4)};
  if (job.dx == nullptr) return;
  parallelFor(api, context, addItem, static_cast<size_t>(n), &job);
}

constexpr char kName[] = "PatchesAdd";
const ort::CustomOp op = cpuFloatOp<kName, 1, 1>(create, compute, deleteKernel<Kernel>);

}  // namespace

const ort::CustomOp& patchesAddOp(const ort::Api& api) {
  theApi = &api;
  return op;
}

}  // namespace rxkeras
