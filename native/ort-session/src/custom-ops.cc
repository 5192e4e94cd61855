#include "custom-ops.h"

#include <mutex>

namespace rxkeras {
namespace {

OrtCustomOpDomain* domain = nullptr;
std::string domainFailure;
std::once_flag domainOnce;

std::string failure(const ort::Api& api, OrtStatus* status) {
  if (status == nullptr) return "";
  std::string message = api.GetErrorMessage(status);
  api.ReleaseStatus(status);
  return message;
}

}  // namespace

std::string addCustomOps(const ort::Api& api, OrtSessionOptions* options) {
  // One domain for the process: sessions keep pointers to it and to its ops.
  std::call_once(domainOnce, [&api] {
    domainFailure = failure(api, api.CreateCustomOpDomain(kCustomDomain, &domain));
    for (const ort::CustomOp* op : {&maxPoolGradOp(api), &filterPatchesOp(api), &patchesAddOp(api)})
      if (domainFailure.empty()) domainFailure = failure(api, api.CustomOpDomain_Add(domain, op));
  });
  if (!domainFailure.empty()) return "the custom operators: " + domainFailure;
  return failure(api, api.AddCustomOpDomain(options, domain));
}

Tensor input(const ort::Api& api, OrtKernelContext* context, size_t index) {
  Tensor t;
  const OrtValue* value = nullptr;
  OrtTensorTypeAndShapeInfo* info = nullptr;
  if (failure(api, api.KernelContext_GetInput(context, index, &value)).empty() && value != nullptr &&
      failure(api, api.GetTensorTypeAndShape(value, &info)).empty()) {
    failure(api, api.GetDimensionsCount(info, &t.rank));
    if (t.rank <= 8) failure(api, api.GetDimensions(info, t.shape, t.rank));
    api.ReleaseTensorTypeAndShapeInfo(info);
    void* data = nullptr;
    failure(api, api.GetTensorMutableData(const_cast<OrtValue*>(value), &data));
    t.data = static_cast<float*>(data);
  }
  return t;
}

float* output(const ort::Api& api, OrtKernelContext* context, size_t index, const int64_t* shape, size_t rank) {
  OrtValue* value = nullptr;
  void* data = nullptr;
  if (!failure(api, api.KernelContext_GetOutput(context, index, shape, rank, &value)).empty() || value == nullptr) return nullptr;
  failure(api, api.GetTensorMutableData(value, &data));
  return static_cast<float*>(data);
}

int64_t intAttribute(const ort::Api& api, const OrtKernelInfo* info, const char* name) {
  int64_t value = 0;
  failure(api, api.KernelInfoGetAttribute_int64(info, name, &value));
  return value;
}

void parallelFor(const ort::Api& api, OrtKernelContext* context, void (*fn)(void*, size_t), size_t total, void* data) {
  OrtStatus* status = api.KernelContext_ParallelFor(context, fn, total, 0, data);
  if (status == nullptr) return;
  api.ReleaseStatus(status);
  for (size_t i = 0; i < total; i++) fn(data, i);
}

}  // namespace rxkeras
