// Debian's Abseil (20220623) is built with its own absl::string_view rather
// than std::string_view, so heterogeneous lookups need this conversion.
#pragma once

#include <string_view>

#include <absl/strings/string_view.h>

namespace hcsim::core {

inline absl::string_view to_absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace hcsim::core
