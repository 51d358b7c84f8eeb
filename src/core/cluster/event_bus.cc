#include "core/cluster/event_bus.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace hcsim::core::cluster {

template <class Event, class Type>
EventBus<Event, Type>::EventBus(const Clock& clock, Timers& timers, EventBusOptions options)
    : clock_(clock), timers_(timers), options_(options) {
  options_.queue_capacity = std::min(options_.queue_capacity, kMaxEventQueueCapacity);
  options_.delivery_delay_ns = std::max<TimeNs>(options_.delivery_delay_ns, 0);
}

template <class Event, class Type>
EventBus<Event, Type>::~EventBus() {
  for (auto& [id, s] : subscribers_) {
    if (s->timer != 0) timers_.cancel(s->timer);
  }
}

template <class Event, class Type>
SubscriptionId EventBus<Event, Type>::subscribe(std::vector<Type> types, Handler handler) {
  if (!handler) return 0;
  for (Type t : types) {
    if (!is_valid(t)) return 0;
  }
  if (subscribers_.size() >= kMaxSubscribers) return 0;
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  auto s = std::make_shared<Subscriber>();
  s->id = next_id_++;
  s->types = std::move(types);
  s->handler = std::move(handler);
  const SubscriptionId id = s->id;
  subscribers_.emplace(id, std::move(s));
  return id;
}

template <class Event, class Type>
bool EventBus<Event, Type>::unsubscribe(SubscriptionId id) {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return false;
  remove(*it->second);
  subscribers_.erase(it);
  return true;
}

template <class Event, class Type>
bool EventBus<Event, Type>::wants(const Subscriber& s, Type type) const {
  return s.types.empty() || std::binary_search(s.types.begin(), s.types.end(), type);
}

template <class Event, class Type>
Status EventBus<Event, Type>::publish(Event event) {
  if (!is_valid(event.type)) {
    return Status::error(fmt::format("unknown event type {}", static_cast<int>(event.type)));
  }
  const TimeNs now = clock_.now();
  if (event.timestamp_ns == 0) event.timestamp_ns = now;
  ++published_;
  last_event_time_ns_ = now;
  const TimeNs delay = options_.delivery_delay_ns;
  const TimeNs due =
      delay > std::numeric_limits<TimeNs>::max() - now ? std::numeric_limits<TimeNs>::max() : now + delay;
  bool refused = false;
  // Timers::schedule never runs a callback inline, so no handler runs here
  // and the map cannot change under this loop.
  for (auto& [id, s] : subscribers_) {
    if (s->closing || !wants(*s, event.type)) continue;
    if (s->queue.size() >= options_.queue_capacity) {
      ++s->dropped;
      ++dropped_;
      continue;
    }
    s->queue.push_back(Pending{event, now, due});
    ++queued_;
    // While its delivery runs, the subscriber reschedules itself at the end.
    if (!s->draining && !ensure_timer(*s)) refused = true;
  }
  if (refused) return Status::error("event bus: the timers refused a delivery; the event was dropped");
  return Status::ok();
}

template <class Event, class Type>
bool EventBus<Event, Type>::ensure_timer(Subscriber& s) {
  if (s.timer != 0 || s.queue.empty()) return true;
  const TimeNs after = std::max<TimeNs>(0, s.queue.front().due_ns - clock_.now());
  const TimerId timer = timers_.schedule(after, [this, id = s.id] { deliver_due(id); });
  if (timer == 0) {
    const std::size_t n = s.queue.size();
    s.dropped += n;
    dropped_ += n;
    queued_ -= n;
    s.queue.clear();
    return false;
  }
  s.timer = timer;
  return true;
}

template <class Event, class Type>
void EventBus<Event, Type>::deliver_due(SubscriptionId id) {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return;
  // Keeps the subscriber (and the running handler) alive if a handler
  // unsubscribes it or closes the bus.
  const std::shared_ptr<Subscriber> s = it->second;
  s->timer = 0;
  s->draining = true;
  // Only what was queued when this callback started: events that handlers
  // publish meanwhile go to the next callback, so a handler that feeds
  // itself cannot keep this one running forever.
  std::size_t budget = s->queue.size();
  while (budget > 0 && !s->removed && !s->queue.empty()) {
    const TimeNs now = clock_.now();
    if (s->queue.front().due_ns > now) break;
    Pending p = std::move(s->queue.front());
    s->queue.pop_front();
    --queued_;
    --budget;
    const TimeNs latency = now - p.published_ns;
    latency_sum_ns_ += static_cast<double>(latency);
    latency_max_ns_ = std::max(latency_max_ns_, latency);
    ++s->delivered;
    ++delivered_;
    s->handler(p.event);
  }
  s->draining = false;
  if (s->removed) return;
  if (s->queue.empty()) {
    if (s->closing) {
      remove(*s);
      subscribers_.erase(id);
    }
    return;
  }
  ensure_timer(*s);
}

template <class Event, class Type>
void EventBus<Event, Type>::remove(Subscriber& s) {
  s.removed = true;
  if (s.timer != 0) timers_.cancel(s.timer);
  s.timer = 0;
  discarded_ += s.queue.size();
  queued_ -= s.queue.size();
  s.queue.clear();
}

template <class Event, class Type>
void EventBus<Event, Type>::close() {
  // Moved out first: destroying a handler must not touch the live map.
  auto subscribers = std::move(subscribers_);
  subscribers_.clear();
  for (auto& [id, s] : subscribers) remove(*s);
}

template <class Event, class Type>
void EventBus<Event, Type>::drain_and_close() {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    Subscriber& s = *it->second;
    s.closing = true;
    if (s.queue.empty() && !s.draining) {
      remove(s);
      it = subscribers_.erase(it);
      continue;
    }
    if (!s.draining) ensure_timer(s);
    ++it;
  }
}

template <class Event, class Type>
EventBusMetrics EventBus<Event, Type>::metrics() const {
  EventBusMetrics m;
  m.published = published_;
  m.delivered = delivered_;
  m.dropped = dropped_;
  m.discarded = discarded_;
  m.active_subscribers = static_cast<std::size_t>(std::count_if(
      subscribers_.begin(), subscribers_.end(), [](const auto& entry) { return !entry.second->closing; }));
  m.queued = queued_;
  m.last_event_time_ns = last_event_time_ns_;
  m.delivery_latency_mean_ns = delivered_ == 0 ? 0.0 : latency_sum_ns_ / static_cast<double>(delivered_);
  m.delivery_latency_max_ns = latency_max_ns_;
  return m;
}

template <class Event, class Type>
std::optional<SubscriberMetrics> EventBus<Event, Type>::subscriber_metrics(SubscriptionId id) const {
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return std::nullopt;
  const Subscriber& s = *it->second;
  return SubscriberMetrics{s.queue.size(), s.delivered, s.dropped};
}

template class EventBus<ClusterEvent, ClusterEventType>;
template class EventBus<MembershipEvent, MembershipEventType>;

}  // namespace hcsim::core::cluster
