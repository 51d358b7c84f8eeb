#include "core/cluster/lamport_clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace hcsim::core::cluster {
namespace {

TEST(LamportClock, StartsAtZeroAndTicksByOne) {
  LamportClock c;
  EXPECT_EQ(c.time(), 0u);
  EXPECT_EQ(c.tick(), 1u);
  EXPECT_EQ(c.tick(), 2u);
  EXPECT_EQ(c.time(), 2u);
  EXPECT_EQ(c.time(), 2u);  // reading does not advance
}

TEST(LamportClock, WitnessTakesMaxPlusOne) {
  LamportClock c;
  c.tick();
  c.tick();                       // 2
  EXPECT_EQ(c.witness(10), 11u);  // remote ahead: 10 + 1
  EXPECT_EQ(c.time(), 11u);
  EXPECT_EQ(c.witness(5), 12u);   // remote behind: local 11 + 1
  EXPECT_EQ(c.witness(12), 13u);  // equal: 12 + 1
  EXPECT_EQ(c.tick(), 14u);
}

TEST(LamportClock, HappensBeforeAcrossTwoClocks) {
  LamportClock a;
  LamportClock b(100);
  const std::uint64_t sent = a.tick();  // a sends at 1
  const std::uint64_t received = b.witness(sent);
  EXPECT_GT(received, sent);
  const std::uint64_t reply = b.tick();
  EXPECT_GT(a.witness(reply), reply);  // a's receive is after b's send
  EXPECT_EQ(a.time(), 103u);           // 102 + 1
}

TEST(LamportClock, SaturatesInsteadOfWrapping) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  LamportClock c(kMax - 1);
  EXPECT_EQ(c.tick(), kMax);
  EXPECT_EQ(c.tick(), kMax);
  LamportClock d;
  EXPECT_EQ(d.witness(kMax), kMax);
  EXPECT_EQ(d.witness(0), kMax);
}

}  // namespace
}  // namespace hcsim::core::cluster
