// EventBus: in-process publish/subscribe for cluster and membership events.
// Every subscriber has its own bounded FIFO queue; publish() only enqueues and
// delivery runs later from an injected Timers callback (at most one pending
// timer per subscriber), so delivery is deterministic, in publish order per
// subscriber, and never re-entrant inside publish(). Handlers may publish,
// subscribe and unsubscribe from inside a delivery.
//
// Single-threaded: the owner's thread calls every method and runs the Timers
// callbacks. The Clock and Timers must outlive the bus; the bus cancels its
// pending timers when destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/cluster/events.h"
#include "core/runtime/clock.h"
#include "core/runtime/timers.h"
#include "core/util/status.h"

namespace hcsim::core::cluster {

inline constexpr std::size_t kMaxEventQueueCapacity = 1u << 20;
inline constexpr std::size_t kMaxSubscribers = 4096;

struct EventBusOptions {
  // Per-subscriber queue bound; an event that finds the queue full is dropped
  // for that subscriber. Clamped to [0, kMaxEventQueueCapacity] (0 drops all).
  std::size_t queue_capacity = 100;
  // Time from publish to delivery; negative values count as 0.
  TimeNs delivery_delay_ns = 0;
};

struct EventBusMetrics {
  std::uint64_t published = 0;  // accepted publish() calls, with or without subscribers
  std::uint64_t delivered = 0;  // handler calls
  std::uint64_t dropped = 0;    // per subscriber: queue full (or Timers refused the delivery)
  std::uint64_t discarded = 0;  // queued, then thrown away by unsubscribe() or close()
  std::size_t active_subscribers = 0;
  std::size_t queued = 0;                 // waiting for delivery now, over all subscribers
  TimeNs last_event_time_ns = 0;          // clock time of the last publish; 0 before any
  double delivery_latency_mean_ns = 0.0;  // publish to handler call; 0 before any delivery
  TimeNs delivery_latency_max_ns = 0;
};

struct SubscriberMetrics {
  std::size_t queued = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;
};

// Event needs members `type` (of Type) and `timestamp_ns`; Type needs a
// free function is_valid(Type). Instantiated (in event_bus.cc) for the two
// aliases below only.
template <class Event, class Type>
class EventBus {
 public:
  using Handler = std::function<void(const Event&)>;

  EventBus(const Clock& clock, Timers& timers, EventBusOptions options = {});
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Calls `handler` for every later event whose type is in `types`; empty
  // `types` means every type. Returns 0 (and subscribes nothing) for an empty
  // handler, a type outside the enum, or when kMaxSubscribers are active.
  SubscriptionId subscribe(std::vector<Type> types, Handler handler);
  // Stops all delivery to the subscriber at once, including events already
  // queued for it (counted as discarded). False if the id is unknown.
  bool unsubscribe(SubscriptionId id);

  // Counts the event, stamps timestamp_ns with now() if it is 0, and queues a
  // copy for every matching subscriber. Error (nothing counted) for a type
  // outside the enum, or if Timers refused a delivery (that subscriber's copy
  // counts as dropped; the others are queued).
  Status publish(Event event);

  // Drops every subscriber and every pending delivery (counted as discarded).
  // The bus stays usable: later subscriptions and publishes work as on a new
  // bus; the counters are kept.
  void close();
  // Like close(), except that every current subscriber first receives what is
  // already queued for it and is dropped after that; it receives nothing
  // published after this call. Subscribers made later are not affected.
  void drain_and_close();

  EventBusMetrics metrics() const;
  std::optional<SubscriberMetrics> subscriber_metrics(SubscriptionId id) const;
  const EventBusOptions& options() const { return options_; }

 private:
  struct Pending {
    Event event;
    TimeNs published_ns;
    TimeNs due_ns;
  };
  struct Subscriber {
    SubscriptionId id = 0;
    std::vector<Type> types;  // sorted, unique; empty = all
    Handler handler;
    std::deque<Pending> queue;
    TimerId timer = 0;
    bool draining = false;  // inside its delivery callback
    bool closing = false;   // drain_and_close(): takes no new events
    bool removed = false;   // unsubscribed or closed
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;
  };

  bool wants(const Subscriber& s, Type type) const;
  // Schedules the delivery timer for the queue head if none is pending;
  // false (queue dropped) if Timers refuses.
  bool ensure_timer(Subscriber& s);
  void deliver_due(SubscriptionId id);
  void remove(Subscriber& s);

  const Clock& clock_;
  Timers& timers_;
  EventBusOptions options_;
  // Ordered by id (= subscription order), so delivery order is deterministic.
  // shared_ptr: a handler may unsubscribe its own subscriber while it runs.
  std::map<SubscriptionId, std::shared_ptr<Subscriber>> subscribers_;
  SubscriptionId next_id_ = 1;
  std::size_t active_ = 0;  // subscribers not closing

  std::uint64_t published_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t discarded_ = 0;
  std::size_t queued_ = 0;
  TimeNs last_event_time_ns_ = 0;
  double latency_sum_ns_ = 0.0;
  TimeNs latency_max_ns_ = 0;
};

using ClusterEventBus = EventBus<ClusterEvent, ClusterEventType>;
using MembershipEventBus = EventBus<MembershipEvent, MembershipEventType>;

extern template class EventBus<ClusterEvent, ClusterEventType>;
extern template class EventBus<MembershipEvent, MembershipEventType>;

}  // namespace hcsim::core::cluster
