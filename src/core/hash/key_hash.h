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

// XXH64 of keys of 32 bytes or more, out of line (the same function).
std::uint64_t xxh64_long(std::string_view key);

inline std::uint64_t hash_key(HashKind kind, std::string_view key) {
  if (kind == HashKind::kXxh3) [[unlikely]] {
    return XXH3_64bits(key.data(), key.size());
  }
  // Keys are short. Inlined under the size < 32 test, XXH64 loses its
  // 32-byte stripe loop, whose four accumulators and constants would
  // otherwise hold registers in every caller's lookup loop.
  if (key.size() >= 32) [[unlikely]] return xxh64_long(key);
  return XXH64(key.data(), key.size(), 0);
}

}  // namespace hcsim::core
