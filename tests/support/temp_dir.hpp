#pragma once
// A fresh directory under std::filesystem::temp_directory_path(), removed with
// everything in it when the TempDir is destroyed.
#include <filesystem>
#include <string>
#include <string_view>

namespace logferry::test {

class TempDir {
 public:
  // Creates "<tmp>/<prefix>-XXXXXX"; throws std::runtime_error when it cannot.
  explicit TempDir(std::string_view prefix = "logferry-test");
  // Removes the directory tree (errors ignored).
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory's absolute path.
  const std::filesystem::path& path() const { return path_; }
  // path() / name.
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }
  // Writes `content` to path()/name (creating parent directories); returns the file's path.
  std::filesystem::path write_file(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

// The whole file as a string; "" when it cannot be read.
std::string read_file(const std::filesystem::path& file);

// Writes (replaces) a file; throws std::runtime_error on failure.
void write_file(const std::filesystem::path& file, std::string_view content);

}  // namespace logferry::test
