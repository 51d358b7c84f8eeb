#include "core/store/basic_store.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace hcsim::core {

namespace {
// The filter is sized for one key per this many budget bytes by default: no
// entry (16-byte header, a key, its table slot and metadata) is smaller.
constexpr std::uint64_t kBudgetBytesPerFilterItem = 64;
constexpr std::uint64_t kMaxFilterItems = 1ULL << 32;

// memcpy for the short keys and values a set copies, without a call: up to
// 64 bytes, two overlapping fixed-size copies (which compile to a few loads
// and stores) cover any length in their range.
void copy_bytes(char* dst, const char* src, std::size_t n) {
  const auto two = [&](auto width) {
    constexpr std::size_t w = decltype(width)::value;
    std::memcpy(dst, src, w);
    std::memcpy(dst + n - w, src + n - w, w);
  };
  if (n >= 32 && n <= 64) {
    two(std::integral_constant<std::size_t, 32>{});
  } else if (n >= 16 && n < 32) {
    two(std::integral_constant<std::size_t, 16>{});
  } else if (n >= 8 && n < 16) {
    two(std::integral_constant<std::size_t, 8>{});
  } else if (n != 0) {
    std::memcpy(dst, src, n);
  }
}

// now + ttl, capped at the largest time (a TTL so long it never expires).
TimeNs saturating_add(TimeNs now, TimeNs ttl) {
  return now > std::numeric_limits<TimeNs>::max() - ttl ? std::numeric_limits<TimeNs>::max() : now + ttl;
}
}  // namespace

Result<std::unique_ptr<BasicStore>> BasicStore::create(BasicStoreConfig config, const Clock& clock,
                                                       RandomSource& random) {
  if (config.name.empty()) return Status::error("store name cannot be empty");
  if (config.max_memory_bytes == 0) return Status::error("max memory must be greater than 0");
  if (config.default_ttl_ns < 0) return Status::error("default ttl must not be negative");
  if (config.max_evictions_per_set == 0) return Status::error("max_evictions_per_set must be greater than 0");
  if (config.expiry_sample_size == 0 || config.expiry_sample_size > 1024) {
    return Status::error("expiry_sample_size must be between 1 and 1024");
  }
  if (config.expiry_max_rounds == 0 || config.expiry_max_rounds > 1024) {
    return Status::error("expiry_max_rounds must be between 1 and 1024");
  }
  if (!(config.expiry_repeat_fraction >= 0.0 && config.expiry_repeat_fraction <= 1.0)) {
    return Status::error("expiry_repeat_fraction must be between 0 and 1");
  }
  if (Status s = validate(config.eviction); !s.is_ok()) return s;

  Result<std::unique_ptr<MemoryPool>> pool = MemoryPool::create({.name = config.name,
                                                                  .max_bytes = config.max_memory_bytes});
  if (!pool.is_ok()) return pool.status();
  Result<std::unique_ptr<EvictionPolicy>> policy = make_eviction_policy(config.eviction, random);
  if (!policy.is_ok()) return policy.status();

  std::optional<CuckooFilter> filter;
  if (config.filter_enabled) {
    if (!(config.filter_false_positive_rate > 0.0 && config.filter_false_positive_rate < 1.0)) {
      return Status::error("filter_false_positive_rate must be between 0 and 1");
    }
    std::uint64_t items = config.filter_expected_items;
    if (items == 0) items = std::clamp<std::uint64_t>(config.max_memory_bytes / kBudgetBytesPerFilterItem, 64, kMaxFilterItems);
    Result<CuckooFilter> f = CuckooFilter::create({.expected_items = items,
                                                   .false_positive_rate = config.filter_false_positive_rate});
    if (!f.is_ok()) return Status::error(fmt::format("filter: {}", f.status().message()));
    filter.emplace(std::move(f).value());
    if (filter->memory_bytes() > config.max_memory_bytes / 4) {
      return Status::error(fmt::format(
          "max memory {} bytes is too small for a filter of {} items ({} bytes); raise max memory or "
          "lower filter_expected_items",
          config.max_memory_bytes, items, filter->memory_bytes()));
    }
  }
  auto store = std::unique_ptr<BasicStore>(new BasicStore(std::move(config), clock, random, std::move(pool).value(),
                                                          std::move(policy).value(), std::move(filter)));
  return store;
}

BasicStore::BasicStore(BasicStoreConfig config, const Clock& clock, RandomSource& random,
                       std::unique_ptr<MemoryPool> pool, std::unique_ptr<EvictionPolicy> policy,
                       std::optional<CuckooFilter> filter)
    : name_(config.name),
      config_(std::move(config)),
      clock_(clock),
      random_(random),
      pool_(std::move(pool)),
      policy_(std::move(policy)),
      filter_(std::move(filter)) {
  policy_uses_time_ = policy_->uses_time();
  trust_filter();
  sync_index_charge();
}

BasicStore::~BasicStore() = default;  // the pool owns and frees every entry

// --- accounting -----------------------------------------------------------

std::uint64_t BasicStore::index_bytes() const {
  // Vectors are charged by size, not capacity: capacity past the size is
  // never touched, so it is not resident. The table's buckets all are.
  const std::uint64_t table_bytes = table_.memory_bytes();
  return table_bytes + directory_.size() * sizeof(Entry*) + free_ids_.size() * sizeof(EntryId) +
         policy_->memory_bytes() +
         (filter_ ? filter_->memory_bytes() : 0);
}

void BasicStore::sync_index_charge() {
  const std::uint64_t now_bytes = index_bytes();
  pool_->charge_external(static_cast<std::int64_t>(now_bytes) - static_cast<std::int64_t>(index_charged_bytes_));
  index_charged_bytes_ = now_bytes;
}

// --- entries ---------------------------------------------------------------

BasicStore::Entry* BasicStore::allocate_entry(const HashedKey& key, std::string_view payload,
                                              std::uint64_t value_bytes, bool has_payload) {
  const std::size_t chunk = chunk_size(key.key, value_bytes, has_payload);
  void* mem;
  if (spare_ != nullptr) {
    mem = pool_->reuse(spare_, spare_chunk_, chunk);
    spare_ = nullptr;
  } else {
    mem = pool_->allocate(chunk);
    if (mem == nullptr) return nullptr;
  }
  auto* e = static_cast<Entry*>(mem);
  e->expire_at_ns = 0;
  e->value_bytes = static_cast<std::uint32_t>(value_bytes);
  e->key_bytes = static_cast<std::uint16_t>(key.key.size());
  e->flags = has_payload ? kHasPayload : 0;
  e->unused = 0;
  copy_bytes(e->key_data(), key.key.data(), key.key.size());
  if (has_payload) copy_bytes(e->key_data() + key.key.size(), payload.data(), payload.size());
  if (!has_payload) {
    // Size-only: charge what the payload would have cost, so accounting is identical.
    pool_->charge_external(static_cast<std::int64_t>(MemoryPool::charged_size(e->charged_bytes())) -
                           static_cast<std::int64_t>(MemoryPool::charged_size(chunk)));
  }
  return e;
}

void BasicStore::release_payload_charge(const Entry* e) {
  if (e == hinted_victim_) hinted_victim_ = nullptr;  // its memory may next hold another key
  if (!(e->flags & kHasPayload)) {
    pool_->charge_external(static_cast<std::int64_t>(MemoryPool::charged_size(e->chunk_bytes())) -
                           static_cast<std::int64_t>(MemoryPool::charged_size(e->charged_bytes())));
  }
}

void BasicStore::free_entry(Entry* e) {
  release_payload_charge(e);
  pool_->deallocate(e, e->chunk_bytes());
}

bool BasicStore::is_expired(const Entry& e, TimeNs now) const { return e.expire_at_ns != 0 && e.expire_at_ns <= now; }

void BasicStore::set_expiry(EntryId id, TimeNs expire_at_ns) {
  Entry* e = directory_[id];
  if ((e->expire_at_ns != 0) != (expire_at_ns != 0)) {
    if (expire_at_ns != 0) {
      ++ttl_entries_;
    } else {
      --ttl_entries_;
    }
  }
  e->expire_at_ns = expire_at_ns;
}

BasicStore::Entry* BasicStore::detach_entry(EntryId id, std::uint64_t hash, RemoveReason reason) {
  Entry* e = directory_[id];
  assert(hash == store_key_hash(e->key()));  // HashedKey(key, hash) must carry the key's own hash
  set_expiry(id, 0);
  EntryId* slot = table_.find(hash, [id](EntryId x) { return x == id; });
  assert(slot != nullptr);
  table_.erase(slot, hash);
  if (filter_ && (e->flags & kInFilter)) {
    const bool removed = filter_->remove(hash);
    assert(removed);
    (void)removed;
  }
  policy_->on_remove(id, hash, reason);
  stats_.key_value_bytes -= e->key_bytes + e->value_bytes;
  directory_[id] = nullptr;
  free_ids_.push_back(id);
  return e;
}

bool BasicStore::drop_if_expired(EntryId id, std::uint64_t hash, LazyNow& now) {
  if (!is_expired(*directory_[id], now())) return false;
  remove_entry(id, hash, RemoveReason::kExpired);
  ++stats_.expirations;
  return true;
}

void BasicStore::prefetch_victim(std::uint64_t key_hash, TimeNs now) {
  policy_->prefetch_insert(key_hash);
  const std::optional<EntryId> id = policy_->peek_victim(now);
  if (!id) return;
  const Entry* e = directory_[*id];
  const std::uint64_t hash = store_key_hash(e->key());
  hinted_victim_ = e;
  hinted_victim_hash_ = hash;
  table_.prefetch(hash);
  // Only the key's first filter bucket: an add tries it first, so most
  // fingerprints live there, and a load of the second that is rarely used
  // still takes one of the few misses the core keeps in flight
  // (sampled-lru, with the most of them, 464 -> 426 ns interleaved).
  if (filter_) filter_->prefetch_add(hash);
  policy_->prefetch_eviction(hash);
}

bool BasicStore::evict_one(TimeNs now) {
  const std::optional<EntryId> victim = policy_->victim(now);
  if (!victim) return false;
  evict(*victim);
  return true;
}

bool BasicStore::evict(EntryId id, std::size_t need, std::size_t chunk) {
  assert(id < directory_.size() && directory_[id] != nullptr && spare_ == nullptr);
  const Entry* victim = directory_[id];
  std::uint64_t hash;
  if (victim == hinted_victim_) {
    hash = hinted_victim_hash_;  // prefetch_victim has hashed it and started the loads
  } else {
    hash = store_key_hash(victim->key());
    policy_->prefetch_eviction(hash);  // loads while the table and filter forget the key
  }
  Entry* e = detach_entry(id, hash, RemoveReason::kEvicted);
  ++stats_.evictions;
  // The test make_room's loop would make once the victim is freed,
  // fits_charge(need): used stays at least the victim's charge, and no sum
  // here comes near overflowing (max <= 1 TiB, need <= max).
  if (chunk != 0 && MemoryPool::same_small_class(e->chunk_bytes(), chunk) &&
      pool_->used_bytes() - MemoryPool::charged_size(e->charged_bytes()) + need <= pool_->max_bytes()) {
    release_payload_charge(e);
    spare_ = e;
    spare_chunk_ = e->chunk_bytes();
    return true;
  }
  free_entry(e);
  return false;
}

// --- operations --------------------------------------------------------------

Status BasicStore::set(HashedKey key, std::string_view value, std::optional<TimeNs> ttl_ns) {
  return put(key, value, value.size(), true, ttl_ns);
}

Status BasicStore::set_size_only(HashedKey key, std::uint64_t value_bytes, std::optional<TimeNs> ttl_ns) {
  return put(key, {}, value_bytes, false, ttl_ns);
}

Status BasicStore::fail(std::string message) {
  ++stats_.errors;
  return Status::error(std::move(message));
}

Status BasicStore::fail_full() {
  return fail(fmt::format("out of memory: store '{}' is full ({} of {} bytes used) and its eviction policy is {}", name_,
                          pool_->used_bytes(), pool_->max_bytes(), policy_->name()));
}

Status BasicStore::fail_could_not_allocate(std::size_t need) {
  return fail(fmt::format("out of memory: could not allocate {} bytes in store '{}'", need, name_));
}

Status BasicStore::fail_could_not_free(std::size_t need) {
  return fail(fmt::format("out of memory: could not free {} bytes in store '{}' within {} evictions", need, name_,
                          config_.max_evictions_per_set));
}

Status BasicStore::make_room(std::size_t need, std::size_t chunk, TimeNs now) {
  // If the table would have to grow and the budget cannot afford
  // it, evict one entry instead (the table then keeps its size).
  if (const std::size_t growth = table_.growth_bytes_for_insert(); growth != 0 && !pool_->fits_charge(need + growth)) {
    if (!policy_->evicts() || !evict_one(now)) {
      if (!pool_->fits_charge(need + growth)) return fail_full();
    }
  }
  std::uint32_t evicted = 0;
  while (!pool_->fits_charge(need)) {
    if (!policy_->evicts()) return fail_full();  // noeviction
    const std::optional<EntryId> victim =
        evicted < config_.max_evictions_per_set ? policy_->victim(now) : std::nullopt;
    if (!victim) return fail_could_not_free(need);
    ++evicted;
    if (evict(*victim, need, chunk)) break;  // the new entry takes its chunk
  }
  // A store that evicts on this set likely evicts on the next: its victim's
  // directory slot loads in the meantime.
  if (evicted > 0) {
    const std::optional<EntryId> next = policy_->peek_victim(now);
    if (const std::optional<EntryId> after_next = policy_->peek_victim_later(1, now)) {
      // A policy that names its victims a set ahead has named `next` in the
      // last set, whose end started loading its directory slot: start on
      // its entry now, and on the directory slot of the one after it.
      __builtin_prefetch(&directory_[*after_next]);
      if (next) __builtin_prefetch(directory_[*next]);
    } else if (next) {
      __builtin_prefetch(&directory_[*next]);
    }
  }
  return Status::ok();
}

void BasicStore::pay_back_index_growth(EntryId id, TimeNs now) {
  // Index growth (table, directory, policy metadata) is charged after the
  // fact, in steps; pay it back now. This can take more evictions than
  // max_evictions_per_set, but only at growth steps: amortised O(1) per set,
  // like the rehash that caused it.
  for (std::uint32_t retries = 0;;) {
    if (pool_->used_bytes() <= pool_->max_bytes()) break;
    const std::optional<EntryId> victim = policy_->victim(now);
    if (!victim) break;
    if (*victim == id) {
      // The policy offers the new entry itself (sampled ties, a sieve hand,
      // an s3fifo small queue holding only it): touch it and ask again.
      if (++retries > kSelfVictimRetries) break;
      policy_->on_access(id, now);
      continue;
    }
    evict(*victim);
    sync_index_charge();  // each removal grows the free-id list a little
  }
}

Status BasicStore::put(HashedKey key, std::string_view payload, std::uint64_t value_bytes, bool has_payload,
                       std::optional<TimeNs> ttl_ns) {
  // The common case stays short and inline here; errors, making room and
  // paying back index growth leave it through calls.
  if (key.key.empty()) [[unlikely]] return fail("key cannot be empty");
  if (key.key.size() > kMaxKeyBytes) [[unlikely]] {
    return fail(fmt::format("key too long: {} bytes (max {})", key.key.size(), kMaxKeyBytes));
  }
  if (value_bytes > kMaxValueBytes) [[unlikely]] {
    return fail(fmt::format("value too large: {} bytes (max {})", value_bytes, kMaxValueBytes));
  }
  if (ttl_ns && *ttl_ns <= 0) [[unlikely]] {
    return fail(fmt::format("invalid ttl: {} ns (must be greater than 0)", *ttl_ns));
  }
  const std::size_t need = MemoryPool::charged_size(sizeof(Entry) + key.key.size() + value_bytes);
  if (need + index_charged_bytes_ > pool_->max_bytes()) [[unlikely]] {
    return fail(fmt::format("entry too large: {} bytes charged, store '{}' has a budget of {} bytes ({} in use by its index)",
                            need, name_, pool_->max_bytes(), index_charged_bytes_));
  }
  // The key's table bucket and filter bucket load together: the lookup
  // below waits for the first, a new key's filter add needs the second.
  table_.prefetch(key.hash);
  if (filter_) filter_->prefetch_add(key.hash);
  LazyNow clock_now(clock_);
  const TimeNs ttl = ttl_ns ? *ttl_ns : config_.default_ttl_ns;
  const TimeNs expire_at = ttl > 0 ? saturating_add(clock_now(), ttl) : 0;
  const TimeNs now = policy_uses_time_ ? clock_now() : 0;  // what the policy is told
  const bool room = pool_->fits_charge(need);
  if (!room) prefetch_victim(key.hash, now);
  const std::optional<EntryId> existing = find_live(key, clock_now);
  if (existing) return overwrite(*existing, key, payload, value_bytes, has_payload, expire_at, need, now);

  if (!room || table_.growth_bytes_for_insert() != 0) [[unlikely]] {
    if (Status s = make_room(need, chunk_size(key.key, value_bytes, has_payload), now); !s.is_ok()) return s;
  }
  Entry* e = allocate_entry(key, payload, value_bytes, has_payload);
  if (e == nullptr) [[unlikely]] return fail_could_not_allocate(need);

  EntryId id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    directory_[id] = e;
  } else {
    id = static_cast<EntryId>(directory_.size());
    directory_.push_back(e);
  }
  table_.insert(key.hash, id, [&](auto&& add) {
    for (EntryId other = 0; other < directory_.size(); ++other) {
      if (other != id && directory_[other] != nullptr) add(store_key_hash(directory_[other]->key()), other);
    }
  });
  if (filter_) {
    if (filter_->add(key.hash)) [[likely]] {
      e->flags |= kInFilter;
    } else {
      consult_at_ = kNeverConsult;  // saturated
      ++stats_.filter_add_failures;
    }
  }
  policy_->on_insert(id, key.hash, now);
  if (expire_at != 0) set_expiry(id, expire_at);
  stats_.key_value_bytes += e->key_bytes + e->value_bytes;
  ++stats_.sets;
  sync_index_charge();  // the new id's index growth
  if (pool_->used_bytes() > pool_->max_bytes()) [[unlikely]] pay_back_index_growth(id, now);
  return Status::ok();
}

// An overwrite frees the old copy before allocating the new one, so it never
// needs room for both; it evicts others (never the key itself) first, so on
// failure nothing but those evictions has happened.
Status BasicStore::overwrite(EntryId id, const HashedKey& key, std::string_view payload, std::uint64_t value_bytes,
                             bool has_payload, TimeNs expire_at, std::size_t need, TimeNs now) {
  Entry* old = directory_[id];
  const std::uint64_t old_charge = MemoryPool::charged_size(old->charged_bytes());
  if (pool_->used_bytes() - old_charge + need > pool_->max_bytes()) {
    if (!policy_->evicts()) return fail_full();  // noeviction
    policy_->on_update(id, now);  // the key being written is the last candidate, not the first
    for (std::uint32_t evicted = 0, retries = 0; pool_->used_bytes() - old_charge + need > pool_->max_bytes();) {
      const std::optional<EntryId> victim = policy_->victim(now);
      // A sampling policy may offer the key itself (its access time ties
      // with the sample's): ask again, as put() does for a new key.
      if (victim && *victim == id && ++retries <= kSelfVictimRetries) continue;
      if (!victim || *victim == id || evicted >= config_.max_evictions_per_set) return fail_could_not_free(need);
      evict(*victim);
      ++evicted;
    }
  }
  const std::uint8_t in_filter = old->flags & kInFilter;
  const std::size_t new_chunk = chunk_size(key.key, value_bytes, has_payload);
  if (has_payload && (old->flags & kHasPayload) && old->chunk_bytes() == new_chunk) {
    // Same size: rewrite in place (memmove: the value may be this entry's own).
    if (!payload.empty()) std::memmove(old->key_data() + old->key_bytes, payload.data(), payload.size());
  } else {
    // The value may point into the old copy (set(k, get(k).value.substr(..)));
    // keep it alive past the free.
    std::string alias_copy;
    const char* old_begin = reinterpret_cast<const char*>(old);
    if (!payload.empty() && payload.data() < old_begin + old->chunk_bytes() && payload.data() + payload.size() > old_begin) {
      alias_copy.assign(payload);
      payload = alias_copy;
    }
    EntryId* slot = find_slot(key);  // stays valid: nothing below changes the table before it is used
    stats_.key_value_bytes -= old->key_bytes + old->value_bytes;
    set_expiry(id, 0);  // the new copy starts without one; set below
    free_entry(old);
    Entry* e = allocate_entry(key, payload, value_bytes, has_payload);
    if (e == nullptr) {
      // Room was made above, so only the system can refuse: drop the key cleanly.
      table_.erase(slot, key.hash);
      if (filter_ && in_filter) filter_->remove(key.hash);
      policy_->on_remove(id, key.hash, RemoveReason::kDeleted);
      directory_[id] = nullptr;
      free_ids_.push_back(id);
      return fail_could_not_allocate(need);
    }
    e->flags = static_cast<std::uint8_t>(e->flags | in_filter);
    directory_[id] = e;
    stats_.key_value_bytes += key.key.size() + value_bytes;
  }
  set_expiry(id, expire_at);
  policy_->on_update(id, now);
  ++stats_.sets;
  return Status::ok();
}

void BasicStore::set_many(std::span<const HashedKey> keys, std::span<const std::string_view> values,
                          std::span<Status> statuses, std::optional<TimeNs> ttl_ns) {
  assert(values.size() >= keys.size() && statuses.size() >= keys.size());
  constexpr std::size_t kInFlight = 8;  // as get_many: 2 lines each here (table, first filter bucket)
  for (std::size_t start = 0; start < keys.size(); start += kInFlight) {
    const std::size_t end = std::min(keys.size(), start + kInFlight);
    for (std::size_t i = start; i < end; ++i) {
      table_.prefetch(keys[i].hash);
      if (filter_) filter_->prefetch_add(keys[i].hash);
    }
    for (std::size_t i = start; i < end; ++i) statuses[i] = put(keys[i], values[i], values[i].size(), true, ttl_ns);
  }
}

void BasicStore::get_many(std::span<const HashedKey> keys, std::span<GetResult> results) {
  assert(results.size() >= keys.size());
  constexpr std::size_t kInFlight = 8;  // 3 lines each: within the core's outstanding misses
  LazyNow now(clock_);
  for (std::size_t start = 0; start < keys.size(); start += kInFlight) {
    const std::size_t end = std::min(keys.size(), start + kInFlight);
    const bool filter_first = consult_filter();
    for (std::size_t i = start; i < end; ++i) {
      if (filter_first) filter_->prefetch_contains(keys[i].hash);
      table_.prefetch(keys[i].hash);
    }
    for (std::size_t i = start; i < end; ++i) results[i] = get_at(keys[i], now);
  }
}

bool BasicStore::del(HashedKey key) {
  if (key.key.empty()) return false;
  LazyNow now(clock_);
  const std::optional<EntryId> id = find_live(key, now);
  if (!id) return false;
  remove_entry(*id, key.hash, RemoveReason::kDeleted);
  ++stats_.deletes;
  return true;
}

bool BasicStore::exists(HashedKey key) {
  if (key.key.empty()) return false;
  LazyNow now(clock_);
  return find_live(key, now).has_value();
}

TtlResult BasicStore::ttl(HashedKey key) {
  if (key.key.empty()) return {};
  LazyNow now(clock_);
  const std::optional<EntryId> id = find_live(key, now);
  if (!id) return {};
  const Entry* e = directory_[*id];
  if (e->expire_at_ns == 0) return {.kind = TtlResult::Kind::kNoTtl};
  return {.kind = TtlResult::Kind::kExpiresIn, .remaining_ns = e->expire_at_ns - now()};
}

bool BasicStore::expire(HashedKey key, TimeNs ttl_ns) {
  if (key.key.empty()) return false;
  const TimeNs now = clock_.now();
  LazyNow known_now(now);
  const std::optional<EntryId> id = find_live(key, known_now);
  if (!id) return false;
  if (ttl_ns <= 0) {
    remove_entry(*id, key.hash, RemoveReason::kExpired);
    ++stats_.expirations;
    return true;
  }
  const TimeNs expire_at = saturating_add(now, ttl_ns);
  set_expiry(*id, expire_at);
  sync_index_charge();
  return true;
}

bool BasicStore::persist(HashedKey key) {
  if (key.key.empty()) return false;
  LazyNow now(clock_);
  const std::optional<EntryId> id = find_live(key, now);
  if (!id || directory_[*id]->expire_at_ns == 0) return false;
  set_expiry(*id, 0);
  return true;
}

void BasicStore::clear() {
  for (EntryId id = 0; id < directory_.size(); ++id) {
    if (directory_[id] != nullptr) free_entry(directory_[id]);
  }
  table_.clear();
  directory_ = {};
  free_ids_ = {};
  ttl_entries_ = 0;
  policy_->clear();
  if (filter_) filter_->clear();
  trust_filter();
  miss_score_ = kMissScoreAll;
  stats_.key_value_bytes = 0;
  sync_index_charge();
}

// Samples come from random slots of the dense id directory, skipping slots
// without a TTL, so no separate TTL index is kept (it would cost 8 bytes per
// entry). When few entries have a TTL, a round gives up after
// expiry_sample_size * 16 probes: the work per round stays bounded.
ExpiryStep BasicStore::active_expire() {
  ExpiryStep step;
  const TimeNs now = clock_.now();
  const std::uint32_t max_probes = config_.expiry_sample_size * 16;
  while (step.rounds < config_.expiry_max_rounds && ttl_entries_ != 0) {
    ++step.rounds;
    const std::uint32_t sample = static_cast<std::uint32_t>(std::min<std::size_t>(config_.expiry_sample_size, ttl_entries_));
    std::uint32_t sampled = 0;
    std::uint32_t expired = 0;
    for (std::uint32_t probe = 0; probe < max_probes && sampled < sample && ttl_entries_ != 0; ++probe) {
      const auto id = static_cast<EntryId>(random_.uniform(directory_.size()));
      const Entry* e = directory_[id];
      if (e == nullptr || e->expire_at_ns == 0) continue;
      ++sampled;
      if (is_expired(*e, now)) {
        remove_entry(id, store_key_hash(e->key()), RemoveReason::kExpired);
        ++stats_.expirations;
        ++expired;
      }
    }
    step.sampled += sampled;
    step.expired += expired;
    if (sampled == 0 || static_cast<double>(expired) <= config_.expiry_repeat_fraction * static_cast<double>(sampled)) break;
  }
  return step;
}

StoreStats BasicStore::stats() const {
  StoreStats s = stats_;
  s.items = table_.size();
  s.memory_used_bytes = pool_->used_bytes();
  const std::uint64_t lookups = s.hits + s.misses;
  s.hit_ratio = lookups == 0 ? 0.0 : static_cast<double>(s.hits) / static_cast<double>(lookups);
  return s;
}

std::optional<CuckooFilterStats> BasicStore::filter_stats() const {
  if (!filter_) return std::nullopt;
  return filter_->stats();
}

bool BasicStore::filter_contains(HashedKey key) const { return filter_ && filter_->contains(key.hash); }

}  // namespace hcsim::core
