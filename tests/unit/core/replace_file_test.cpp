#include "sidecar/core/replace_file.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;
using logferry::test::read_file;
using logferry::test::TempDir;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Sets the process's umask for the scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("replace_file writes the new contents under the name and leaves no temporary file", "[core]") {
  TempDir tmp("logferry-replace");
  const fs::path file = tmp / "state";
  const fs::path temp = tmp / "state.tmp";
  const auto sync = GENERATE(FileSync::none, FileSync::file, FileSync::file_and_directory);
  REQUIRE_FALSE(replace_file(file, temp, "first\n", {0600, sync, FileModeUmask::ignored}));
  CHECK(read_file(file) == "first\n");
  REQUIRE_FALSE(replace_file(file, temp, "second\n", {0600, sync, FileModeUmask::ignored}));
  CHECK(read_file(file) == "second\n");
  CHECK_FALSE(fs::exists(temp));
  // Larger than one write usually takes on a pipe or a busy disk: every byte arrives.
  std::string big(8u << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  REQUIRE_FALSE(replace_file(file, temp, big, {0600, sync, FileModeUmask::ignored}));
  CHECK(read_file(file) == big);
}

TEST_CASE("replace_file gives the file its mode exactly, or as the umask narrows it when asked", "[core]") {
  TempDir tmp("logferry-replace");
  const ScopedUmask mask(077);
  REQUIRE_FALSE(replace_file(tmp / "exact", tmp / "exact.tmp", "x", {0640, FileSync::none, FileModeUmask::ignored}));
  CHECK(mode_of(tmp / "exact") == 0640);
  REQUIRE_FALSE(replace_file(tmp / "narrowed", tmp / "narrowed.tmp", "x", {0640, FileSync::none, FileModeUmask::applies}));
  CHECK(mode_of(tmp / "narrowed") == 0600);
}

TEST_CASE("replace_file replaces a symlink at the temporary path instead of writing through it", "[core]") {
  TempDir tmp("logferry-replace");
  const fs::path victim = tmp.write_file("victim", "untouched");
  fs::create_symlink(victim, tmp / "state.tmp");
  REQUIRE_FALSE(replace_file(tmp / "state", tmp / "state.tmp", "new", {0600, FileSync::file, FileModeUmask::ignored}));
  CHECK(read_file(victim) == "untouched");
  CHECK(read_file(tmp / "state") == "new");
  CHECK_FALSE(fs::is_symlink(tmp / "state"));
}

TEST_CASE("replace_file reports errors: nothing is left behind before the rename, the complete file after it", "[core]") {
  TempDir tmp("logferry-replace");
  // No such directory: the temporary file cannot be created.
  const auto missing = replace_file(tmp / "missing" / "state", tmp / "missing" / "state.tmp", "x", {});
  CHECK(missing.value() == ENOENT);
  // The name is a non-empty directory: the rename fails, the complete temporary file stays.
  fs::create_directories(tmp / "state" / "inside");
  const auto blocked = replace_file(tmp / "state", tmp / "state.tmp", "complete", {});
  CHECK(blocked);
  CHECK(read_file(tmp / "state.tmp") == "complete");
}
