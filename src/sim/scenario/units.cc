// Quantities with units, as written in scenario files: durations and sizes
// are exact integers (decimals allowed when the result is whole), rates and
// bandwidths are doubles. Every malformed or overflowing text is an error.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sim/scenario/scenario.h"

namespace hcsim::sim {
namespace {

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

constexpr std::uint64_t kNsPerUs = 1'000;
constexpr std::uint64_t kNsPerMs = 1'000'000;
constexpr std::uint64_t kNsPerS = 1'000'000'000;

constexpr std::array<Unit, 7> kDurationUnits{{
    {"ns", 1},
    {"us", kNsPerUs},
    {"\xC2\xB5s", kNsPerUs},  // µs (U+00B5 MICRO SIGN in UTF-8)
    {"ms", kNsPerMs},
    {"s", kNsPerS},
    {"m", 60 * kNsPerS},
    {"h", 3'600 * kNsPerS},
}};
constexpr std::string_view kDurationUnitList = "ns, us, ms, s, m, h";

constexpr std::array<Unit, 9> kSizeUnits{{
    {"B", 1},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
}};
constexpr std::string_view kSizeUnitList = "B, KB, MB, GB, TB, KiB, MiB, GiB, TiB";

struct RateUnit {
  std::string_view name;
  double factor;
};
constexpr std::array<RateUnit, 4> kRateUnits{{{"", 1.0}, {"/s", 1.0}, {"k/s", 1e3}, {"M/s", 1e6}}};

constexpr std::array<RateUnit, 6> kBitUnits{{
    {"bps", 1.0},
    {"Kbps", 1e3},
    {"kbps", 1e3},
    {"Mbps", 1e6},
    {"Gbps", 1e9},
    {"Tbps", 1e12},
}};

constexpr int kMaxFractionDigits = 18;  // 10^18 fits in a u64

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "<int>[.<frac>]<spaces><unit>", split but not yet interpreted.
struct Decimal {
  bool negative = false;
  std::string_view int_digits;
  std::string_view frac_digits;  // trailing zeros removed
  std::string_view unit;
};

// Splits `text` (already trimmed, non-empty); an error names `what`.
core::Result<Decimal> split_decimal(std::string_view text, std::string_view what, std::string_view units,
                                    std::string_view example) {
  Decimal d;
  std::string_view rest = text;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    d.negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  std::size_t i = 0;
  while (i < rest.size() && is_digit(rest[i])) ++i;
  if (i == 0) {
    return core::Status::error(
        fmt::format("'{}' is not a {}: expected a number and a unit ({}), e.g. {}", text, what, units, example));
  }
  d.int_digits = rest.substr(0, i);
  rest.remove_prefix(i);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    std::size_t j = 0;
    while (j < rest.size() && is_digit(rest[j])) ++j;
    if (j == 0) return core::Status::error(fmt::format("'{}': a digit must follow the decimal point", text));
    std::string_view frac = rest.substr(0, j);
    while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
    d.frac_digits = frac;
    rest.remove_prefix(j);
  }
  d.unit = trim(rest);
  if (d.unit.empty()) {
    return core::Status::error(
        fmt::format("'{}' has no unit: a {} needs one of {} (e.g. {})", text, what, units, example));
  }
  return d;
}

std::uint64_t pow10(int n) {
  std::uint64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// The exact value of `d` in base units, where its unit is `factor` base
// units; an error if it is not whole or does not fit in `max`.
core::Result<std::uint64_t> exact_value(std::string_view text, const Decimal& d, std::uint64_t factor,
                                        std::uint64_t max, std::string_view base_name) {
  const auto too_large = [&] { return core::Status::error(fmt::format("'{}' is too large", text)); };
  std::uint64_t int_part = 0;
  const auto [p, ec] = std::from_chars(d.int_digits.data(), d.int_digits.data() + d.int_digits.size(), int_part);
  if (ec != std::errc() || p != d.int_digits.data() + d.int_digits.size()) return too_large();
  std::uint64_t total = 0;
  if (__builtin_mul_overflow(int_part, factor, &total)) return too_large();
  if (!d.frac_digits.empty()) {
    const auto not_whole = [&] {
      return core::Status::error(fmt::format("'{}' is not a whole number of {}", text, base_name));
    };
    if (d.frac_digits.size() > static_cast<std::size_t>(kMaxFractionDigits)) return not_whole();
    std::uint64_t frac = 0;
    std::from_chars(d.frac_digits.data(), d.frac_digits.data() + d.frac_digits.size(), frac);
    // frac / 10^k units = frac * factor / 10^k base units; whole iff
    // (10^k / g) divides frac, g = gcd(factor, 10^k).
    const std::uint64_t denom = pow10(static_cast<int>(d.frac_digits.size()));
    const std::uint64_t g = std::gcd(factor, denom);
    const std::uint64_t reduced_denom = denom / g;
    if (frac % reduced_denom != 0) return not_whole();
    std::uint64_t frac_value = 0;
    if (__builtin_mul_overflow(frac / reduced_denom, factor / g, &frac_value)) return too_large();
    if (__builtin_add_overflow(total, frac_value, &total)) return too_large();
  }
  if (total > max) return too_large();
  return total;
}

template <std::size_t N>
const Unit* find_unit(const std::array<Unit, N>& units, std::string_view name) {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

// A non-negative decimal with an optional exponent, then a unit: for the
// double-valued quantities (rates, bandwidths).
struct Real {
  double value = 0.0;
  std::string_view unit;
};

core::Result<Real> split_real(std::string_view text, std::string_view what, std::string_view units,
                              std::string_view example) {
  if (!text.empty() && text.front() == '-') {
    return core::Status::error(fmt::format("'{}': a {} must not be negative", text, what));
  }
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0) {
    return core::Status::error(
        fmt::format("'{}' is not a {}: expected a number and a unit ({}), e.g. {}", text, what, units, example));
  }
  if (i < text.size() && text[i] == '.') {
    std::size_t j = i + 1;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == i + 1) return core::Status::error(fmt::format("'{}': a digit must follow the decimal point", text));
    i = j;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {  // exponent only when digits follow
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    const std::size_t digits_start = j;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j > digits_start) i = j;
  }
  Real r;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + i, r.value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && !std::isfinite(r.value))) {
    return core::Status::error(fmt::format("'{}' is too large", text));
  }
  if (ec != std::errc() || p != text.data() + i) {
    return core::Status::error(fmt::format("'{}' is not a {}", text, what));
  }
  r.unit = trim(text.substr(i));
  return r;
}

core::Result<double> checked_product(std::string_view text, double value, double factor) {
  const double v = value * factor;
  if (!std::isfinite(v)) return core::Status::error(fmt::format("'{}' is too large", text));
  return v;
}

std::string empty_error(std::string_view what) { return fmt::format("empty {}", what); }

}  // namespace

core::Result<TimeNs> parse_duration(std::string_view text_in) {
  const std::string_view text = trim(text_in);
  if (text.empty()) return core::Status::error(empty_error("duration"));
  auto split = split_decimal(text, "duration", kDurationUnitList, "250us");
  if (!split.is_ok()) return split.status();
  const Decimal& d = split.value();
  const Unit* unit = find_unit(kDurationUnits, d.unit);
  if (unit == nullptr) {
    return core::Status::error(
        fmt::format("'{}': unknown duration unit '{}' (use {})", text, d.unit, kDurationUnitList));
  }
  auto value =
      exact_value(text, d, unit->factor, static_cast<std::uint64_t>(std::numeric_limits<TimeNs>::max()), "nanoseconds");
  if (!value.is_ok()) return value.status();
  const auto ns = static_cast<TimeNs>(value.value());
  return d.negative ? -ns : ns;
}

core::Result<std::uint64_t> parse_bytes(std::string_view text_in) {
  const std::string_view text = trim(text_in);
  if (text.empty()) return core::Status::error(empty_error("size"));
  auto split = split_decimal(text, "size", kSizeUnitList, "64MiB");
  if (!split.is_ok()) return split.status();
  const Decimal& d = split.value();
  if (d.negative) return core::Status::error(fmt::format("'{}': a size must not be negative", text));
  const Unit* unit = find_unit(kSizeUnits, d.unit);
  if (unit == nullptr) {
    return core::Status::error(fmt::format("'{}': unknown size unit '{}' (use {})", text, d.unit, kSizeUnitList));
  }
  return exact_value(text, d, unit->factor, std::numeric_limits<std::uint64_t>::max(), "bytes");
}

core::Result<double> parse_rate(std::string_view text_in) {
  const std::string_view text = trim(text_in);
  if (text.empty()) return core::Status::error(empty_error("rate"));
  auto split = split_real(text, "rate", "/s, k/s, M/s", "50k/s");
  if (!split.is_ok()) return split.status();
  for (const RateUnit& u : kRateUnits) {
    if (u.name == split.value().unit) return checked_product(text, split.value().value, u.factor);
  }
  return core::Status::error(fmt::format(
      "'{}': unknown rate unit '{}' (write requests per second as 1000/s, 50k/s or 2M/s)", text, split.value().unit));
}

core::Result<double> parse_bandwidth(std::string_view text_in) {
  const std::string_view text = trim(text_in);
  if (text.empty()) return core::Status::error(empty_error("bandwidth"));
  if (text == "unlimited") return 0.0;
  constexpr std::string_view kUnits = "B/s, KB/s, MiB/s, ... or bps, Kbps, Mbps, Gbps, Tbps";
  auto split = split_real(text, "bandwidth", kUnits, "1GB/s or 10Gbps");
  if (!split.is_ok()) return split.status();
  const Real& r = split.value();
  if (r.unit.empty()) {
    return core::Status::error(
        fmt::format("'{}' has no unit: a bandwidth needs one of {} (or 'unlimited')", text, kUnits));
  }
  double factor = 0.0;  // bytes per second per unit
  if (r.unit.size() > 2 && r.unit.substr(r.unit.size() - 2) == "/s") {
    if (const Unit* u = find_unit(kSizeUnits, r.unit.substr(0, r.unit.size() - 2))) {
      factor = static_cast<double>(u->factor);
    }
  }
  for (const RateUnit& u : kBitUnits) {
    if (factor == 0.0 && u.name == r.unit) factor = u.factor / 8.0;
  }
  if (factor == 0.0) {
    return core::Status::error(
        fmt::format("'{}': unknown bandwidth unit '{}' (use {}, or 'unlimited')", text, r.unit, kUnits));
  }
  auto value = checked_product(text, r.value, factor);
  if (value.is_ok() && value.value() == 0.0) {
    return core::Status::error(
        fmt::format("'{}': a bandwidth must be greater than 0 (write 'unlimited' for no limit)", text));
  }
  return value;
}

std::string format_duration(TimeNs ns) {
  // The magnitude as unsigned, so that the most negative value works too.
  const bool negative = ns < 0;
  const std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  const char* sign = negative ? "-" : "";
  if (mag == 0) return "0s";
  if (mag % kNsPerS == 0) return fmt::format("{}{}s", sign, mag / kNsPerS);
  if (mag % kNsPerMs == 0) return fmt::format("{}{}ms", sign, mag / kNsPerMs);
  if (mag % kNsPerUs == 0) return fmt::format("{}{}us", sign, mag / kNsPerUs);
  return fmt::format("{}{}ns", sign, mag);
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  if (bytes % (1ull << 30) == 0) return fmt::format("{}GiB", bytes >> 30);
  if (bytes % (1ull << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
  if (bytes % (1ull << 10) == 0) return fmt::format("{}KiB", bytes >> 10);
  return fmt::format("{}B", bytes);
}

}  // namespace hcsim::sim
