// Memory that the processes of one host share, for their all-reduce (see
// src/parallel/host-memory.ts): a shared WebAssembly memory's pages are
// replaced by a MAP_SHARED mapping of one file, so every process's memory
// shows the same bytes (and the SIMD kernels that run over wasm memories run
// over them unchanged); futexes on those pages wake waiters in any process,
// where Atomics.notify wakes only this process's.
#include "host_memory.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>

namespace rxkeras {
namespace {

napi_value fail(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("rxkeras host memory: " + message).c_str());
  return nullptr;
}

// The bytes of a typed array (any view, also on a SharedArrayBuffer).
bool viewBytes(napi_env env, napi_value view, uint8_t** data, size_t* bytes) {
  napi_typedarray_type type;
  size_t length;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, view, &type, &length, &raw, &buffer, &offset) != napi_ok) return false;
  size_t unit = type == napi_int8_array || type == napi_uint8_array || type == napi_uint8_clamped_array ? 1
                : type == napi_int16_array || type == napi_uint16_array                               ? 2
                : type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8
                                                                                                      : 4;
  *data = static_cast<uint8_t*>(raw);
  *bytes = length * unit;
  return true;
}

// mapShared(view, path, offset, create): the pages under `view` (page-aligned, whole pages) now
// show `path` from `offset` on, shared with every process that maps it. With `create`, makes
// the file (it must not exist) and allocates offset + the view's bytes.
napi_value MapShared(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  uint8_t* data;
  size_t bytes;
  if (argc < 4 || !viewBytes(env, argv[0], &data, &bytes)) return fail(env, "mapShared(view, path, offset, create) expects a typed array first");
  char path[4096];
  size_t pathLength;
  if (napi_get_value_string_utf8(env, argv[1], path, sizeof path, &pathLength) != napi_ok) return fail(env, "path must be a string");
  int64_t offset;
  bool create;
  napi_get_value_int64(env, argv[2], &offset);
  napi_get_value_bool(env, argv[3], &create);
  const long page = sysconf(_SC_PAGESIZE);
  if (reinterpret_cast<uintptr_t>(data) % page != 0 || bytes % page != 0 || offset % page != 0 || bytes == 0)
    return fail(env, "the view, its length and the offset must be whole pages");
  int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
  if (fd < 0) return fail(env, std::string("cannot open ") + path + ": " + strerror(errno));
  // Allocated now, not sparse: a tmpfs too small for it fails here, where touching a page past its end later would be SIGBUS.
  int e = create ? posix_fallocate(fd, 0, offset + bytes) : 0;
  if (e != 0) {
    close(fd);
    return fail(env, std::string("cannot allocate ") + std::to_string(offset + bytes) + " bytes for " + path + ": " + strerror(e));
  }
  void* mapped = mmap(data, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, offset);
  e = errno;
  close(fd);
  if (mapped == MAP_FAILED) return fail(env, std::string("cannot map ") + path + ": " + strerror(e));
  return nullptr;
}

struct Wait {
  int32_t* word = nullptr;
  int32_t expected = 0;
  int64_t timeoutMs = 0;
  int result = 0;  // 0 woken, 1 timed out, 2 the word had changed already
  napi_ref view = nullptr;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
};

void RunWait(napi_env, void* data) {
  auto* w = static_cast<Wait*>(data);
  timespec timeout{static_cast<time_t>(w->timeoutMs / 1000), static_cast<long>((w->timeoutMs % 1000) * 1000000)};
  // Not FUTEX_PRIVATE_FLAG: the word is in a shared file mapping, keyed by its page, so other processes wake it.
  long r = syscall(SYS_futex, w->word, FUTEX_WAIT, w->expected, &timeout, nullptr, 0);
  w->result = r == 0 ? 0 : errno == ETIMEDOUT ? 1 : errno == EAGAIN ? 2 : 0;
}

void WaitDone(napi_env env, napi_status, void* data) {
  auto* w = static_cast<Wait*>(data);
  napi_value result;
  napi_create_int32(env, w->result, &result);
  napi_resolve_deferred(env, w->deferred, result);
  napi_delete_reference(env, w->view);
  napi_delete_async_work(env, w->work);
  delete w;
}

// The word at argv[1] of the Int32Array argv[0] (of a call with at least `argc` arguments), or
// null with a JS exception thrown.
int32_t* wordArg(napi_env env, size_t argc, size_t expected, napi_value* argv, const char* usage) {
  uint8_t* data;
  size_t bytes;
  uint32_t index;
  if (argc < expected || !viewBytes(env, argv[0], &data, &bytes) || napi_get_value_uint32(env, argv[1], &index) != napi_ok) {
    fail(env, std::string(usage) + " expects an Int32Array and an index");
    return nullptr;
  }
  if ((static_cast<size_t>(index) + 1) * 4 > bytes) {
    fail(env, std::string(usage) + ": index out of range");
    return nullptr;
  }
  return reinterpret_cast<int32_t*>(data) + index;
}

// The arguments (view, index, expected, timeoutMs) of a wait, into `w` (and the view into `view`);
// false with a JS exception thrown.
bool waitArgs(napi_env env, napi_callback_info info, const char* usage, Wait* w, napi_value* view) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  w->word = wordArg(env, argc, 4, argv, usage);
  if (!w->word) return false;
  int64_t timeoutMs;
  napi_get_value_int32(env, argv[2], &w->expected);
  napi_get_value_int64(env, argv[3], &timeoutMs);
  w->timeoutMs = timeoutMs < 0 ? 0 : timeoutMs;
  *view = argv[0];
  return true;
}

// futexWait(view: Int32Array, index, expected, timeoutMs): Promise<0 | 1 | 2>, waiting on a thread of libuv's pool.
napi_value FutexWait(napi_env env, napi_callback_info info) {
  auto* w = new Wait{};
  napi_value view, promise, name;
  if (!waitArgs(env, info, "futexWait(view, index, expected, timeoutMs)", w, &view)) {
    delete w;
    return nullptr;
  }
  napi_create_reference(env, view, 1, &w->view);
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "rxkeras.futexWait", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, RunWait, WaitDone, w, &w->work);
  napi_queue_async_work(env, w->work);
  return promise;
}

// futexWaitSync(view: Int32Array, index, expected, timeoutMs): 0 | 1 | 2 as futexWait, blocking
// this thread: for short waits, where a pool thread's round trip would cost more than the wait.
napi_value FutexWaitSync(napi_env env, napi_callback_info info) {
  Wait w{};
  napi_value view, result;
  if (!waitArgs(env, info, "futexWaitSync(view, index, expected, timeoutMs)", &w, &view)) return nullptr;
  RunWait(env, &w);
  napi_create_int32(env, w.result, &result);
  return result;
}

// futexWake(view: Int32Array, index): wakes every waiter on that word, in any process.
napi_value FutexWake(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t* word = wordArg(env, argc, 2, argv, "futexWake(view, index)");
  if (word) syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  return nullptr;
}

}  // namespace

napi_status defineHostMemory(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"mapShared", nullptr, MapShared, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"futexWait", nullptr, FutexWait, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"futexWaitSync", nullptr, FutexWaitSync, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"futexWake", nullptr, FutexWake, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, 4, functions);
}

}  // namespace rxkeras
