// CSV reports: a table of text cells rendered with RFC 4180 quoting, numbers
// formatted the same way on every machine, and a set of files written whole:
// each goes to a temporary name in the target directory and is renamed into
// place only after all of them were written, so an interrupted or failed run
// leaves either the old files or the new ones, never half a file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/status.h"

namespace hcsim::sim {

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // A row must have as many cells as the header (asserted).
  void add_row(std::vector<std::string> cells);
  // Replaces one cell of a row already added.
  void set(std::size_t row, std::size_t column, std::string cell);
  std::size_t rows() const { return rows_.size(); }
  const std::vector<std::string>& header() const { return header_; }
  std::string render() const;  // header line, then rows; "\n" line ends

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A cell, quoted only if it holds a comma, quote, CR or LF.
std::string csv_escape(std::string_view cell);
// Numbers: integers exactly; others with up to 6 significant digits in fixed
// or scientific notation as fmt's `{:.6g}`, never locale-dependent; NaN and
// infinities as "nan", "inf", "-inf".
std::string format_number(double value);
std::string format_integer(std::uint64_t value);

struct OutputFile {
  std::string name;     // file name inside the directory, no '/'
  std::string content;
};

// Creates `dir` (and parents) if needed, writes every file to a temporary
// name, fsyncs them, then renames each into place. On any error the
// temporaries are removed and the message names the path.
core::Status write_files_atomically(const std::string& dir, const std::vector<OutputFile>& files);

}  // namespace hcsim::sim
