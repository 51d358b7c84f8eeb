// libFuzzer target for the membership protocol's binary codec: decode() must
// never crash on any input, and whatever it accepts must be valid, re-encode
// to the very same bytes (the encoding is canonical) and decode to the same
// message again. Any broken promise aborts, which libFuzzer reports.
//
// Random bytes almost never carry a correct CRC-32C, so each input is tried
// twice: as a whole frame, and as "type byte + payload" sealed into a frame
// with a correct length and checksum, which takes the fuzzer into the payload
// parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/protocol/binary_codec.h"

namespace {

using hcsim::core::Result;
using namespace hcsim::core::protocol;

void check(std::string_view frame) {
  const Result<SwimMessage> first = decode(frame);
  if (!first.is_ok()) {
    if (first.status().message().empty()) std::abort();  // every rejection says why
    return;
  }
  if (!validate(first.value()).is_ok()) std::abort();
  const std::string again = encode(first.value());
  if (again.size() != encoded_size(first.value())) std::abort();
  if (again != frame) std::abort();
  const Result<SwimMessage> second = decode(again);
  if (!second.is_ok() || !(second.value() == first.value())) std::abort();
}

std::string seal(std::string_view type_and_payload) {
  std::string f;
  f.push_back(static_cast<char>(kMagic));
  f.push_back(static_cast<char>(kVersion));
  f.push_back(type_and_payload[0]);
  std::size_t length = type_and_payload.size() - 1;
  while (length >= 0x80) {
    f.push_back(static_cast<char>((length & 0x7F) | 0x80));
    length >>= 7;
  }
  f.push_back(static_cast<char>(length));
  f.append(type_and_payload.substr(1));
  const std::uint32_t crc = crc32c(f);
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input);
  if (size >= 1 && size <= kMaxFrameBytes) check(seal(input));
  return 0;
}
