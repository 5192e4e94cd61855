// Liveness board: each member of a group posts a heartbeat counter and, when it
// leaves, a mark, in the same store the group met through. After an operation
// fails, the survivors read the board to name the member that was lost (Gloo's
// own errors name a socket address, or only a timeout).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rxkeras {

struct StoreAddress {
  std::string kind;  // "redis" or "file"
  std::string host;  // redis
  int port = 0;      // redis
  std::string path;  // file: a directory every member can reach
};

struct Probe {
  std::vector<int> stopped;  // heartbeat stopped without a leave mark (killed, hung, unreachable)
  std::vector<int> left;     // closed the group or exited
};

class Liveness {
 public:
  static std::unique_ptr<Liveness> open(const StoreAddress& store, const std::string& prefix, int rank, int size);
  virtual ~Liveness();

  // Starts posting this member's heartbeat every `interval`.
  void start(std::chrono::milliseconds interval);
  // Stops the heartbeat and posts the leave mark; idempotent.
  void leave();
  // Whether this member's heartbeat is already in the store (its rank taken by another process, or the run id used before).
  bool posted();
  // Ranks whose heartbeat has not appeared yet.
  std::vector<int> absent();
  // Reads every other member's heartbeat twice, `window` apart.
  Probe probe(std::chrono::milliseconds window);

 protected:
  Liveness(std::string prefix, int rank, int size);
  virtual void put(const std::string& key, const std::string& value) = 0;
  virtual std::optional<std::string> get(const std::string& key) = 0;

 private:
  std::string key(const char* what, int rank) const;
  void stopHeartbeat();

  const std::string prefix_;
  const int rank_;
  const int size_;
  std::mutex io_;  // the store connection is not thread-safe
  std::thread heartbeat_;
  std::mutex wake_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool left_ = false;
};

}  // namespace rxkeras
