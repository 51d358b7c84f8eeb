// Units of scenario quantities: every accepted form with its exact value,
// every rejected form with its message, and canonical formatting.
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "sim/scenario/scenario.h"

namespace hcsim::sim {
namespace {

TimeNs duration_ok(const std::string& text) {
  const auto r = parse_duration(text);
  EXPECT_TRUE(r.is_ok()) << text << ": " << r.status().message();
  return r.is_ok() ? r.value() : -1;
}

std::string duration_error(const std::string& text) {
  const auto r = parse_duration(text);
  EXPECT_FALSE(r.is_ok()) << text << " parsed as " << (r.is_ok() ? r.value() : 0);
  return r.is_ok() ? "" : r.status().message();
}

std::uint64_t bytes_ok(const std::string& text) {
  const auto r = parse_bytes(text);
  EXPECT_TRUE(r.is_ok()) << text << ": " << r.status().message();
  return r.is_ok() ? r.value() : 0;
}

std::string bytes_error(const std::string& text) {
  const auto r = parse_bytes(text);
  EXPECT_FALSE(r.is_ok()) << text << " parsed as " << (r.is_ok() ? r.value() : 0);
  return r.is_ok() ? "" : r.status().message();
}

double rate_ok(const std::string& text) {
  const auto r = parse_rate(text);
  EXPECT_TRUE(r.is_ok()) << text << ": " << r.status().message();
  return r.is_ok() ? r.value() : -1.0;
}

std::string rate_error(const std::string& text) {
  const auto r = parse_rate(text);
  EXPECT_FALSE(r.is_ok()) << text << " parsed as " << (r.is_ok() ? r.value() : 0.0);
  return r.is_ok() ? "" : r.status().message();
}

double bandwidth_ok(const std::string& text) {
  const auto r = parse_bandwidth(text);
  EXPECT_TRUE(r.is_ok()) << text << ": " << r.status().message();
  return r.is_ok() ? r.value() : -1.0;
}

std::string bandwidth_error(const std::string& text) {
  const auto r = parse_bandwidth(text);
  EXPECT_FALSE(r.is_ok()) << text << " parsed as " << (r.is_ok() ? r.value() : 0.0);
  return r.is_ok() ? "" : r.status().message();
}

TEST(Units, DurationsInEveryUnit) {
  EXPECT_EQ(duration_ok("1ns"), 1);
  EXPECT_EQ(duration_ok("250us"), 250'000);
  EXPECT_EQ(duration_ok("250\xC2\xB5s"), 250'000);  // µs
  EXPECT_EQ(duration_ok("3ms"), 3'000'000);
  EXPECT_EQ(duration_ok("10s"), 10'000'000'000);
  EXPECT_EQ(duration_ok("2m"), 120'000'000'000);
  EXPECT_EQ(duration_ok("1h"), 3'600'000'000'000);
  EXPECT_EQ(duration_ok("0s"), 0);
  EXPECT_EQ(duration_ok("0ns"), 0);
}

TEST(Units, DurationsWithDecimalsSignsAndSpaces) {
  EXPECT_EQ(duration_ok("1.5s"), 1'500'000'000);
  EXPECT_EQ(duration_ok("0.5us"), 500);
  EXPECT_EQ(duration_ok("2.250ms"), 2'250'000);
  EXPECT_EQ(duration_ok("1.000000000000000000000s"), 1'000'000'000);  // trailing zeros are exact
  EXPECT_EQ(duration_ok("0.001ms"), 1'000);
  EXPECT_EQ(duration_ok("0.000000001s"), 1);
  EXPECT_EQ(duration_ok("1.25h"), 4'500'000'000'000);
  EXPECT_EQ(duration_ok("-5s"), -5'000'000'000);  // callers check the sign, with their own message
  EXPECT_EQ(duration_ok("10 ms"), 10'000'000);
  EXPECT_EQ(duration_ok("  7us "), 7'000);
  EXPECT_EQ(duration_ok("9223372036854775807ns"), std::numeric_limits<TimeNs>::max());
}

TEST(Units, DurationErrors) {
  EXPECT_EQ(duration_error(""), "empty duration");
  EXPECT_EQ(duration_error("   "), "empty duration");
  EXPECT_EQ(duration_error("10"), "'10' has no unit: a duration needs one of ns, us, ms, s, m, h (e.g. 250us)");
  EXPECT_EQ(duration_error("10 parsecs"), "'10 parsecs': unknown duration unit 'parsecs' (use ns, us, ms, s, m, h)");
  EXPECT_EQ(duration_error("5xs"), "'5xs': unknown duration unit 'xs' (use ns, us, ms, s, m, h)");
  EXPECT_EQ(duration_error("5S"), "'5S': unknown duration unit 'S' (use ns, us, ms, s, m, h)");
  EXPECT_EQ(duration_error("fast"),
            "'fast' is not a duration: expected a number and a unit (ns, us, ms, s, m, h), e.g. 250us");
  EXPECT_EQ(duration_error(".5s"),
            "'.5s' is not a duration: expected a number and a unit (ns, us, ms, s, m, h), e.g. 250us");
  EXPECT_EQ(duration_error("1.s"), "'1.s': a digit must follow the decimal point");
  EXPECT_EQ(duration_error("1.5ns"), "'1.5ns' is not a whole number of nanoseconds");
  EXPECT_EQ(duration_error("0.0001us"), "'0.0001us' is not a whole number of nanoseconds");
  EXPECT_EQ(duration_error("0.0000000000000000001s"), "'0.0000000000000000001s' is not a whole number of nanoseconds");
  EXPECT_EQ(duration_error("9223372036854775808ns"), "'9223372036854775808ns' is too large");
  EXPECT_EQ(duration_error("2562048h"), "'2562048h' is too large");  // 2562048h > 2^63 ns
  EXPECT_EQ(duration_error("99999999999999999999s"), "'99999999999999999999s' is too large");
  EXPECT_EQ(duration_error("1e3s"), "'1e3s': unknown duration unit 'e3s' (use ns, us, ms, s, m, h)");
}

TEST(Units, SizesInEveryUnit) {
  EXPECT_EQ(bytes_ok("0B"), 0u);
  EXPECT_EQ(bytes_ok("1B"), 1u);
  EXPECT_EQ(bytes_ok("1KB"), 1'000u);
  EXPECT_EQ(bytes_ok("2MB"), 2'000'000u);
  EXPECT_EQ(bytes_ok("3GB"), 3'000'000'000u);
  EXPECT_EQ(bytes_ok("1TB"), 1'000'000'000'000u);
  EXPECT_EQ(bytes_ok("1KiB"), 1'024u);
  EXPECT_EQ(bytes_ok("64MiB"), 67'108'864u);
  EXPECT_EQ(bytes_ok("2GiB"), 2'147'483'648u);
  EXPECT_EQ(bytes_ok("1TiB"), 1'099'511'627'776u);
  EXPECT_EQ(bytes_ok("1.5KiB"), 1'536u);
  EXPECT_EQ(bytes_ok("0.5KB"), 500u);
  EXPECT_EQ(bytes_ok("18446744073709551615B"), std::numeric_limits<std::uint64_t>::max());
}

TEST(Units, SizeErrors) {
  EXPECT_EQ(bytes_error(""), "empty size");
  EXPECT_EQ(bytes_error("10"),
            "'10' has no unit: a size needs one of B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 64MiB)");
  EXPECT_EQ(bytes_error("10kb"), "'10kb': unknown size unit 'kb' (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  EXPECT_EQ(bytes_error("1.5B"), "'1.5B' is not a whole number of bytes");
  EXPECT_EQ(bytes_error("0.0001KiB"), "'0.0001KiB' is not a whole number of bytes");
  EXPECT_EQ(bytes_error("-1B"), "'-1B': a size must not be negative");
  EXPECT_EQ(bytes_error("18446744073709551616B"), "'18446744073709551616B' is too large");
  EXPECT_EQ(bytes_error("16777216TiB"), "'16777216TiB' is too large");  // 2^24 * 2^40 = 2^64
  EXPECT_EQ(bytes_error("big"),
            "'big' is not a size: expected a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 64MiB");
}

TEST(Units, Rates) {
  EXPECT_EQ(rate_ok("50k/s"), 50'000.0);
  EXPECT_EQ(rate_ok("2M/s"), 2'000'000.0);
  EXPECT_EQ(rate_ok("1000/s"), 1'000.0);
  EXPECT_EQ(rate_ok("1000"), 1'000.0);
  EXPECT_EQ(rate_ok("0.5/s"), 0.5);
  EXPECT_EQ(rate_ok("1.5k/s"), 1'500.0);
  EXPECT_EQ(rate_ok("1e+06/s"), 1'000'000.0);  // the form to_yaml may print
  EXPECT_EQ(rate_ok("0"), 0.0);                // callers require > 0
}

TEST(Units, RateErrors) {
  EXPECT_EQ(rate_error(""), "empty rate");
  EXPECT_EQ(rate_error("fast"), "'fast' is not a rate: expected a number and a unit (/s, k/s, M/s), e.g. 50k/s");
  EXPECT_EQ(rate_error("50k/min"),
            "'50k/min': unknown rate unit 'k/min' (write requests per second as 1000/s, 50k/s or 2M/s)");
  EXPECT_EQ(rate_error("5G/s"), "'5G/s': unknown rate unit 'G/s' (write requests per second as 1000/s, 50k/s or 2M/s)");
  EXPECT_EQ(rate_error("-5/s"), "'-5/s': a rate must not be negative");
  EXPECT_EQ(rate_error("1e400/s"), "'1e400/s' is too large");
  EXPECT_EQ(rate_error("1e308M/s"), "'1e308M/s' is too large");
}

TEST(Units, Bandwidths) {
  EXPECT_EQ(bandwidth_ok("unlimited"), 0.0);
  EXPECT_EQ(bandwidth_ok("1GB/s"), 1e9);
  EXPECT_EQ(bandwidth_ok("100MiB/s"), 104'857'600.0);
  EXPECT_EQ(bandwidth_ok("10Gbps"), 1.25e9);
  EXPECT_EQ(bandwidth_ok("100Mbps"), 12'500'000.0);
  EXPECT_EQ(bandwidth_ok("1Kbps"), 125.0);
  EXPECT_EQ(bandwidth_ok("1kbps"), 125.0);
  EXPECT_EQ(bandwidth_ok("8bps"), 1.0);
  EXPECT_EQ(bandwidth_ok("1bps"), 0.125);
  EXPECT_EQ(bandwidth_ok("1.5KB/s"), 1'500.0);
  EXPECT_EQ(bandwidth_ok("1250000000B/s"), 1.25e9);
}

TEST(Units, BandwidthErrors) {
  EXPECT_EQ(bandwidth_error(""), "empty bandwidth");
  EXPECT_EQ(bandwidth_error("10"),
            "'10' has no unit: a bandwidth needs one of B/s, KB/s, MiB/s, ... or bps, Kbps, Mbps, Gbps, Tbps (or "
            "'unlimited')");
  EXPECT_EQ(bandwidth_error("10Gb"),
            "'10Gb': unknown bandwidth unit 'Gb' (use B/s, KB/s, MiB/s, ... or bps, Kbps, Mbps, Gbps, Tbps, or "
            "'unlimited')");
  EXPECT_EQ(bandwidth_error("10 furlongs/s"),
            "'10 furlongs/s': unknown bandwidth unit 'furlongs/s' (use B/s, KB/s, MiB/s, ... or bps, Kbps, Mbps, "
            "Gbps, Tbps, or 'unlimited')");
  EXPECT_EQ(bandwidth_error("0Gbps"), "'0Gbps': a bandwidth must be greater than 0 (write 'unlimited' for no limit)");
  EXPECT_EQ(bandwidth_error("-1GB/s"), "'-1GB/s': a bandwidth must not be negative");
  EXPECT_EQ(bandwidth_error("1e308TiB/s"), "'1e308TiB/s' is too large");
  EXPECT_EQ(bandwidth_error("Unlimited"),
            "'Unlimited' is not a bandwidth: expected a number and a unit (B/s, KB/s, MiB/s, ... or bps, Kbps, "
            "Mbps, Gbps, Tbps), e.g. 1GB/s or 10Gbps");
}

TEST(Units, FormatDurationPicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(1), "1ns");
  EXPECT_EQ(format_duration(1'500), "1500ns");
  EXPECT_EQ(format_duration(250'000), "250us");
  EXPECT_EQ(format_duration(1'500'000'000), "1500ms");
  EXPECT_EQ(format_duration(10'000'000'000), "10s");
  EXPECT_EQ(format_duration(120'000'000'000), "120s");  // no minutes
  EXPECT_EQ(format_duration(-5'000'000'000), "-5s");
  EXPECT_EQ(format_duration(std::numeric_limits<TimeNs>::min()), "-9223372036854775808ns");
}

TEST(Units, FormatBytesPicksTheLargestExactUnit) {
  EXPECT_EQ(format_bytes(0), "0B");
  EXPECT_EQ(format_bytes(1'000), "1000B");
  EXPECT_EQ(format_bytes(1'024), "1KiB");
  EXPECT_EQ(format_bytes(1'536), "1536B");
  EXPECT_EQ(format_bytes(64ull << 20), "64MiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3GiB");
  EXPECT_EQ(format_bytes(1ull << 40), "1024GiB");
  EXPECT_EQ(format_bytes((1ull << 20) + (1ull << 10)), "1025KiB");
}

TEST(Units, FormattedValuesParseBackExactly) {
  for (const TimeNs v : {TimeNs{0}, TimeNs{1}, TimeNs{999}, TimeNs{1'000}, TimeNs{1'001'000}, TimeNs{-7'000'000},
                         TimeNs{604'800'000'000'000}, std::numeric_limits<TimeNs>::max()}) {
    EXPECT_EQ(duration_ok(format_duration(v)), v) << v;
  }
  for (const std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1'000}, std::uint64_t{4'096},
                                std::uint64_t{5} << 30, std::numeric_limits<std::uint64_t>::max()}) {
    EXPECT_EQ(bytes_ok(format_bytes(v)), v) << v;
  }
}

}  // namespace
}  // namespace hcsim::sim
