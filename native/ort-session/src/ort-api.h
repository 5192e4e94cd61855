// The few entries of ONNX Runtime's C API that this binding calls, declared
// here because onnxruntime-node ships the library without its headers.
//
// The C API is a table of function pointers (struct OrtApi) that ONNX Runtime
// only ever appends to, so an entry's position is fixed across releases. The
// positions and signatures below were read from the official
// include/onnxruntime/core/session/onnxruntime_c_api.h (microsoft/onnxruntime,
// MIT licence; API version 17, the table of 1.17, which 1.30 still serves).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

extern "C" {
struct OrtStatus;
struct OrtEnv;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtMemoryInfo;
struct OrtRunOptions;
struct OrtAllocator;
struct OrtCustomOpDomain;
struct OrtKernelInfo;
struct OrtKernelContext;
struct OrtTensorTypeAndShapeInfo;

struct OrtApiBase {
  const void* const* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
const OrtApiBase* OrtGetApiBase();
}

namespace rxkeras::ort {

// The table version asked for: every entry used here exists in it.
constexpr uint32_t kApiVersion = 17;

// ONNXTensorElementDataType values.
constexpr int kFloat = 1;
constexpr int kInt32 = 6;
constexpr int kBool = 9;

constexpr int kLogWarning = 2;  // OrtLoggingLevel
constexpr int kSequential = 0;  // ExecutionMode
constexpr int kArenaAllocator = 1;  // OrtAllocatorType
constexpr int kMemTypeDefault = 0;  // OrtMemType

using Status = OrtStatus*;

struct CustomOp;

struct Api {
  const char* (*GetErrorMessage)(const OrtStatus*);
  Status (*CreateEnv)(int level, const char* logid, OrtEnv** out);
  Status (*CreateSessionFromArray)(const OrtEnv*, const void* data, size_t length, const OrtSessionOptions*, OrtSession** out);
  Status (*Run)(OrtSession*, const OrtRunOptions*, const char* const* inputNames, const OrtValue* const* inputs, size_t inputCount,
                const char* const* outputNames, size_t outputCount, OrtValue** outputs);
  Status (*CreateSessionOptions)(OrtSessionOptions** out);
  Status (*SetSessionExecutionMode)(OrtSessionOptions*, int mode);
  Status (*EnableProfiling)(OrtSessionOptions*, const char* prefix);
  Status (*EnableMemPattern)(OrtSessionOptions*);
  Status (*EnableCpuMemArena)(OrtSessionOptions*);
  Status (*SetSessionGraphOptimizationLevel)(OrtSessionOptions*, int level);
  Status (*SetIntraOpNumThreads)(OrtSessionOptions*, int threads);
  Status (*SetInterOpNumThreads)(OrtSessionOptions*, int threads);
  Status (*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo*, void* data, size_t bytes, const int64_t* shape, size_t rank, int type,
                                           OrtValue** out);
  Status (*CreateCpuMemoryInfo)(int allocatorType, int memType, OrtMemoryInfo** out);
  Status (*AllocatorFree)(OrtAllocator*, void* p);
  Status (*GetAllocatorWithDefaultOptions)(OrtAllocator** out);
  void (*ReleaseStatus)(OrtStatus*);
  void (*ReleaseSession)(OrtSession*);
  void (*ReleaseValue)(OrtValue*);
  void (*ReleaseSessionOptions)(OrtSessionOptions*);
  Status (*SessionEndProfiling)(OrtSession*, OrtAllocator*, char** out);
  Status (*AddSessionConfigEntry)(OrtSessionOptions*, const char* key, const char* value);
  // Custom operators (kernels of our own, see custom-ops.h).
  Status (*CreateCustomOpDomain)(const char* domain, OrtCustomOpDomain** out);
  Status (*CustomOpDomain_Add)(OrtCustomOpDomain*, const struct CustomOp* op);
  Status (*AddCustomOpDomain)(OrtSessionOptions*, OrtCustomOpDomain*);
  Status (*GetTensorMutableData)(OrtValue*, void** out);
  Status (*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo*, size_t* out);
  Status (*GetDimensions)(const OrtTensorTypeAndShapeInfo*, int64_t* out, size_t length);
  Status (*GetTensorTypeAndShape)(const OrtValue*, OrtTensorTypeAndShapeInfo** out);
  Status (*KernelInfoGetAttribute_int64)(const OrtKernelInfo*, const char* name, int64_t* out);
  Status (*KernelContext_GetInput)(const OrtKernelContext*, size_t index, const OrtValue** out);
  Status (*KernelContext_GetOutput)(OrtKernelContext*, size_t index, const int64_t* shape, size_t rank, OrtValue** out);
  void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo*);
  Status (*KernelContext_ParallelFor)(const OrtKernelContext*, void (*fn)(void* data, size_t i), size_t total, size_t batches, void* data);
};

// The version our ops declare: ONNX Runtime reads struct OrtCustomOp up to its entries for that version.
constexpr uint32_t kCustomOpVersion = 13;

// struct OrtCustomOp up to the entries of a version-13 op.
struct CustomOp {
  uint32_t version;
  void* (*CreateKernel)(const CustomOp* op, const void* api, const OrtKernelInfo* info);
  const char* (*GetName)(const CustomOp* op);
  const char* (*GetExecutionProviderType)(const CustomOp* op);
  int (*GetInputType)(const CustomOp* op, size_t index);
  size_t (*GetInputTypeCount)(const CustomOp* op);
  int (*GetOutputType)(const CustomOp* op, size_t index);
  size_t (*GetOutputTypeCount)(const CustomOp* op);
  void (*KernelCompute)(void* kernel, OrtKernelContext* context);
  void (*KernelDestroy)(void* kernel);
  int (*GetInputCharacteristic)(const CustomOp* op, size_t index);
  int (*GetOutputCharacteristic)(const CustomOp* op, size_t index);
  int (*GetInputMemoryType)(const CustomOp* op, size_t index);
};

// Fills `api` from the table; false when this library does not serve kApiVersion.
inline bool loadApi(Api& api) {
  const void* const* t = OrtGetApiBase()->GetApi(kApiVersion);
  if (t == nullptr) return false;
  auto at = [t](auto& entry, size_t position) { entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(t[position]); };
  at(api.GetErrorMessage, 2);
  at(api.CreateEnv, 3);
  at(api.CreateSessionFromArray, 8);
  at(api.Run, 9);
  at(api.CreateSessionOptions, 10);
  at(api.SetSessionExecutionMode, 13);
  at(api.EnableProfiling, 14);
  at(api.EnableMemPattern, 16);
  at(api.EnableCpuMemArena, 18);
  at(api.SetSessionGraphOptimizationLevel, 23);
  at(api.SetIntraOpNumThreads, 24);
  at(api.SetInterOpNumThreads, 25);
  at(api.CreateTensorWithDataAsOrtValue, 49);
  at(api.CreateCpuMemoryInfo, 69);
  at(api.AllocatorFree, 76);
  at(api.GetAllocatorWithDefaultOptions, 78);
  at(api.ReleaseStatus, 93);
  at(api.ReleaseSession, 95);
  at(api.ReleaseValue, 96);
  at(api.ReleaseSessionOptions, 100);
  at(api.SessionEndProfiling, 110);
  at(api.AddSessionConfigEntry, 130);
  at(api.CreateCustomOpDomain, 26);
  at(api.CustomOpDomain_Add, 27);
  at(api.AddCustomOpDomain, 28);
  at(api.GetTensorMutableData, 51);
  at(api.GetDimensionsCount, 61);
  at(api.GetDimensions, 62);
  at(api.GetTensorTypeAndShape, 65);
  at(api.KernelInfoGetAttribute_int64, 86);
  at(api.KernelContext_GetInput, 90);
  at(api.KernelContext_GetOutput, 91);
  at(api.ReleaseTensorTypeAndShapeInfo, 99);
  at(api.KernelContext_ParallelFor, 274);
  return true;
}

}  // namespace rxkeras::ort
