#include "core/protocol/binary_codec.h"

#include <array>
#include <cassert>
#include <cstring>
#include <utility>

namespace hcsim::core::protocol {
namespace {

// ---- CRC-32C ---------------------------------------------------------------

constexpr std::uint32_t kCrc32cPolynomial = 0x82F63B78;  // 0x1EDC6F41 bit-reversed

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1U) ? kCrc32cPolynomial : 0U);
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrc32cTable = make_crc32c_table();
// The top bit alone, shifted out after eight steps, leaves the polynomial.
static_assert(kCrc32cTable[0x80] == kCrc32cPolynomial);
static_assert(kCrc32cTable[0] == 0);

// ---- sizes -----------------------------------------------------------------

constexpr std::size_t kHeaderFixedBytes = 3;  // magic, version, type
constexpr std::size_t kChecksumBytes = 4;
constexpr std::size_t kMaxVarintBytes = 5;    // 32-bit values
// The smallest encodings, used to refuse counts the remaining bytes cannot
// hold before anything is allocated for them.
constexpr std::size_t kMinUpdateBytes = 6;    // state, incarnation, address, node, from, count
constexpr std::size_t kMinPairBytes = 2;      // two empty strings

std::size_t varint_bytes(std::uint32_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::size_t string_bytes(const std::string& s) { return 1 + s.size(); }

bool valid_type(MessageType type) {
  const auto t = static_cast<std::uint8_t>(type);
  return t >= static_cast<std::uint8_t>(MessageType::kPing) &&
         t <= static_cast<std::uint8_t>(MessageType::kSyncReply);
}

bool valid_state(MemberState state) {
  return static_cast<std::uint8_t>(state) <= static_cast<std::uint8_t>(MemberState::kLeft);
}

Status check_string(const std::string& s, const std::string& what) {
  if (s.size() > kMaxStringBytes) {
    return Status::error(what + ": string of " + std::to_string(s.size()) + " bytes exceeds the " +
                         std::to_string(kMaxStringBytes) + "-byte limit");
  }
  return Status::ok();
}

// Validates `m` and, when it is valid, sets the payload and frame sizes.
Status measure(const SwimMessage& m, std::size_t& payload_bytes, std::size_t& frame_bytes) {
  if (!valid_type(m.type)) {
    return Status::error("unknown message type " + std::to_string(static_cast<unsigned>(m.type)));
  }
  if (Status s = check_string(m.sender, "sender"); !s.is_ok()) return s;
  if (Status s = check_string(m.target, "target"); !s.is_ok()) return s;
  if (m.updates.size() > kMaxUpdates) {
    return Status::error("update count " + std::to_string(m.updates.size()) + " exceeds the limit of " +
                         std::to_string(kMaxUpdates));
  }
  std::size_t size = varint_bytes(m.seq) + string_bytes(m.sender) + string_bytes(m.target) +
                     varint_bytes(m.target_address) + 1 +
                     varint_bytes(static_cast<std::uint32_t>(m.updates.size()));
  for (std::size_t i = 0; i < m.updates.size(); ++i) {
    const MemberUpdate& u = m.updates[i];
    const std::string where = "update " + std::to_string(i);
    if (!valid_state(u.state)) {
      return Status::error(where + ": unknown member state " + std::to_string(static_cast<unsigned>(u.state)));
    }
    if (Status s = check_string(u.node, where + " node"); !s.is_ok()) return s;
    if (Status s = check_string(u.from, where + " from"); !s.is_ok()) return s;
    if (u.metadata.size() > kMaxMetadataPairs) {
      return Status::error(where + ": metadata count " + std::to_string(u.metadata.size()) +
                           " exceeds the limit of " + std::to_string(kMaxMetadataPairs));
    }
    size += 1 + varint_bytes(u.incarnation) + varint_bytes(u.address) + string_bytes(u.node) +
            string_bytes(u.from) + varint_bytes(static_cast<std::uint32_t>(u.metadata.size()));
    for (std::size_t k = 0; k < u.metadata.size(); ++k) {
      const auto& [key, value] = u.metadata[k];
      if (Status s = check_string(key, where + " metadata " + std::to_string(k) + " key"); !s.is_ok()) return s;
      if (Status s = check_string(value, where + " metadata " + std::to_string(k) + " value"); !s.is_ok()) {
        return s;
      }
      size += string_bytes(key) + string_bytes(value);
    }
  }
  // Bounded above (4096 updates of 64 pairs of 255-byte strings): no overflow.
  const std::size_t frame =
      size > kMaxFrameBytes ? size
                            : kHeaderFixedBytes + varint_bytes(static_cast<std::uint32_t>(size)) + size + kChecksumBytes;
  if (frame > kMaxFrameBytes) {
    return Status::error("message needs a frame of at least " + std::to_string(frame) + " bytes; the limit is " +
                         std::to_string(kMaxFrameBytes));
  }
  payload_bytes = size;
  frame_bytes = frame;
  return Status::ok();
}

// ---- writing ---------------------------------------------------------------

// Writes into a buffer sized beforehand by measure().
class Writer {
 public:
  explicit Writer(char* out) : out_(out) {}

  void u8(std::uint8_t v) { *out_++ = static_cast<char>(v); }
  void varint(std::uint32_t v) {
    while (v >= 0x80) {
      u8(static_cast<std::uint8_t>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    u8(static_cast<std::uint8_t>(v));
  }
  void str(const std::string& s) {
    u8(static_cast<std::uint8_t>(s.size()));
    if (!s.empty()) std::memcpy(out_, s.data(), s.size());
    out_ += s.size();
  }
  void u32_le(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  char* position() const { return out_; }

 private:
  char* out_;
};

// ---- reading ---------------------------------------------------------------

// Reads fields from a byte range; on the first failure it records why and
// every later read fails too.
class Reader {
 public:
  // `region` names the bytes in errors ("payload", "frame header").
  Reader(const unsigned char* begin, const unsigned char* end, const char* region)
      : p_(begin), end_(end), region_(region) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  const std::string& error() const { return error_; }

  bool u8(std::uint8_t& out, const char* what) {
    if (p_ == end_) return fail(truncated() + "no bytes left for " + what);
    out = *p_++;
    return true;
  }

  bool varint(std::uint32_t& out, const char* what) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < kMaxVarintBytes; ++i) {
      if (p_ == end_) return fail(truncated() + "varint " + what + " runs past the end");
      const std::uint8_t b = *p_++;
      // The fifth byte holds bits 28..31 only; more (or a continuation) overflows.
      if (i == kMaxVarintBytes - 1 && b > 0x0F) return fail(std::string("varint overflow in ") + what);
      value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) return fail(std::string("non-canonical (overlong) varint in ") + what);
        out = value;
        return true;
      }
    }
    return fail(std::string("varint overflow in ") + what);  // not reached: the fifth byte settles it
  }

  bool str(std::string& out, const char* what) {
    std::uint8_t length = 0;
    if (!u8(length, what)) return false;
    if (length > remaining()) {
      return fail(truncated() + "string " + what + " of " + std::to_string(length) +
                  " bytes, only " + std::to_string(remaining()) + " left");
    }
    out.assign(reinterpret_cast<const char*>(p_), length);
    p_ += length;
    return true;
  }

  bool fail(std::string message) {
    error_ = std::move(message);
    p_ = end_;
    return false;
  }

 private:
  std::string truncated() const { return std::string("truncated ") + region_ + ": "; }

  const unsigned char* p_;
  const unsigned char* end_;
  const char* region_;
  std::string error_;
};

bool read_update(Reader& r, MemberUpdate& u) {
  std::uint8_t state = 0;
  if (!r.u8(state, "state")) return false;
  if (state > static_cast<std::uint8_t>(MemberState::kLeft)) {
    return r.fail("unknown member state " + std::to_string(state));
  }
  u.state = static_cast<MemberState>(state);
  if (!r.varint(u.incarnation, "incarnation") || !r.varint(u.address, "address") || !r.str(u.node, "node") ||
      !r.str(u.from, "from")) {
    return false;
  }
  std::uint32_t pairs = 0;
  if (!r.varint(pairs, "metadata count")) return false;
  if (pairs > kMaxMetadataPairs) {
    return r.fail("metadata count " + std::to_string(pairs) + " exceeds the limit of " +
                  std::to_string(kMaxMetadataPairs));
  }
  if (pairs > r.remaining() / kMinPairBytes) {
    return r.fail("truncated payload: metadata count " + std::to_string(pairs) + " but only " +
                  std::to_string(r.remaining()) + " bytes left");
  }
  u.metadata.resize(pairs);
  for (auto& [key, value] : u.metadata) {
    if (!r.str(key, "metadata key") || !r.str(value, "metadata value")) return false;
  }
  return true;
}

Status read_payload(Reader& r, SwimMessage& m) {
  std::uint8_t join = 0;
  std::uint32_t count = 0;
  if (!r.varint(m.seq, "seq") || !r.str(m.sender, "sender") || !r.str(m.target, "target") ||
      !r.varint(m.target_address, "target_address") || !r.u8(join, "join")) {
    return Status::error(r.error());
  }
  if (join > 1) return Status::error("invalid join flag " + std::to_string(join) + " (must be 0 or 1)");
  m.join = join == 1;
  if (!r.varint(count, "update count")) return Status::error(r.error());
  if (count > kMaxUpdates) {
    return Status::error("update count " + std::to_string(count) + " exceeds the limit of " +
                         std::to_string(kMaxUpdates));
  }
  if (count > r.remaining() / kMinUpdateBytes) {
    return Status::error("truncated payload: update count " + std::to_string(count) + " but only " +
                         std::to_string(r.remaining()) + " bytes left");
  }
  m.updates.resize(count);
  for (std::size_t i = 0; i < m.updates.size(); ++i) {
    if (!read_update(r, m.updates[i])) return Status::error("update " + std::to_string(i) + ": " + r.error());
  }
  if (r.remaining() != 0) {
    return Status::error(std::to_string(r.remaining()) + " trailing bytes after the last field of the payload");
  }
  return Status::ok();
}

// "0x" and `digits` lowercase hex digits of v.
std::string hex(std::uint32_t v, std::size_t digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 + digits, '0');
  s[1] = 'x';
  for (std::size_t i = 0; i < digits; ++i) s[s.size() - 1 - i] = kDigits[(v >> (4 * i)) & 0xF];
  return s;
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (const char c : bytes) {
    crc = (crc >> 8) ^ kCrc32cTable[(crc ^ static_cast<std::uint8_t>(c)) & 0xFFU];
  }
  return crc ^ 0xFFFFFFFFU;
}

Status validate(const SwimMessage& m) {
  std::size_t payload_bytes = 0;
  std::size_t frame_bytes = 0;
  return measure(m, payload_bytes, frame_bytes);
}

std::size_t encoded_size(const SwimMessage& m) {
  std::size_t payload_bytes = 0;
  std::size_t frame_bytes = 0;
  if (!measure(m, payload_bytes, frame_bytes).is_ok()) return 0;
  return frame_bytes;
}

std::string encode(const SwimMessage& m) {
  std::size_t payload_bytes = 0;
  std::size_t frame_bytes = 0;
  const Status status = measure(m, payload_bytes, frame_bytes);
  assert(status.is_ok() && "encode() needs a message that passes validate()");
  if (!status.is_ok()) return {};

  std::string out(frame_bytes, '\0');
  Writer w(out.data());
  w.u8(kMagic);
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.varint(static_cast<std::uint32_t>(payload_bytes));
  w.varint(m.seq);
  w.str(m.sender);
  w.str(m.target);
  w.varint(m.target_address);
  w.u8(m.join ? 1 : 0);
  w.varint(static_cast<std::uint32_t>(m.updates.size()));
  for (const MemberUpdate& u : m.updates) {
    w.u8(static_cast<std::uint8_t>(u.state));
    w.varint(u.incarnation);
    w.varint(u.address);
    w.str(u.node);
    w.str(u.from);
    w.varint(static_cast<std::uint32_t>(u.metadata.size()));
    for (const auto& [key, value] : u.metadata) {
      w.str(key);
      w.str(value);
    }
  }
  const std::size_t covered = static_cast<std::size_t>(w.position() - out.data());
  assert(covered + kChecksumBytes == frame_bytes);
  w.u32_le(crc32c(std::string_view(out.data(), covered)));
  return out;
}

Result<SwimMessage> decode(std::string_view bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  if (size == 0) return Status::error("empty frame");
  if (data[0] != kMagic) {
    return Status::error("bad magic byte " + hex(data[0], 2) + " (expected " + hex(kMagic, 2) + ")");
  }
  if (size < 2) return Status::error("truncated frame: 1 byte, a frame has at least " + std::to_string(kMinFrameBytes));
  if (data[1] != kVersion) return Status::error("unsupported protocol version " + std::to_string(data[1]));
  if (size > kMaxFrameBytes) {
    return Status::error("frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                         std::to_string(kMaxFrameBytes));
  }
  if (size < kMinFrameBytes) {
    return Status::error("truncated frame: " + std::to_string(size) + " bytes, a frame has at least " +
                         std::to_string(kMinFrameBytes));
  }

  // The payload length, read from the bytes between the fixed header and the
  // checksum (so it can never claim the checksum's bytes).
  const std::size_t checksum_at = size - kChecksumBytes;
  Reader header(data + kHeaderFixedBytes, data + checksum_at, "frame header");
  std::uint32_t payload_length = 0;
  if (!header.varint(payload_length, "payload length")) return Status::error(header.error());
  if (payload_length > kMaxFrameBytes) {
    return Status::error("payload length " + std::to_string(payload_length) + " exceeds the frame limit of " +
                         std::to_string(kMaxFrameBytes));
  }
  if (payload_length != header.remaining()) {
    return Status::error("payload length field says " + std::to_string(payload_length) +
                         " bytes but the frame holds " + std::to_string(header.remaining()));
  }

  std::uint32_t stored = 0;
  for (std::size_t i = 0; i < kChecksumBytes; ++i) stored |= static_cast<std::uint32_t>(data[checksum_at + i]) << (8 * i);
  const std::uint32_t computed = crc32c(bytes.substr(0, checksum_at));
  if (stored != computed) {
    return Status::error("checksum mismatch (frame says " + hex(stored, 8) + ", bytes give " + hex(computed, 8) + ")");
  }

  SwimMessage m;
  m.type = static_cast<MessageType>(data[2]);
  if (!valid_type(m.type)) return Status::error("unknown message type " + std::to_string(data[2]));
  Reader payload(data + checksum_at - payload_length, data + checksum_at, "payload");
  if (Status s = read_payload(payload, m); !s.is_ok()) return s;
  return m;
}

}  // namespace hcsim::core::protocol
