// The membership protocol's binary codec: CRC-32C against published check
// values, a frame pinned byte for byte (worked out by hand), round trips of
// every message type and of seeded random messages, the bounds, and every
// rejection decode() promises (including every bit flip and truncation).
#include "core/protocol/binary_codec.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/runtime/random.h"

namespace hcsim::core::protocol {
namespace {

constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();

std::string bytes_of(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// A bit-at-a-time CRC-32C, written from the definition, to check the
// table-driven one on data no published vector covers.
std::uint32_t reference_crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (const char c : data) {
    crc ^= static_cast<std::uint8_t>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1U) ? (crc >> 1) ^ 0x82F63B78U : crc >> 1;
  }
  return ~crc;
}

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A frame around an arbitrary payload, with a correct checksum: how the tests
// reach the payload parser with bytes encode() would never produce.
std::string seal(std::string_view payload, int type = 1, int version = kVersion, std::uint64_t length_field = ~0ULL) {
  std::string f;
  f.push_back(static_cast<char>(kMagic));
  f.push_back(static_cast<char>(version));
  f.push_back(static_cast<char>(type));
  append_varint(f, length_field == ~0ULL ? payload.size() : length_field);
  f.append(payload);
  const std::uint32_t crc = reference_crc32c(f);
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return f;
}

// The payload of `frame` (one-byte length field: payloads under 128 bytes).
std::string payload_of(const std::string& frame) {
  EXPECT_LT(static_cast<std::uint8_t>(frame[3]), 0x80);
  return frame.substr(4, frame.size() - 8);
}

void expect_rejected(std::string_view bytes, std::string_view why) {
  const Result<SwimMessage> r = decode(bytes);
  ASSERT_FALSE(r.is_ok()) << "expected an error containing '" << why << "'";
  EXPECT_NE(r.status().message().find(why), std::string::npos)
      << "error '" << r.status().message() << "' does not mention '" << why << "'";
}

void expect_round_trip(const SwimMessage& m) {
  ASSERT_TRUE(validate(m).is_ok()) << validate(m).message();
  const std::string frame = encode(m);
  EXPECT_EQ(frame.size(), encoded_size(m));
  const Result<SwimMessage> back = decode(frame);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back.value(), m);
  EXPECT_EQ(encode(back.value()), frame);  // canonical: the same bytes again
}

// ping n1 -> n2, seq 300, piggybacking "n3 suspect at incarnation 129 (by
// n1), address 7, metadata k=v".
SwimMessage pinned_message() {
  SwimMessage m;
  m.type = MessageType::kPing;
  m.seq = 300;
  m.sender = "n1";
  m.target = "n2";
  MemberUpdate u;
  u.state = MemberState::kSuspect;
  u.incarnation = 129;
  u.address = 7;
  u.node = "n3";
  u.from = "n1";
  u.metadata = {{"k", "v"}};
  m.updates.push_back(u);
  return m;
}

MemberUpdate update(MemberState state, std::uint32_t incarnation, std::uint32_t address, std::string node,
                    std::string from = "") {
  MemberUpdate u;
  u.state = state;
  u.incarnation = incarnation;
  u.address = address;
  u.node = std::move(node);
  u.from = std::move(from);
  return u;
}

// ---- CRC-32C ------------------------------------------------------------------

TEST(Crc32c, StandardCheckValue) { EXPECT_EQ(crc32c("123456789"), 0xE3069283U); }

TEST(Crc32c, Rfc3720TestVectors) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending;
  std::string descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAU);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43U);
  EXPECT_EQ(crc32c(ascending), 0x46DD794EU);
  EXPECT_EQ(crc32c(descending), 0x113FDB5CU);
  EXPECT_EQ(crc32c(""), 0U);
}

TEST(Crc32c, MatchesBitwiseReferenceOnRandomData) {
  SeededRandom rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string data(rng.uniform(300), '\0');
    for (char& c : data) c = static_cast<char>(rng.uniform(256));
    EXPECT_EQ(crc32c(data), reference_crc32c(data)) << "length " << data.size();
  }
}

// ---- the pinned format ------------------------------------------------------------

TEST(BinaryCodec, EncodesPinnedMessageToHandWorkedBytes) {
  // Worked out by hand from the layout in binary_codec.h; the checksum with an
  // independent bit-at-a-time CRC-32C.
  const std::string expected = bytes_of({
      0xB7, 0x01, 0x01, 0x1A,  // magic, version 1, ping, payload 26 bytes
      0xAC, 0x02,              // seq 300
      0x02, 'n', '1',          // sender
      0x02, 'n', '2',          // target
      0x00,                    // target_address 0
      0x00,                    // join false
      0x01,                    // one update
      0x01,                    // suspect
      0x81, 0x01,              // incarnation 129
      0x07,                    // address 7
      0x02, 'n', '3',          // node
      0x02, 'n', '1',          // from
      0x01, 0x01, 'k', 0x01, 'v',  // one metadata pair k=v
      0x3A, 0x53, 0x3E, 0xAD,  // CRC-32C 0xAD3E533A, little-endian
  });
  const SwimMessage m = pinned_message();
  EXPECT_EQ(encode(m), expected);
  EXPECT_EQ(encoded_size(m), 34U);
  const Result<SwimMessage> back = decode(expected);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back.value(), m);
}

TEST(BinaryCodec, DefaultMessageIsFourteenBytes) {
  // header 4 + six one-byte fields (seq, sender, target, target_address, join,
  // update count) + checksum 4.
  const std::string frame = encode(SwimMessage{});
  ASSERT_EQ(frame.size(), 14U);
  EXPECT_EQ(frame.substr(0, 10), bytes_of({0xB7, 0x01, 0x01, 0x06, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(frame, seal(bytes_of({0, 0, 0, 0, 0, 0})));
}

TEST(BinaryCodec, PingWithOnePiggybackedUpdateIsTensOfBytes) {
  SwimMessage m;
  m.seq = 17;
  m.sender = "node1";
  m.target = "node2";
  m.updates.push_back(update(MemberState::kAlive, 5, 3, "node3"));
  // payload: seq 1 + sender 6 + target 6 + target_address 1 + join 1 + count 1
  //          + update (state 1, incarnation 1, address 1, node 6, from 1, pairs 1)
  //        = 16 + 11 = 27; frame = 3 + 1 + 27 + 4 = 35.
  EXPECT_EQ(encoded_size(m), 35U);
  EXPECT_EQ(encode(m).size(), 35U);
}

// ---- round trips ------------------------------------------------------------------

TEST(BinaryCodec, RoundTripsEveryMessageType) {
  const MessageType types[] = {MessageType::kPing, MessageType::kIndirectPing, MessageType::kAck,
                               MessageType::kGossip, MessageType::kSync, MessageType::kSyncReply};
  const std::string max_string(kMaxStringBytes, '\xff');
  std::string binary_string;
  for (int i = 0; i < 255; ++i) binary_string.push_back(static_cast<char>(i));
  for (const MessageType type : types) {
    SCOPED_TRACE(static_cast<int>(type));
    SwimMessage bare;
    bare.type = type;
    expect_round_trip(bare);  // everything empty or zero

    SwimMessage full;
    full.type = type;
    full.seq = kU32Max;
    full.sender = max_string;
    full.target = binary_string;
    full.target_address = kU32Max;
    full.join = true;
    full.updates.push_back(update(MemberState::kAlive, kU32Max, kU32Max, "a"));
    full.updates.back().metadata = {{"zone", "eu-1"}, {"", ""}, {max_string, binary_string}};
    full.updates.push_back(update(MemberState::kSuspect, 1U << 28, 1U << 21, "b", "c"));
    full.updates.push_back(update(MemberState::kDead, 128, 16383, "", ""));
    full.updates.push_back(update(MemberState::kLeft, 0, 0, max_string, max_string));
    expect_round_trip(full);

    SwimMessage one_update = bare;
    one_update.seq = 42;
    one_update.sender = "node1";
    one_update.updates.push_back(update(MemberState::kAlive, 3, 9, "node2"));
    expect_round_trip(one_update);
  }
}

TEST(BinaryCodec, RoundTripsAtTheCountBounds) {
  SwimMessage m;
  m.type = MessageType::kSync;
  for (std::size_t i = 0; i < kMaxUpdates; ++i) {
    m.updates.push_back(update(MemberState::kAlive, static_cast<std::uint32_t>(i), 0, ""));
  }
  expect_round_trip(m);  // 4096 minimal updates fit in a frame

  SwimMessage meta;
  meta.type = MessageType::kSyncReply;
  meta.updates.push_back(update(MemberState::kAlive, 1, 1, "n"));
  for (std::size_t i = 0; i < kMaxMetadataPairs; ++i) {
    meta.updates.back().metadata.emplace_back("k" + std::to_string(i), "v");
  }
  expect_round_trip(meta);
}

TEST(BinaryCodec, FrameLimitIsExact) {
  // Fill a message with 255-byte node ids until one more update would not fit,
  // then lengthen the strings byte by byte until the frame is exactly 64 KiB.
  SwimMessage m;
  m.type = MessageType::kSync;
  const std::string id(kMaxStringBytes, 'x');
  while (true) {
    SwimMessage bigger = m;
    bigger.updates.push_back(update(MemberState::kAlive, 1, 1, id));
    if (encoded_size(bigger) == 0) break;
    m = bigger;
  }
  ASSERT_GT(encoded_size(m), 0U);
  while (encoded_size(m) < kMaxFrameBytes && m.sender.size() < kMaxStringBytes) m.sender.push_back('s');
  while (encoded_size(m) < kMaxFrameBytes && m.target.size() < kMaxStringBytes) m.target.push_back('t');
  ASSERT_EQ(encoded_size(m), kMaxFrameBytes);
  expect_round_trip(m);

  SwimMessage over = m;
  over.updates.back().from = "f";
  EXPECT_EQ(encoded_size(over), 0U);
  const Status s = validate(over);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("65537"), std::string::npos) << s.message();
}

// A message with the shape drawn from `rng`: every varint width, strings of
// every length (often the edges), any bytes.
std::uint32_t random_u32(SeededRandom& rng) {
  const std::uint64_t bits = rng.uniform(33);  // 0..32 significant bits
  return bits == 0 ? 0U : static_cast<std::uint32_t>(rng.next() >> (64 - bits));
}

std::string random_string(SeededRandom& rng) {
  std::size_t length = 0;
  switch (rng.uniform(4)) {
    case 0: length = 0; break;
    case 1: length = kMaxStringBytes; break;
    default: length = rng.uniform(kMaxStringBytes + 1); break;
  }
  std::string s(length, '\0');
  for (char& c : s) c = static_cast<char>(rng.uniform(256));
  return s;
}

SwimMessage random_message(SeededRandom& rng) {
  SwimMessage m;
  m.type = static_cast<MessageType>(1 + rng.uniform(6));
  m.seq = random_u32(rng);
  m.sender = random_string(rng);
  m.target = random_string(rng);
  m.target_address = random_u32(rng);
  m.join = rng.uniform(2) == 1;
  const std::size_t updates = rng.uniform(10) == 0 ? rng.uniform(60) : rng.uniform(5);
  for (std::size_t i = 0; i < updates; ++i) {
    MemberUpdate u;
    u.state = static_cast<MemberState>(rng.uniform(4));
    u.incarnation = random_u32(rng);
    u.address = random_u32(rng);
    u.node = random_string(rng);
    u.from = random_string(rng);
    const std::size_t pairs = rng.uniform(20) == 0 ? kMaxMetadataPairs : rng.uniform(4);
    for (std::size_t k = 0; k < pairs; ++k) u.metadata.emplace_back(random_string(rng), random_string(rng));
    m.updates.push_back(std::move(u));
  }
  return m;
}

TEST(BinaryCodec, SeededRandomMessagesRoundTrip) {
  SeededRandom rng(20240601);
  int encoded = 0;
  int too_big = 0;
  for (int i = 0; i < 3000; ++i) {
    const SwimMessage m = random_message(rng);
    if (!validate(m).is_ok()) {
      // Only the frame limit can fail: every field was drawn within bounds.
      EXPECT_NE(validate(m).message().find("frame"), std::string::npos) << validate(m).message();
      EXPECT_EQ(encoded_size(m), 0U);
      ++too_big;
      continue;
    }
    ++encoded;
    expect_round_trip(m);
    // Any one byte changed is a burst of at most 8 bits: CRC-32C catches it.
    std::string frame = encode(m);
    const std::size_t at = rng.uniform(frame.size());
    frame[at] = static_cast<char>(frame[at] ^ static_cast<char>(1 + rng.uniform(255)));
    EXPECT_FALSE(decode(frame).is_ok()) << "byte " << at;
  }
  EXPECT_GT(encoded, 2500);  // the loop tests mostly round trips, not the limit
  EXPECT_GT(too_big, 0);     // and reaches the frame limit now and then
}

// ---- validate() and encode() of messages out of bounds ------------------------------------

TEST(BinaryCodec, ValidateNamesTheBrokenBound) {
  const std::string too_long(kMaxStringBytes + 1, 'x');
  struct Case {
    const char* name;
    SwimMessage m;
    const char* why;
  };
  std::vector<Case> cases;
  {
    SwimMessage m;
    m.sender = too_long;
    cases.push_back({"long sender", m, "sender: string of 256 bytes"});
  }
  {
    SwimMessage m;
    m.target = too_long;
    cases.push_back({"long target", m, "target: string of 256 bytes"});
  }
  {
    SwimMessage m;
    m.type = static_cast<MessageType>(7);
    cases.push_back({"type 7", m, "unknown message type 7"});
  }
  {
    SwimMessage m;
    m.type = static_cast<MessageType>(0);
    cases.push_back({"type 0", m, "unknown message type 0"});
  }
  {
    SwimMessage m;
    m.updates.resize(kMaxUpdates + 1);
    cases.push_back({"4097 updates", m, "update count 4097 exceeds"});
  }
  {
    SwimMessage m;
    m.updates.resize(2);
    m.updates[1].state = static_cast<MemberState>(4);
    cases.push_back({"state 4", m, "update 1: unknown member state 4"});
  }
  {
    SwimMessage m;
    m.updates.resize(1);
    m.updates[0].node = too_long;
    cases.push_back({"long node", m, "update 0 node"});
  }
  {
    SwimMessage m;
    m.updates.resize(1);
    m.updates[0].from = too_long;
    cases.push_back({"long from", m, "update 0 from"});
  }
  {
    SwimMessage m;
    m.updates.resize(1);
    m.updates[0].metadata.resize(kMaxMetadataPairs + 1);
    cases.push_back({"65 pairs", m, "metadata count 65 exceeds"});
  }
  {
    SwimMessage m;
    m.updates.resize(1);
    m.updates[0].metadata = {{"k", "v"}, {"k2", too_long}};
    cases.push_back({"long value", m, "update 0 metadata 1 value"});
  }
  {
    SwimMessage m;
    m.updates.resize(1);
    m.updates[0].metadata = {{too_long, "v"}};
    cases.push_back({"long key", m, "update 0 metadata 0 key"});
  }
  {
    SwimMessage m;  // 300 updates of 255-byte ids: about 78 KB
    m.updates.assign(300, update(MemberState::kAlive, 1, 1, std::string(kMaxStringBytes, 'n')));
    cases.push_back({"frame too big", m, "limit is 65536"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Status s = validate(c.m);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find(c.why), std::string::npos) << s.message();
    EXPECT_EQ(encoded_size(c.m), 0U);
  }
}

TEST(BinaryCodecDeathTest, EncodeOfAnInvalidMessageAssertsOrReturnsNothing) {
  SwimMessage m;
  m.sender = std::string(kMaxStringBytes + 1, 'x');
  std::string out = "unchanged";
  EXPECT_DEBUG_DEATH(out = encode(m), "validate");
#ifdef NDEBUG
  EXPECT_TRUE(out.empty());  // and decode() rejects an empty frame
#endif
}

// ---- decode() rejections -------------------------------------------------------------------

TEST(BinaryCodec, RejectsEmptyInput) { expect_rejected("", "empty frame"); }

TEST(BinaryCodec, RejectsWrongMagic) {
  std::string f = encode(pinned_message());
  f[0] = 'H';
  expect_rejected(f, "bad magic byte 0x48 (expected 0xb7)");
}

TEST(BinaryCodec, RejectsOtherVersions) {
  const std::string payload = payload_of(encode(pinned_message()));
  expect_rejected(seal(payload, 1, 2), "unsupported protocol version 2");
  expect_rejected(seal(payload, 1, 0), "unsupported protocol version 0");
  expect_rejected(bytes_of({0xB7, 0x09}), "unsupported protocol version 9");
}

TEST(BinaryCodec, RejectsUnknownMessageTypes) {
  const std::string payload = payload_of(encode(pinned_message()));
  for (const int type : {0, 7, 128, 255}) {
    expect_rejected(seal(payload, type), "unknown message type " + std::to_string(type));
  }
  for (int type = 1; type <= 6; ++type) EXPECT_TRUE(decode(seal(payload, type)).is_ok()) << type;
}

TEST(BinaryCodec, RejectsUnknownMemberState) {
  std::string payload = payload_of(encode(pinned_message()));
  ASSERT_EQ(payload[11], 0x01);  // the update's state (suspect), after 11 bytes of message fields
  for (const int state : {4, 5, 0x80, 0xFF}) {
    payload[11] = static_cast<char>(state);
    expect_rejected(seal(payload), "update 0: unknown member state " + std::to_string(state));
  }
}

TEST(BinaryCodec, RejectsALengthFieldThatDisagreesWithTheInput) {
  const std::string payload = payload_of(encode(pinned_message()));
  expect_rejected(seal(payload, 1, kVersion, payload.size() + 1), "payload length field says 27 bytes but the frame holds 26");
  expect_rejected(seal(payload, 1, kVersion, payload.size() - 1), "payload length field says 25 bytes but the frame holds 26");
  expect_rejected(seal(payload, 1, kVersion, 0), "payload length field says 0");
  expect_rejected(seal(payload, 1, kVersion, 70000), "payload length 70000 exceeds");
  expect_rejected(seal(payload, 1, kVersion, 1ULL << 35), "varint overflow in payload length");
  // The length varint may not run into the checksum: header, 0x80, checksum.
  expect_rejected(bytes_of({0xB7, 0x01, 0x01, 0x80, 0, 0, 0, 0}), "payload length runs past the end");
  // An overlong length varint is not canonical.
  std::string f = bytes_of({0xB7, 0x01, 0x01, 0x80, 0x00});
  const std::uint32_t crc = reference_crc32c(f);
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  expect_rejected(f, "non-canonical");
}

TEST(BinaryCodec, RejectsOversizedInput) {
  std::string big = encode(pinned_message());
  big.resize(kMaxFrameBytes + 1, '\0');
  expect_rejected(big, "frame of 65537 bytes exceeds the limit of 65536");
}

TEST(BinaryCodec, RejectsChecksumMismatch) {
  std::string f = encode(pinned_message());
  f.back() = static_cast<char>(f.back() ^ 0x10);
  expect_rejected(f, "checksum mismatch");
  std::string g = encode(pinned_message());
  g[10] = static_cast<char>(g[10] ^ 0x01);  // a payload byte, checksum unchanged
  expect_rejected(g, "checksum mismatch");
}

TEST(BinaryCodec, RejectsVarintOverflowAndOverlongVarints) {
  // seq takes the first payload bytes; the rest is an otherwise valid message.
  const std::string rest = bytes_of({0, 0, 0, 0, 0});  // sender, target, target_address, join, count
  expect_rejected(seal(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0x10}) + rest), "varint overflow in seq");
  expect_rejected(seal(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}) + rest), "varint overflow in seq");
  expect_rejected(seal(bytes_of({0x80, 0x00}) + rest), "non-canonical (overlong) varint in seq");
  expect_rejected(seal(bytes_of({0xFF, 0x80, 0x00}) + rest), "non-canonical");
  // The largest value is fine.
  const Result<SwimMessage> max = decode(seal(bytes_of({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}) + rest));
  ASSERT_TRUE(max.is_ok()) << max.status().message();
  EXPECT_EQ(max.value().seq, kU32Max);
}

TEST(BinaryCodec, RejectsCountsBeyondBounds) {
  const std::string head = bytes_of({0, 0, 0, 0, 0});  // seq, sender, target, target_address, join
  std::string p = head;
  append_varint(p, kMaxUpdates + 1);
  expect_rejected(seal(p), "update count 4097 exceeds the limit of 4096");
  p = head;
  append_varint(p, kU32Max);
  expect_rejected(seal(p), "update count 4294967295 exceeds");
  // In bounds but more than the remaining bytes could hold: refused before
  // anything is allocated for them.
  p = head;
  append_varint(p, 100);
  p += std::string(50, '\0');
  expect_rejected(seal(p), "truncated payload: update count 100");

  std::string u = head + bytes_of({1, 0, 1, 0, 0, 0});  // one update: alive, incarnation 1, the rest empty
  std::string q = u;
  append_varint(q, kMaxMetadataPairs + 1);
  expect_rejected(seal(q), "update 0: metadata count 65 exceeds the limit of 64");
  q = u;
  append_varint(q, 10);
  q += std::string(5, '\0');
  expect_rejected(seal(q), "update 0: truncated payload: metadata count 10");
}

TEST(BinaryCodec, RejectsTrailingBytesInThePayload) {
  const std::string payload = payload_of(encode(pinned_message()));
  expect_rejected(seal(payload + std::string(1, '\0')), "1 trailing bytes");
  expect_rejected(seal(payload + "xyz"), "3 trailing bytes");
}

TEST(BinaryCodec, RejectsJoinFlagOtherThanZeroOrOne) {
  std::string payload = payload_of(encode(pinned_message()));
  ASSERT_EQ(payload[9], 0x00);  // join, after seq (2), sender (3), target (3), target_address (1)
  payload[9] = 0x02;
  expect_rejected(seal(payload), "invalid join flag 2");
}

TEST(BinaryCodec, RejectsAStringLongerThanThePayload) {
  expect_rejected(seal(bytes_of({0x00, 0x05, 'a', 'b'})), "truncated payload: string sender of 5 bytes, only 2 left");
}

TEST(BinaryCodec, RejectsEveryTruncationOfAValidFrame) {
  const std::string frame = encode(pinned_message());
  for (std::size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(decode(std::string_view(frame).substr(0, n)).is_ok()) << "prefix of " << n << " bytes";
  }
}

TEST(BinaryCodec, RejectsEveryTruncationOfAPayloadEvenWhenResealed) {
  // Length and checksum made consistent: the payload parser itself must notice.
  const std::string payload = payload_of(encode(pinned_message()));
  for (std::size_t n = 0; n < payload.size(); ++n) {
    const Result<SwimMessage> r = decode(seal(payload.substr(0, n)));
    ASSERT_FALSE(r.is_ok()) << "payload prefix of " << n << " bytes";
    EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  }
}

TEST(BinaryCodec, RejectsEverySingleBitFlip) {
  const std::string frame = encode(pinned_message());
  for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
    std::string f = frame;
    f[bit / 8] = static_cast<char>(f[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(decode(f).is_ok()) << "bit " << bit;
  }
}

TEST(BinaryCodec, ResealedBitFlipsDecodeOnlyToTheirOwnCanonicalFrame) {
  // With the checksum recomputed, a flipped payload bit reaches the parser:
  // it must either refuse the bytes or return a message that encodes back to
  // exactly them.
  const std::string payload = payload_of(encode(pinned_message()));
  int accepted = 0;
  for (std::size_t bit = 0; bit < payload.size() * 8; ++bit) {
    std::string p = payload;
    p[bit / 8] = static_cast<char>(p[bit / 8] ^ (1 << (bit % 8)));
    const std::string f = seal(p);
    const Result<SwimMessage> r = decode(f);
    if (!r.is_ok()) continue;
    ++accepted;
    EXPECT_EQ(encode(r.value()), f) << "bit " << bit;
  }
  EXPECT_GT(accepted, 0);  // e.g. any bit of a name's characters
}

}  // namespace
}  // namespace hcsim::core::protocol
