#include "core/hash/key_hash.h"

namespace hcsim::core {

std::uint64_t xxh64_long(std::string_view key) { return XXH64(key.data(), key.size(), 0); }

std::string_view hash_kind_name(HashKind kind) {
  switch (kind) {
    case HashKind::kXxh64:
      return "xxh64";
    case HashKind::kXxh3:
      return "xxh3";
  }
  return "unknown";
}

std::optional<HashKind> parse_hash_kind(std::string_view name) {
  if (name == "xxh64") return HashKind::kXxh64;
  if (name == "xxh3") return HashKind::kXxh3;
  return std::nullopt;
}

}  // namespace hcsim::core
