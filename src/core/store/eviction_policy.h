// Eviction policies behind one small interface, chosen by name: session (the
// seed's SessionEviction, O(1) per access), lru (exact), sampled-lru (Redis
// style), sieve, s3fifo and noeviction. A policy tracks entries by dense
// EntryId and never owns entry memory; the store asks it for a victim, removes
// that entry, and reports the removal back. Randomness only from the seam.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/runtime/clock.h"
#include "core/runtime/random.h"
#include "core/util/result.h"

namespace hcsim::core {

// Dense id of a live store entry: ids are reused after removal, and stay
// below the number of entries the store has ever held at once (plus one).
using EntryId = std::uint32_t;

enum class RemoveReason : std::uint8_t { kDeleted, kExpired, kEvicted, kOverwrite };

struct EvictionConfig {
  std::string policy = "lru";  // session | lru | sampled-lru | sieve | s3fifo | noeviction
  std::uint32_t sample_size = 5;                    // sampled-lru: 1..64
  TimeNs session_ttl_ns = 30LL * 60 * 1'000'000'000;  // session: evict first past this age
  TimeNs idle_timeout_ns = 10LL * 60 * 1'000'000'000; // session: then past this idle time
  TimeNs grace_period_ns = 2LL * 60 * 1'000'000'000;  // session: then the oldest past this age
  double small_queue_ratio = 0.10;                  // s3fifo: share of entries in the small FIFO, (0,1)
};

// Every valid policy name, in the order help texts list them.
const std::vector<std::string_view>& eviction_policy_names();

// Checks a config without building anything; the message names the rule.
Status validate(const EvictionConfig& config);

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual std::string_view name() const = 0;

  // A new entry. `id` is not currently tracked. key_hash is a 64-bit hash of
  // the key (s3fifo's ghost queue remembers evicted keys by it).
  virtual void on_insert(EntryId id, std::uint64_t key_hash, TimeNs now) = 0;
  // A read hit on a tracked entry.
  virtual void on_access(EntryId id, TimeNs now) = 0;
  // false if no method ever reads `now`: the store then reads its clock only
  // for entries with a TTL.
  virtual bool uses_time() const { return true; }
  // The value of a tracked entry was replaced (SET over an existing key).
  virtual void on_update(EntryId id, TimeNs now) { on_access(id, now); }
  // A tracked entry left the store; after this the id may be reused.
  // key_hash is the one on_insert was given for it (the store has it at
  // hand, so a policy that needs it at removal keeps no copy per entry).
  virtual void on_remove(EntryId id, std::uint64_t key_hash, RemoveReason reason) = 0;
  // A hint that on_remove(id, key_hash, kEvicted) follows soon: a policy may
  // start loading what that will touch (s3fifo: the ghost's table slot).
  virtual void prefetch_eviction(std::uint64_t /*key_hash*/) const {}
  // A hint that on_insert(id, key_hash, now) may follow soon: a policy may
  // start loading what that will read (s3fifo: the ghost's table slot).
  virtual void prefetch_insert(std::uint64_t /*key_hash*/) const {}
  // The entry the store should evict next, or nullopt when nothing is
  // tracked (or the policy never evicts). It may reorder internal state
  // (second chances), but returns a tracked id and does not untrack it: the
  // store evicts it and then calls on_remove(id, key_hash, kEvicted).
  virtual std::optional<EntryId> victim(TimeNs now) = 0;
  // A hint, changing nothing: the id victim(now) would return if asked now,
  // exactly, or nullopt when that is not cheap to tell. The store starts
  // loading that entry's table bucket and first filter bucket before it
  // needs them.
  virtual std::optional<EntryId> peek_victim(TimeNs /*now*/) const { return std::nullopt; }
  // A hint in the same way for the victim `later` calls after the next one
  // (1: the one after next), as the state stands now, from a policy whose
  // victims lie at random and that chooses them ahead: the store then loads
  // their directory slots and entries sets ahead. It is a guess, not exact:
  // the calls in between change the state (the next victim's id may hold
  // the new key by then). nullopt by default.
  virtual std::optional<EntryId> peek_victim_later(std::uint32_t /*later*/, TimeNs /*now*/) const {
    return std::nullopt;
  }
  // Forgets every entry.
  virtual void clear() = 0;
  // Entries tracked.
  virtual std::size_t size() const = 0;
  // Bytes of metadata held (allocated capacity), for memory accounting.
  virtual std::size_t memory_bytes() const = 0;
  // false only for noeviction.
  virtual bool evicts() const { return true; }
  // Optional: pre-sizes per-id metadata for ids below `ids`, so that a store
  // that knows its entry capacity never grows these arrays on the hot path.
  virtual void reserve(std::size_t /*ids*/) {}
};

// Builds the named policy; an unknown name or invalid setting is an error
// whose message names it. `random` must outlive the policy.
Result<std::unique_ptr<EvictionPolicy>> make_eviction_policy(const EvictionConfig& config, RandomSource& random);

}  // namespace hcsim::core
