#pragma once
// Distinct log lines appended to files by tests, remembered per file so that
// the store can be checked against them (store_reader.hpp: check_delivery).
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace logferry::test {

// The lines written, per file path, in write order.
using Written = std::map<std::string, std::vector<std::string>>;

// Appends `count` distinct lines ("<tag> line <n> " padded to about `width`
// bytes, the number counting `written`) to `file` in chunks, and appends them
// to `written`.
void append_lines(const std::filesystem::path& file, std::vector<std::string>& written, size_t count,
                  const std::string& tag, size_t width = 60);

}  // namespace logferry::test
