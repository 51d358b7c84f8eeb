#include "core/hash/key_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace hcsim::core {
namespace {

// Test vectors of XXH64 seed 0 as published with Go's cespare/xxhash (Sum64),
// the function the seed places keys with (placement-notes §4.3).
TEST(KeyHash, Xxh64MatchesPublishedVectors) {
  EXPECT_EQ(hash_key(HashKind::kXxh64, ""), 0xef46db3751d8e999ULL);
  EXPECT_EQ(hash_key(HashKind::kXxh64, "a"), 0xd24ec4f1a98c6e5bULL);
}

// hash_key takes keys of 32 bytes and more out of line: both sides of that
// split, and the lengths around it, are XXH64 of the whole key.
TEST(KeyHash, Xxh64OfEveryLengthIsTheLibrarysXxh64) {
  std::string key;
  for (std::size_t len = 0; len <= 100; ++len) {
    SCOPED_TRACE(len);
    EXPECT_EQ(hash_key(HashKind::kXxh64, key), XXH64(key.data(), key.size(), 0));
    key.push_back(static_cast<char>('a' + len % 26));
  }
}

TEST(KeyHash, Xxh3IsADifferentFunction) {
  EXPECT_EQ(hash_key(HashKind::kXxh3, "key:1"), XXH3_64bits("key:1", 5));
  EXPECT_NE(hash_key(HashKind::kXxh3, "key:1"), hash_key(HashKind::kXxh64, "key:1"));
}

TEST(KeyHash, NamesRoundTrip) {
  for (HashKind k : {HashKind::kXxh64, HashKind::kXxh3}) {
    EXPECT_EQ(parse_hash_kind(hash_kind_name(k)), k);
  }
  EXPECT_EQ(parse_hash_kind("sha256"), std::nullopt);
  EXPECT_EQ(parse_hash_kind("XXH64"), std::nullopt);
  EXPECT_EQ(parse_hash_kind(""), std::nullopt);
}

}  // namespace
}  // namespace hcsim::core
