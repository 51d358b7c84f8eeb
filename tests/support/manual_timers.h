// ManualTimers: a core::Timers test double over a core::ManualClock. Nothing
// runs until the test calls advance()/advance_to()/run_due()/run_next(); then
// due callbacks run one at a time in (due time, scheduling order), with the
// clock set to each callback's due time while it runs. Callbacks may schedule
// and cancel timers (including at delay 0: they run in the same advance).
// Bad requests (negative delay, overflow, empty callback) return id 0 and
// count in rejected(), like the simulator. Single-threaded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "core/runtime/clock.h"
#include "core/runtime/timers.h"

namespace hcsim::test_support {

class ManualTimers final : public core::Timers {
 public:
  // One advance runs at most this many callbacks, then throws: a timer loop
  // that never lets time move on is a bug in the code under test.
  static constexpr std::size_t kMaxCallbacksPerAdvance = 1'000'000;

  explicit ManualTimers(core::ManualClock& clock) : clock_(clock) {}
  ManualTimers(const ManualTimers&) = delete;
  ManualTimers& operator=(const ManualTimers&) = delete;

  core::TimerId schedule(core::TimeNs after_ns, std::function<void()> callback) override {
    const core::TimeNs now = clock_.now();
    if (after_ns < 0 || !callback || after_ns > std::numeric_limits<core::TimeNs>::max() - now) {
      ++rejected_;
      return 0;
    }
    const core::TimerId id = next_id_++;
    const core::TimeNs due = now + after_ns;
    queue_.emplace(Key{due, id}, std::move(callback));
    due_by_id_.emplace(id, due);
    return id;
  }

  bool cancel(core::TimerId id) override {
    auto it = due_by_id_.find(id);
    if (it == due_by_id_.end()) return false;
    queue_.erase(Key{it->second, id});
    due_by_id_.erase(it);
    return true;
  }

  // Moves the clock forward by delta_ns (>= 0), running every callback due
  // up to the new time. Returns how many ran.
  std::size_t advance(core::TimeNs delta_ns) {
    if (delta_ns < 0) throw std::invalid_argument("ManualTimers::advance: negative delta");
    return advance_to(clock_.now() + delta_ns);
  }
  // The same up to an absolute time (not before now()).
  std::size_t advance_to(core::TimeNs target_ns) {
    if (target_ns < clock_.now()) throw std::invalid_argument("ManualTimers::advance_to: time in the past");
    std::size_t ran = 0;
    while (!queue_.empty() && queue_.begin()->first.due_ns <= target_ns) {
      if (ran == kMaxCallbacksPerAdvance) {
        throw std::runtime_error("ManualTimers: too many callbacks in one advance (a timer loop?)");
      }
      run_first();
      ++ran;
    }
    if (target_ns > clock_.now()) clock_.set(target_ns);
    return ran;
  }
  // Runs what is due now (callbacks at delay 0, or ones the test left behind
  // by moving the clock directly).
  std::size_t run_due() { return advance(0); }
  // Runs the earliest pending callback, moving the clock to its time if it
  // is later; false if none is pending.
  bool run_next() {
    if (queue_.empty()) return false;
    run_first();
    return true;
  }

  std::size_t pending() const { return queue_.size(); }
  bool is_pending(core::TimerId id) const { return due_by_id_.count(id) != 0; }
  std::optional<core::TimeNs> next_due_ns() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first.due_ns;
  }
  std::uint64_t rejected() const { return rejected_; }
  core::ManualClock& clock() { return clock_; }

 private:
  struct Key {
    core::TimeNs due_ns;
    core::TimerId id;  // ids grow with every schedule: the insertion order
    friend bool operator<(const Key& a, const Key& b) {
      return a.due_ns != b.due_ns ? a.due_ns < b.due_ns : a.id < b.id;
    }
  };

  void run_first() {
    auto it = queue_.begin();
    const Key key = it->first;
    std::function<void()> callback = std::move(it->second);
    queue_.erase(it);
    due_by_id_.erase(key.id);  // so cancel() of a running timer returns false
    // A test may have moved the clock past the due time directly.
    if (key.due_ns > clock_.now()) clock_.set(key.due_ns);
    callback();
  }

  core::ManualClock& clock_;
  std::map<Key, std::function<void()>> queue_;
  std::map<core::TimerId, core::TimeNs> due_by_id_;
  core::TimerId next_id_ = 1;
  std::uint64_t rejected_ = 0;
};

}  // namespace hcsim::test_support
