#include "liveness.h"

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rxkeras {
namespace {

class RedisLiveness : public Liveness {
 public:
  RedisLiveness(const StoreAddress& store, std::string prefix, int rank, int size)
      : Liveness(std::move(prefix), rank, size) {
    struct timeval timeout = {2, 0};
    redis_ = redisConnectWithTimeout(store.host.c_str(), store.port, timeout);
    if (redis_ == nullptr || redis_->err != 0) {
      std::string why = redis_ ? redis_->errstr : "out of memory";
      if (redis_) redisFree(redis_);
      throw std::runtime_error("cannot reach the Redis store at " + store.host + ":" + std::to_string(store.port) + ": " + why);
    }
    // A store that stops answering must not hang the heartbeat or a probe.
    redisSetTimeout(redis_, timeout);
  }
  ~RedisLiveness() override { redisFree(redis_); }

 protected:
  void put(const std::string& key, const std::string& value) override {
    auto* reply = static_cast<redisReply*>(
        redisCommand(redis_, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
    if (reply) freeReplyObject(reply);
  }
  std::optional<std::string> get(const std::string& key) override {
    auto* reply = static_cast<redisReply*>(redisCommand(redis_, "GET %b", key.data(), key.size()));
    if (reply == nullptr) throw std::runtime_error(std::string("the Redis store stopped answering: ") + redis_->errstr);
    std::optional<std::string> value;
    if (reply->type == REDIS_REPLY_STRING) value = std::string(reply->str, reply->len);
    freeReplyObject(reply);
    return value;
  }

 private:
  redisContext* redis_ = nullptr;
};

class FileLiveness : public Liveness {
 public:
  FileLiveness(const StoreAddress& store, std::string prefix, int rank, int size)
      : Liveness(std::move(prefix), rank, size), dir_(store.path) {}

 protected:
  // Written to a temporary file and renamed, so a reader never sees half a value.
  void put(const std::string& key, const std::string& value) override {
    const std::string path = dir_ + "/" + key;
    const std::string tmp = dir_ + "/." + key + "." + std::to_string(getpid());
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << value;
      if (!out) return;
    }
    ::rename(tmp.c_str(), path.c_str());
  }
  std::optional<std::string> get(const std::string& key) override {
    std::ifstream in(dir_ + "/" + key);
    if (!in) return std::nullopt;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  const std::string dir_;
};

}  // namespace

std::unique_ptr<Liveness> Liveness::open(const StoreAddress& store, const std::string& prefix, int rank, int size) {
  if (store.kind == "redis") return std::make_unique<RedisLiveness>(store, prefix, rank, size);
  return std::make_unique<FileLiveness>(store, prefix, rank, size);
}

Liveness::Liveness(std::string prefix, int rank, int size) : prefix_(std::move(prefix)), rank_(rank), size_(size) {}

Liveness::~Liveness() { stopHeartbeat(); }

std::string Liveness::key(const char* what, int rank) const {
  return prefix_ + "." + what + "." + std::to_string(rank);
}

void Liveness::start(std::chrono::milliseconds interval) {
  {
    // The first beat is posted before start returns: a member that leaves at once has still joined.
    std::lock_guard<std::mutex> io(io_);
    put(key("alive", rank_), "1");
  }
  heartbeat_ = std::thread([this, interval] {
    unsigned long long beat = 1;
    std::unique_lock<std::mutex> lock(wake_);
    while (!stopping_) {
      lock.unlock();
      {
        std::lock_guard<std::mutex> io(io_);
        put(key("alive", rank_), std::to_string(++beat));
      }
      lock.lock();
      cv_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void Liveness::stopHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(wake_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void Liveness::leave() {
  stopHeartbeat();
  std::lock_guard<std::mutex> io(io_);
  if (left_) return;
  left_ = true;
  put(key("left", rank_), "1");
}

bool Liveness::posted() {
  std::lock_guard<std::mutex> io(io_);
  return get(key("alive", rank_)).has_value();
}

std::vector<int> Liveness::absent() {
  std::vector<int> ranks;
  std::lock_guard<std::mutex> io(io_);
  for (int r = 0; r < size_; r++) {
    if (r != rank_ && !get(key("alive", r))) ranks.push_back(r);
  }
  return ranks;
}

Probe Liveness::probe(std::chrono::milliseconds window) {
  std::vector<std::optional<std::string>> before(size_);
  {
    std::lock_guard<std::mutex> io(io_);
    for (int r = 0; r < size_; r++) before[r] = get(key("alive", r));
  }
  std::this_thread::sleep_for(window);
  Probe result;
  std::lock_guard<std::mutex> io(io_);
  for (int r = 0; r < size_; r++) {
    if (r == rank_) continue;
    if (get(key("left", r))) {
      result.left.push_back(r);
    } else if (get(key("alive", r)) == before[r]) {
      result.stopped.push_back(r);
    }
  }
  return result;
}

}  // namespace rxkeras
