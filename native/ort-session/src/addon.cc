// The N-API binding: a JS class `Session` over one ONNX Runtime session, run
// synchronously on caller memory. Inputs and outputs are OrtValues made over
// the typed arrays the caller passes (their shapes and types fixed when the
// session is made), so ONNX Runtime reads the inputs in place and writes
// every output straight into the caller's buffer: no copy either way, and no
// JavaScript allocation per run. onnxruntime-node's binding copies each
// output into a new ArrayBuffer instead.
#include "fused-update.h"
#include <node_api.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "custom-ops.h"
#include "ort-api.h"

namespace rxkeras {
namespace {

ort::Api api;
OrtEnv* ortEnv = nullptr;
OrtMemoryInfo* cpuMemory = nullptr;
std::string initFailure;
std::once_flag initOnce;
std::atomic<int> liveSessions{0};
std::mutex sessionCreation;

#define CHECK(call)                                                          \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error(env, nullptr, "rxkeras ort-session: " #call " failed"); \
      return nullptr;                                                        \
    }                                                                        \
  } while (0)

// ONNX Runtime's message for a failed call (the status is released), or "" when it succeeded.
std::string failure(OrtStatus* status) {
  if (status == nullptr) return "";
  std::string message = api.GetErrorMessage(status);
  api.ReleaseStatus(status);
  return message.empty() ? "unknown error" : message;
}

void initRuntime() {
  if (!ort::loadApi(api)) {
    initFailure = std::string("ONNX Runtime ") + OrtGetApiBase()->GetVersionString() + " does not serve C API version " +
                  std::to_string(ort::kApiVersion);
    return;
  }
  // One environment per process; ONNX Runtime hands back the same one to onnxruntime-node.
  std::string why = failure(api.CreateEnv(ort::kLogWarning, "rxkeras", &ortEnv));
  if (why.empty()) why = failure(api.CreateCpuMemoryInfo(ort::kArenaAllocator, ort::kMemTypeDefault, &cpuMemory));
  if (!why.empty()) initFailure = "ONNX Runtime's environment: " + why;
}

// One graph input or output: its name, element type and shape, fixed per session.
struct Port {
  std::string name;
  int type;
  napi_typedarray_type arrayType;
  size_t elementBytes;
  std::vector<int64_t> shape;
  size_t bytes;
};

struct Session {
  OrtSession* session = nullptr;
  std::vector<Port> inputs, outputs;
  std::vector<const char*> inputNames, outputNames;
  bool profiling = false;

  void release() {
    if (session == nullptr) return;
    api.ReleaseSession(session);
    session = nullptr;
    liveSessions--;
  }
};

// Releases the OrtValues of one run, however it ends.
struct Values {
  std::vector<OrtValue*> v;
  explicit Values(size_t n) : v(n, nullptr) {}
  ~Values() {
    for (OrtValue* value : v)
      if (value != nullptr) api.ReleaseValue(value);
  }
};

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("rxkeras ort-session: " + message).c_str());
  return nullptr;
}

bool getString(napi_env env, napi_value value, std::string& out) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out.resize(length);
  return napi_get_value_string_utf8(env, value, out.data(), length + 1, &length) == napi_ok;
}

napi_value property(napi_env env, napi_value object, const char* name) {
  napi_value value = nullptr;
  napi_get_named_property(env, object, name, &value);
  return value;
}

// Reads [{ name, dtype: 'float32' | 'int32' | 'bool', shape: number[] }, ...] into ports; "" when it could.
std::string readPorts(napi_env env, napi_value list, std::vector<Port>& ports) {
  uint32_t count;
  if (napi_get_array_length(env, list, &count) != napi_ok) return "expected an array of { name, dtype, shape }";
  for (uint32_t i = 0; i < count; i++) {
    napi_value item, dims;
    Port p;
    std::string dtype;
    uint32_t rank;
    napi_get_element(env, list, i, &item);
    if (!getString(env, property(env, item, "name"), p.name) || !getString(env, property(env, item, "dtype"), dtype))
      return "port " + std::to_string(i) + ": expected string name and dtype";
    if (dtype == "float32") p.type = ort::kFloat, p.arrayType = napi_float32_array, p.elementBytes = 4;
    else if (dtype == "int32") p.type = ort::kInt32, p.arrayType = napi_int32_array, p.elementBytes = 4;
    else if (dtype == "bool") p.type = ort::kBool, p.arrayType = napi_uint8_array, p.elementBytes = 1;
    else return "port " + p.name + ": dtype float32, int32 or bool expected, found " + dtype;
    dims = property(env, item, "shape");
    if (napi_get_array_length(env, dims, &rank) != napi_ok) return "port " + p.name + ": expected a shape array";
    size_t elements = 1;
    for (uint32_t d = 0; d < rank; d++) {
      napi_value dim;
      int64_t n;
      napi_get_element(env, dims, d, &dim);
      if (napi_get_value_int64(env, dim, &n) != napi_ok || n < 0) return "port " + p.name + ": expected non-negative integer dimensions";
      p.shape.push_back(n);
      elements *= static_cast<size_t>(n);
    }
    p.bytes = elements * p.elementBytes;
    ports.push_back(std::move(p));
  }
  return "";
}

// Makes OrtValues over the typed arrays in `list` (one per port, in order); "" when it could.
std::string wrap(napi_env env, napi_value list, const std::vector<Port>& ports, Values& values, const char* kind) {
  static char empty = 0;  // ONNX Runtime wants a pointer even for no bytes.
  uint32_t count;
  if (napi_get_array_length(env, list, &count) != napi_ok || count != ports.size())
    return std::string("expected an array of ") + std::to_string(ports.size()) + " " + kind + " arrays";
  for (uint32_t i = 0; i < count; i++) {
    const Port& p = ports[i];
    napi_value item, buffer;
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    napi_get_element(env, list, i, &item);
    if (napi_get_typedarray_info(env, item, &type, &length, &data, &buffer, &offset) != napi_ok || type != p.arrayType)
      return std::string(kind) + " " + p.name + ": expected " + (p.type == ort::kFloat ? "a Float32Array" : p.type == ort::kInt32 ? "an Int32Array" : "a Uint8Array");
    if (length * p.elementBytes != p.bytes)
      return std::string(kind) + " " + p.name + ": expected " + std::to_string(p.bytes / p.elementBytes) + " elements, found " + std::to_string(length);
    std::string why = failure(api.CreateTensorWithDataAsOrtValue(cpuMemory, p.bytes == 0 ? &empty : data, p.bytes, p.shape.data(), p.shape.size(), p.type, &values.v[i]));
    if (!why.empty()) return std::string(kind) + " " + p.name + ": " + why;
  }
  return "";
}

Session* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* data = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok || napi_unwrap(env, self, &data) != napi_ok) return nullptr;
  return static_cast<Session*>(data);
}

void collect(napi_env, void* data, void*) {
  auto* s = static_cast<Session*>(data);
  s->release();
  delete s;
}

// new Session(model: Uint8Array, inputs: Port[], outputs: Port[], { threads, optimization (ORT's level number), profilePrefix? })
napi_value Construct(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  if (!initFailure.empty()) return throwError(env, initFailure);
  napi_typedarray_type type;
  size_t length, offset;
  void* model;
  napi_value buffer;
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &type, &length, &model, &buffer, &offset) != napi_ok || type != napi_uint8_array)
    return throwError(env, "new Session(model: Uint8Array, inputs, outputs, options) expected");
  auto* s = new Session();
  std::string why = readPorts(env, argv[1], s->inputs);
  if (why.empty()) why = readPorts(env, argv[2], s->outputs);
  int32_t threads = 0, level = 99;
  std::string prefix;
  napi_get_value_int32(env, property(env, argv[3], "threads"), &threads);
  napi_get_value_int32(env, property(env, argv[3], "optimization"), &level);
  s->profiling = getString(env, property(env, argv[3], "profilePrefix"), prefix);
  OrtSessionOptions* options = nullptr;
  if (why.empty()) why = failure(api.CreateSessionOptions(&options));
  if (why.empty()) why = failure(api.SetIntraOpNumThreads(options, threads));
  if (why.empty()) why = failure(api.SetInterOpNumThreads(options, 1));
  if (why.empty()) why = failure(api.SetSessionExecutionMode(options, ort::kSequential));
  if (why.empty()) why = failure(api.SetSessionGraphOptimizationLevel(options, level));
  if (why.empty()) why = failure(api.EnableCpuMemArena(options));
  if (why.empty()) why = failure(api.EnableMemPattern(options));
  // Threads that spin between runs steal the cores from JavaScript and from other sessions.
  if (why.empty()) why = failure(api.AddSessionConfigEntry(options, "session.intra_op.allow_spinning", "0"));
  if (why.empty()) why = failure(api.AddSessionConfigEntry(options, "session.inter_op.allow_spinning", "0"));
  if (why.empty()) why = addCustomOps(api, options);
  if (why.empty() && s->profiling) why = failure(api.EnableProfiling(options, prefix.c_str()));
  if (why.empty()) {
    // Creating a session with the custom domain adds it to ONNX Runtime's process-wide schema registry, which checks
    // and adds without a lock: two worker threads creating sessions at once failed with "the domain is already exist".
    std::lock_guard<std::mutex> lock(sessionCreation);
    why = failure(api.CreateSessionFromArray(ortEnv, model, length, options, &s->session));
  }
  if (options != nullptr) api.ReleaseSessionOptions(options);
  if (!why.empty()) {
    delete s;
    return throwError(env, "could not create the session: " + why);
  }
  liveSessions++;
  for (const Port& p : s->inputs) s->inputNames.push_back(p.name.c_str());
  for (const Port& p : s->outputs) s->outputNames.push_back(p.name.c_str());
  if (napi_wrap(env, self, s, collect, nullptr, nullptr) != napi_ok) {
    s->release();
    delete s;
    return throwError(env, "napi_wrap failed");
  }
  return self;
}

// session.run(inputs: TypedArray[], outputs: TypedArray[]): every output written into its array.
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Session* s = unwrap(env, info, &argc, argv);
  if (s == nullptr || argc < 2) return throwError(env, "run(inputs, outputs) expected on a Session");
  if (s->session == nullptr) return throwError(env, "run: the session was disposed");
  Values inputs(s->inputs.size()), outputs(s->outputs.size());
  std::string why = wrap(env, argv[0], s->inputs, inputs, "input");
  if (why.empty()) why = wrap(env, argv[1], s->outputs, outputs, "output");
  if (why.empty())
    why = failure(api.Run(s->session, nullptr, s->inputNames.data(), inputs.v.data(), inputs.v.size(), s->outputNames.data(), outputs.v.size(),
                          outputs.v.data()));
  if (!why.empty()) return throwError(env, "run: " + why);
  return nullptr;
}

// session.endProfiling(): the profile's file name ('' when the session was not profiled).
napi_value EndProfiling(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Session* s = unwrap(env, info, &argc, nullptr);
  if (s == nullptr) return throwError(env, "endProfiling() expected on a Session");
  std::string file;
  if (s->session != nullptr && s->profiling) {
    OrtAllocator* allocator;
    char* name = nullptr;
    std::string why = failure(api.GetAllocatorWithDefaultOptions(&allocator));
    if (why.empty()) why = failure(api.SessionEndProfiling(s->session, allocator, &name));
    if (!why.empty()) return throwError(env, "endProfiling: " + why);
    file = name;
    failure(api.AllocatorFree(allocator, name));
    s->profiling = false;
  }
  napi_value result;
  CHECK(napi_create_string_utf8(env, file.c_str(), file.size(), &result));
  return result;
}

// session.dispose(): frees the native session now (idempotent).
napi_value Dispose(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Session* s = unwrap(env, info, &argc, nullptr);
  if (s == nullptr) return throwError(env, "dispose() expected on a Session");
  s->release();
  return nullptr;
}

// liveSessions(): native sessions not yet freed, in this process.
napi_value LiveSessions(napi_env env, napi_callback_info) {
  napi_value result;
  CHECK(napi_create_int32(env, liveSessions.load(), &result));
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  std::call_once(initOnce, initRuntime);
  napi_property_descriptor methods[] = {
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"endProfiling", nullptr, EndProfiling, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dispose", nullptr, Dispose, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls, version, live;
  CHECK(napi_define_class(env, "Session", NAPI_AUTO_LENGTH, Construct, nullptr, 3, methods, &cls));
  CHECK(napi_set_named_property(env, exports, "Session", cls));
  const char* v = OrtGetApiBase()->GetVersionString();
  CHECK(napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &version));
  CHECK(napi_set_named_property(env, exports, "version", version));
  CHECK(napi_create_function(env, "liveSessions", NAPI_AUTO_LENGTH, LiveSessions, nullptr, &live));
  CHECK(napi_set_named_property(env, exports, "liveSessions", live));
  // The domain of the operators every session registers: lowerings use them only when an addon says so (an older build does not).
  napi_value domain;
  CHECK(napi_create_string_utf8(env, kCustomDomain, NAPI_AUTO_LENGTH, &domain));
  CHECK(napi_set_named_property(env, exports, "customDomain", domain));
  addFusedUpdate(env, exports);
  if (!initFailure.empty()) {
    napi_value why;
    CHECK(napi_create_string_utf8(env, initFailure.c_str(), initFailure.size(), &why));
    CHECK(napi_set_named_property(env, exports, "unavailable", why));
  }
  return exports;
}

}  // namespace
}  // namespace rxkeras

NAPI_MODULE(NODE_GYP_MODULE_NAME, rxkeras::Init)
