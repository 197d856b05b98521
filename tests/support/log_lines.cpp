#include "support/log_lines.hpp"

#include <fstream>

#include <fmt/format.h>

namespace logferry::test {

void append_lines(const std::filesystem::path& file, std::vector<std::string>& written, size_t count,
                  const std::string& tag, size_t width) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  std::string chunk;
  for (size_t i = 0; i < count; ++i) {
    std::string line = fmt::format("{} line {:07} ", tag, written.size());
    line.append(width > line.size() ? (width - line.size()) - (i % 7) : 0, static_cast<char>('a' + i % 26));
    chunk += line;
    chunk += '\n';
    written.push_back(std::move(line));
    if (chunk.size() > 64 * 1024) {
      out << chunk << std::flush;
      chunk.clear();
    }
  }
  out << chunk << std::flush;
}

}  // namespace logferry::test
