#include "core/store/eviction_policy.h"

#include <string>

#include "core/store/eviction/lru_policy.h"
#include "core/store/eviction/s3fifo_policy.h"
#include "core/store/eviction/sampled_lru_policy.h"
#include "core/store/eviction/session_policy.h"
#include "core/store/eviction/sieve_policy.h"

namespace hcsim::core {
namespace {

// Tracks nothing and never names a victim: the store refuses writes instead.
class NoEvictionPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "noeviction"; }
  void on_insert(EntryId /*id*/, std::uint64_t /*key_hash*/, TimeNs /*now*/) override {}
  void on_access(EntryId /*id*/, TimeNs /*now*/) override {}
  bool uses_time() const override { return false; }
  void on_remove(EntryId /*id*/, std::uint64_t /*key_hash*/, RemoveReason /*reason*/) override {}
  std::optional<EntryId> victim(TimeNs /*now*/) override { return std::nullopt; }
  void clear() override {}
  std::size_t size() const override { return 0; }
  std::size_t memory_bytes() const override { return 0; }
  bool evicts() const override { return false; }
};

bool known_policy(std::string_view name) {
  for (std::string_view known : eviction_policy_names()) {
    if (known == name) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string_view>& eviction_policy_names() {
  static const std::vector<std::string_view> names = {"session", "lru", "sampled-lru", "sieve", "s3fifo", "noeviction"};
  return names;
}

Status validate(const EvictionConfig& config) {
  // Every setting is checked whatever the policy, so a bad value is reported
  // even before someone switches to the policy that reads it.
  if (!known_policy(config.policy)) {
    std::string message = "unknown eviction policy '" + config.policy + "' (expected one of: ";
    bool first = true;
    for (std::string_view name : eviction_policy_names()) {
      if (!first) message += ", ";
      message += name;
      first = false;
    }
    message += ")";
    return Status::error(std::move(message));
  }
  if (config.sample_size < 1 || config.sample_size > 64) return Status::error("sample_size must be between 1 and 64");
  if (config.session_ttl_ns <= 0) return Status::error("session_ttl must be greater than 0");
  if (config.idle_timeout_ns <= 0) return Status::error("idle_timeout must be greater than 0");
  if (config.grace_period_ns <= 0) return Status::error("grace_period must be greater than 0");
  if (!(config.small_queue_ratio > 0.0 && config.small_queue_ratio < 1.0)) {  // NaN fails too
    return Status::error("small_queue_ratio must be between 0 and 1");
  }
  return Status::ok();
}

Result<std::unique_ptr<EvictionPolicy>> make_eviction_policy(const EvictionConfig& config, RandomSource& random) {
  Status status = validate(config);
  if (!status.is_ok()) return status;
  std::unique_ptr<EvictionPolicy> policy;
  const std::string_view name = config.policy;
  if (name == "session") {
    policy = std::make_unique<SessionPolicy>(config.session_ttl_ns, config.idle_timeout_ns, config.grace_period_ns);
  } else if (name == "lru") {
    policy = std::make_unique<LruPolicy>();
  } else if (name == "sampled-lru") {
    policy = std::make_unique<SampledLruPolicy>(config.sample_size, random);
  } else if (name == "sieve") {
    policy = std::make_unique<SievePolicy>();
  } else if (name == "s3fifo") {
    policy = std::make_unique<S3FifoPolicy>(config.small_queue_ratio);
  } else {
    policy = std::make_unique<NoEvictionPolicy>();
  }
  return policy;
}

}  // namespace hcsim::core
