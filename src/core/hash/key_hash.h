// Key hashing for placement: the seed-compatible XXH64 (seed 0) and XXH3-64.
// Promises: hash_key(HashKind::kXxh64, s) == XXH64(s, |s|, 0) bit for bit, the
// function the Go seed (cespare/xxhash Sum64) places keys and vnodes with.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hcsim::core {

enum class HashKind : std::uint8_t { kXxh64 = 0, kXxh3 = 1 };

// Canonical lower-case names: "xxh64", "xxh3".
std::string_view hash_kind_name(HashKind kind);
// Parses a canonical name; std::nullopt for anything else.
std::optional<HashKind> parse_hash_kind(std::string_view name);

inline std::uint64_t hash_key(HashKind kind, std::string_view key) {
  if (kind == HashKind::kXxh3) {
    return XXH3_64bits(key.data(), key.size());
  }
  return XXH64(key.data(), key.size(), 0);
}

}  // namespace hcsim::core
