// One virtual cache node: a real core::BasicStore (memory pool, eviction
// policy, cuckoo filter) behind a service model of `workers` servers and a
// bounded FIFO queue, so that load causes queueing and overload causes
// "busy" replies and client timeouts. In proxy mode it forwards requests for
// keys it does not own. Crash loses the data; restart comes back empty.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/random.h"
#include "core/store/basic_store.h"
#include "sim/cluster/context.h"

namespace hcsim::sim {

class NodeHost {
 public:
  enum class State : std::uint8_t { kMember, kCrashed, kLeft };
  using ControlFn = std::function<void(NodeHost&, const Message&)>;
  // Proxy routing by this node's own view (its coordinator's ring) instead
  // of the run's shared ring: the owner's endpoint, false if none.
  using RouteFn = std::function<bool(std::string_view key, EndpointId& owner)>;

  // number: 1-based creation order (names its random streams).
  NodeHost(ClusterContext& ctx, std::string name, std::uint32_t number, ControlFn on_control);
  core::Status init();  // creates the store; call once, before any message

  void on_message(const Message& m);
  void crash();    // down, queue and store dropped
  void restart();  // up again, empty
  void leave();    // no longer a member (routing already changed); keeps serving what arrives
  void set_router(RouteFn router) { router_ = std::move(router); }

  static constexpr TimeNs kExpiryPeriodNs = 100'000'000;  // as Redis: 10 sweeps a second
  static constexpr int kExpiryCallsPerTick = 64;           // active_expire() calls at most per sweep

  const std::string& name() const { return name_; }
  std::uint32_t number() const { return number_; }
  EndpointId endpoint() const { return endpoint_; }
  void set_endpoint(EndpointId id) { endpoint_ = id; }
  State state() const { return state_; }
  core::BasicStore& store() { return *store_; }
  const core::BasicStore& store() const { return *store_; }

  std::uint64_t served_interval = 0;  // requests completed in the current interval
  std::uint64_t served_total = 0;
  std::size_t queue_length() const { return queue_.size(); }

 private:
  void admit(const Message& m);
  void expire_tick();  // the store's active expiry, every kExpiryPeriodNs while TTLs are in use
  void start_service(const Message& m);
  void complete(std::uint32_t slot, std::uint64_t epoch);
  Message execute(const Message& m);
  Message reply_to(const Message& m) const;  // an empty reply (no flags but kForwarded)

  ClusterContext& ctx_;
  std::string name_;
  std::uint32_t number_;
  ControlFn on_control_;
  RouteFn router_;  // empty: the shared ring
  EndpointId endpoint_ = 0;
  State state_ = State::kMember;
  core::SeededRandom service_random_;
  core::SeededRandom store_random_;
  std::unique_ptr<core::BasicStore> store_;
  std::deque<Message> queue_;
  std::vector<Message> in_service_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t busy_ = 0;
  std::uint64_t epoch_ = 0;  // bumps on crash: completions of an older epoch are void
  std::string key_buffer_;
};

}  // namespace hcsim::sim
