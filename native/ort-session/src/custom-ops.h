// Kernels of rxkeras's own that compiled graphs call where ONNX Runtime's
// standard operators are slow (the layout glue of a training step). They
// live in the domain `ai.rxkeras`, registered on every session the addon makes.
#pragma once

#include <string>

#include "ort-api.h"

namespace rxkeras {

constexpr const char* kCustomDomain = "ai.rxkeras";

// Adds the domain to a session's options; "" or ONNX Runtime's message.
std::string addCustomOps(const ort::Api& api, OrtSessionOptions* options);

// What a kernel reads of its context: a float tensor's data and shape.
struct Tensor {
  float* data = nullptr;
  int64_t shape[8] = {};
  size_t rank = 0;
};
Tensor input(const ort::Api& api, OrtKernelContext* context, size_t index);
float* output(const ort::Api& api, OrtKernelContext* context, size_t index, const int64_t* shape, size_t rank);
int64_t intAttribute(const ort::Api& api, const OrtKernelInfo* info, const char* name);
// Runs fn(data, i) for i in [0, total) on the session's intra-op threads, or in this thread if ONNX Runtime cannot.
void parallelFor(const ort::Api& api, OrtKernelContext* context, void (*fn)(void*, size_t), size_t total, void* data);

// A kernel's destroy: its state is a K made by create.
template <class K>
void deleteKernel(void* state) {
  delete static_cast<K*>(state);
}

// ONNX Runtime's description of one of these kernels: float inputs and
// outputs, all required, on the CPU. The name and counts are template
// arguments because the struct's getters get no context to read them from.
template <const char* Name, size_t Inputs, size_t Outputs>
constexpr ort::CustomOp cpuFloatOp(void* (*create)(const ort::CustomOp*, const void*, const OrtKernelInfo*),
                                   void (*compute)(void*, OrtKernelContext*), void (*destroy)(void*)) {
  return {ort::kCustomOpVersion,
          create,
          [](const ort::CustomOp*) { return Name; },
          [](const ort::CustomOp*) { return "CPUExecutionProvider"; },
          [](const ort::CustomOp*, size_t) { return ort::kFloat; },
          [](const ort::CustomOp*) { return Inputs; },
          [](const ort::CustomOp*, size_t) { return ort::kFloat; },
          [](const ort::CustomOp*) { return Outputs; },
          compute,
          destroy,
          [](const ort::CustomOp*, size_t) { return 0; },  // required
          [](const ort::CustomOp*, size_t) { return 0; },
          [](const ort::CustomOp*, size_t) { return ort::kMemTypeDefault; }};
}

// The ops (one file each).
const ort::CustomOp& maxPoolGradOp(const ort::Api& api);
const ort::CustomOp& filterPatchesOp(const ort::Api& api);
const ort::CustomOp& patchesAddOp(const ort::Api& api);

}  // namespace rxkeras
