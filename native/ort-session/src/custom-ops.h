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

// The ops (one file each).
const ort::CustomOp& maxPoolGradOp(const ort::Api& api);
const ort::CustomOp& filterPatchesOp(const ort::Api& api);
const ort::CustomOp& patchesAddOp(const ort::Api& api);

}  // namespace rxkeras
