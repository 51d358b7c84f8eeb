// Status: the result of an operation that can fail on bad input. Core code
// returns these instead of throwing or crashing; the message is for humans.
#pragma once

#include <string>
#include <utility>

namespace hcsim::core {

class [[nodiscard]] Status {
 public:
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_ = false;
  std::string message_;
};

}  // namespace hcsim::core
