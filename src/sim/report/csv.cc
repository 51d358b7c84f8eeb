#include "sim/report/csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace hcsim::sim {

void CsvTable::add_row(std::vector<std::string> cells) {
  assert(cells.size() == header_.size());
  rows_.push_back(std::move(cells));
}

void CsvTable::set(std::size_t row, std::size_t column, std::string cell) {
  assert(row < rows_.size() && column < header_.size());
  rows_[row][column] = std::move(cell);
}

std::string CsvTable::render() const {
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += csv_escape(cells[i]);
    }
    out += '\n';
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string csv_escape(std::string_view cell) {
  if (cell.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(cell);
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    return fmt::format("{}", static_cast<std::int64_t>(value));
  }
  return fmt::format("{:.6g}", value);
}

std::string format_integer(std::uint64_t value) { return fmt::format("{}", value); }

namespace {

core::Status write_whole(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::Status::error(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return core::Status::error(fmt::format("{}: write failed: {}", path, std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return core::Status::error(fmt::format("{}: cannot flush: {}", path, std::strerror(errno)));
  }
  return core::Status::ok();
}

}  // namespace

core::Status write_files_atomically(const std::string& dir, const std::vector<OutputFile>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::Status::error(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
  std::vector<std::string> temps;
  const auto cleanup = [&] {
    for (const auto& t : temps) ::unlink(t.c_str());
  };
  for (const auto& f : files) {
    assert(!f.name.empty() && f.name.find('/') == std::string::npos);
    const std::string temp = fmt::format("{}/.{}.tmp.{}", dir, f.name, ::getpid());
    temps.push_back(temp);
    if (core::Status s = write_whole(temp, f.content); !s.is_ok()) {
      cleanup();
      return s;
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string target = dir + "/" + files[i].name;
    if (::rename(temps[i].c_str(), target.c_str()) != 0) {
      const int err = errno;
      for (std::size_t j = i; j < temps.size(); ++j) ::unlink(temps[j].c_str());
      return core::Status::error(fmt::format("{}: cannot rename into place: {}", target, std::strerror(err)));
    }
  }
  return core::Status::ok();
}

}  // namespace hcsim::sim
