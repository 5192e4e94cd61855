// The binding of the AVX2 fused updates (fused-update.cc): the same
// arguments as native/fused-update's WebAssembly kernels, with the memory
// their byte offsets are into first (a Uint8Array over the whole memory).
// Compiled without AVX2: it checks the CPU before it offers the kernels.
#include "fused-update.h"

#include <string>

namespace rxkeras {
namespace {

constexpr size_t kMaxArgs = 22;

struct Call {
  napi_env env;
  napi_value argv[kMaxArgs];
  size_t argc = kMaxArgs;
  uint8_t* memory = nullptr;
  size_t bytes = 0;
  size_t n = 0;
  std::string error;

  Call(napi_env e, napi_callback_info info, size_t expected) : env(e) {
    napi_typedarray_type type;
    void* data = nullptr;
    napi_value buffer;
    size_t offset;
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != expected ||
        napi_get_typedarray_info(env, argv[0], &type, &bytes, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array)
      error = "(memory: Uint8Array, ...the kernel's " + std::to_string(expected - 1) + " arguments) expected";
    memory = static_cast<uint8_t*>(data);
  }

  double number(size_t i) {
    double x = 0;
    if (error.empty() && napi_get_value_double(env, argv[i], &x) != napi_ok) error = "argument " + std::to_string(i) + " is not a number";
    return x;
  }

  /** Argument `i` as a count of floats. */
  size_t count(size_t i) {
    double x = number(i);
    if (error.empty() && !(x >= 0 && x <= 1e12 && x == static_cast<double>(static_cast<size_t>(x)))) error = "argument " + std::to_string(i) + " is not a count of floats";
    return error.empty() ? static_cast<size_t>(x) : 0;
  }

  /** The region of `n` floats (padded to four) at the byte offset of argument `i`; checked against the memory. */
  float* floats(size_t i) {
    double at = number(i);
    size_t padded = (n + 3) / 4 * 4 * sizeof(float);
    if (error.empty() && (at < 0 || at + padded > bytes || static_cast<size_t>(at) % 4 != 0))
      error = "argument " + std::to_string(i) + ": " + std::to_string(padded) + " bytes at " + std::to_string(at) + " do not fit the memory of " + std::to_string(bytes);
    return error.empty() ? reinterpret_cast<float*>(memory + static_cast<size_t>(at)) : nullptr;
  }

  /** `floats(i)`, or nullptr where `used` is false (an offset the kernel does not read). */
  float* optional(size_t i, bool used) { return used ? floats(i) : nullptr; }

  napi_value done() {
    if (!error.empty()) napi_throw_range_error(env, nullptr, ("fusedUpdate: " + error).c_str());
    return nullptr;
  }
};

napi_value Sgd(napi_env env, napi_callback_info info) {
  Call c(env, info, 13);
  SgdArgs a{};
  c.n = c.count(7);
  a.n = c.n;
  a.useMomentum = c.number(10) != 0;
  a.nesterov = c.number(11) != 0;
  a.twoGrads = c.number(12) != 0;
  a.p = c.floats(1);
  a.g = c.floats(2);
  a.g2 = c.optional(3, a.twoGrads);
  a.mom = c.optional(4, a.useMomentum);
  a.pOut = c.floats(5);
  a.momOut = c.optional(6, a.useMomentum);
  a.nlr = static_cast<float>(c.number(8));
  a.d = static_cast<float>(c.number(9));
  if (c.error.empty()) sgdAvx2(a);
  return c.done();
}

napi_value Adam(napi_env env, napi_callback_info info) {
  Call c(env, info, 21);
  AdamArgs a{};
  c.n = c.count(11);
  a.n = c.n;
  a.amsgrad = c.number(19) != 0;
  a.twoGrads = c.number(20) != 0;
  a.p = c.floats(1);
  a.g = c.floats(2);
  a.g2 = c.optional(3, a.twoGrads);
  a.m = c.floats(4);
  a.v = c.floats(5);
  a.vh = c.optional(6, a.amsgrad);
  a.pOut = c.floats(7);
  a.mOut = c.floats(8);
  a.vOut = c.floats(9);
  a.vhOut = c.optional(10, a.amsgrad);
  float* scalars[] = {&a.b1, &a.c1, &a.b2, &a.c2, &a.alpha, &a.eps, &a.nlr};
  for (size_t k = 0; k < 7; k++) *scalars[k] = static_cast<float>(c.number(12 + k));
  if (c.error.empty()) adamAvx2(a);
  return c.done();
}

napi_value Rmsprop(napi_env env, napi_callback_info info) {
  Call c(env, info, 21);
  RmspropArgs a{};
  c.n = c.count(11);
  a.n = c.n;
  a.centered = c.number(18) != 0;
  a.useMomentum = c.number(19) != 0;
  a.twoGrads = c.number(20) != 0;
  a.p = c.floats(1);
  a.g = c.floats(2);
  a.g2 = c.optional(3, a.twoGrads);
  a.rms = c.floats(4);
  a.mg = c.optional(5, a.centered);
  a.mom = c.optional(6, a.useMomentum);
  a.pOut = c.floats(7);
  a.rmsOut = c.floats(8);
  a.mgOut = c.optional(9, a.centered);
  a.momOut = c.optional(10, a.useMomentum);
  float* scalars[] = {&a.rho, &a.c, &a.eps, &a.lr, &a.nlr, &a.d};
  for (size_t k = 0; k < 6; k++) *scalars[k] = static_cast<float>(c.number(12 + k));
  if (c.error.empty()) rmspropAvx2(a);
  return c.done();
}

}  // namespace

void addFusedUpdate(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2")) return;
  napi_value kernels, f;
  napi_create_object(env, &kernels);
  const std::pair<const char*, napi_callback> fns[] = {{"sgd", Sgd}, {"adam", Adam}, {"rmsprop", Rmsprop}};
  for (const auto& [name, fn] : fns) {
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
    napi_set_named_property(env, kernels, name, f);
  }
  napi_set_named_property(env, exports, "fusedUpdate", kernels);
}

}  // namespace rxkeras
