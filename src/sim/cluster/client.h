// A simulated client: issues GET/SET/DEL for keys drawn from the scenario's
// popularity, open loop (Poisson arrivals) or closed loop (a fixed number of
// outstanding requests), routes by its view of the ring (smart client) or
// through any node (proxy mode), follows a GET miss with a SET after the
// backend latency (cache-aside), and gives up on requests after the timeout.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/runtime/random.h"
#include "sim/cluster/context.h"
#include "sim/workload/key_chooser.h"

namespace hcsim::sim {

class Client {
 public:
  // number: 1-based (names its random stream and its endpoint "client<n>").
  Client(ClusterContext& ctx, std::uint32_t number);
  void set_endpoint(EndpointId id) { endpoint_ = id; }
  EndpointId endpoint() const { return endpoint_; }

  // Closed loop: the pause after an error reply or a timeout.
  static constexpr TimeNs kRetryBackoffNs = 1'000'000;

  void start();  // schedules the first requests at the workload's start time
  void on_message(const Message& m);
  std::size_t outstanding() const { return outstanding_; }

 private:
  struct Pending {
    TimeNs start_ns = 0;
    std::uint64_t key = 0;
    std::uint32_t generation = 0;
    std::uint16_t op = 0;
    bool live = false;
    bool backfill = false;  // a cache-aside SET: not one of the closed loop's requests
  };
  void arrival();                 // open loop: one request, then the next arrival
  void issue_random();            // a request from the op mix
  void issue(std::uint16_t op, std::uint64_t key, bool backfill);
  void finished(const Pending& p, bool failed);  // closed loop: the next request after think time
  void drop_finished_deadlines();   // pops deadlines of requests already answered
  void on_deadline();
  void arm_deadline();

  ClusterContext& ctx_;
  std::uint32_t number_;
  EndpointId endpoint_ = 0;
  core::SeededRandom random_;
  KeyChooser chooser_;
  double mean_gap_ns_ = 0.0;        // open loop: mean time between arrivals
  std::vector<Pending> pending_;
  std::vector<std::uint32_t> free_;
  std::size_t outstanding_ = 0;
  // Requests in issue order with their deadline: one timer serves them all.
  std::deque<std::pair<TimeNs, std::uint64_t>> deadlines_;
  bool deadline_armed_ = false;
  std::string key_buffer_;
};

}  // namespace hcsim::sim
