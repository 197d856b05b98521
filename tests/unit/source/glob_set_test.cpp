#include "sidecar/source/glob_set.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;

TEST_CASE("globs match within segments and ** across them", "[source]") {
  GlobSet g({"/var/log/app/*.log", "/data/**/*.json"});
  CHECK(g.matches("/var/log/app/web.log"));
  CHECK_FALSE(g.matches("/var/log/app/web.log.1"));
  CHECK_FALSE(g.matches("/var/log/app/sub/web.log"));
  CHECK(g.matches("/data/x.json"));
  CHECK(g.matches("/data/a/b/c/x.json"));
  CHECK_FALSE(g.matches("/data/a/x.txt"));
}

TEST_CASE("scan finds matching files and the directories to watch", "[source]") {
  test::TempDir tmp;
  tmp.write_file("logs/a.log", "");
  tmp.write_file("logs/b.txt", "");
  tmp.write_file("logs/deep/er/c.log", "");
  GlobSet g({(tmp / "logs/*.log").string(), (tmp / "logs/**/c.log").string()});
  std::vector<std::string> files, dirs;
  g.scan(files, dirs);
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{(tmp / "logs/a.log").string(), (tmp / "logs/deep/er/c.log").string()});
  CHECK(std::find(dirs.begin(), dirs.end(), (tmp / "logs").string()) != dirs.end());
  CHECK(std::find(dirs.begin(), dirs.end(), (tmp / "logs/deep/er").string()) != dirs.end());
}

TEST_CASE("scan reports links and special files apart and never follows them", "[source][security]") {
  test::TempDir tmp;
  tmp.write_file("logs/a.log", "");
  tmp.write_file("secret/token", "");
  tmp.write_file("secret/inner.log", "");
  std::filesystem::create_symlink(tmp / "secret/token", tmp / "logs/token.log");
  std::filesystem::create_symlink(tmp / "secret", tmp / "logs/dir.log");
  std::filesystem::create_symlink(tmp / "secret", tmp / "logs/sub");
  GlobSet g({(tmp / "logs/**/*.log").string()});
  std::vector<std::string> files, dirs, special;
  g.scan(files, dirs, &special);
  std::sort(special.begin(), special.end());
  CHECK(files == std::vector<std::string>{(tmp / "logs/a.log").string()});
  CHECK(special == std::vector<std::string>{(tmp / "logs/dir.log").string(), (tmp / "logs/token.log").string()});
  // The linked directory is neither watched nor descended into.
  CHECK(std::find(dirs.begin(), dirs.end(), (tmp / "logs/sub").string()) == dirs.end());
}

namespace {

// Sets a directory's mtime into the past (its ctime becomes now: only a
// DirListings with no settle time trusts it at once).
void age(const std::filesystem::path& dir) {
  const timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
  REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), old, 0) == 0);
}

}  // namespace

TEST_CASE("listings of unchanged directories are reused, changed ones are read again", "[source]") {
  test::TempDir tmp;
  tmp.write_file("logs/a.log", "");
  tmp.write_file("logs/sub/b.log", "");
  age(tmp / "logs");
  age(tmp / "logs/sub");
  GlobSet g({(tmp / "logs/**/*.log").string()});
  DirListings listings(std::chrono::seconds(0));
  std::vector<std::string> files, dirs, special;
  g.scan(files, dirs, &special, &listings);
  CHECK(listings.listed() == 2);
  CHECK(files.size() == 2);
  files.clear(), dirs.clear();
  g.scan(files, dirs, &special, &listings);
  CHECK(listings.listed() == 2);  // nothing read again
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{(tmp / "logs/a.log").string(), (tmp / "logs/sub/b.log").string()});
  CHECK(std::find(dirs.begin(), dirs.end(), (tmp / "logs/sub").string()) != dirs.end());
  // A new file changes its directory's mtime: only that directory is read again.
  tmp.write_file("logs/sub/c.log", "");
  files.clear(), dirs.clear();
  g.scan(files, dirs, &special, &listings);
  CHECK(listings.listed() == 3);
  CHECK(files.size() == 3);
  // A removed directory is forgotten, and its files are gone from the scan.
  std::filesystem::remove_all(tmp / "logs/sub");
  files.clear(), dirs.clear();
  g.scan(files, dirs, &special, &listings);
  CHECK(files == std::vector<std::string>{(tmp / "logs/a.log").string()});
}

TEST_CASE("a directory changed moments before its listing is read again on the next scan", "[source]") {
  // File times come from a coarse clock: an entry added in the same tick as
  // the change before the listing would not move the mtime. Until the change
  // is `settle` old, every scan reads the directory.
  test::TempDir tmp;
  tmp.write_file("logs/a.log", "");
  GlobSet g({(tmp / "logs/*.log").string()});
  DirListings listings;  // settle 2 s
  std::vector<std::string> files, dirs;
  g.scan(files, dirs, nullptr, &listings);
  g.scan(files, dirs, nullptr, &listings);
  CHECK(listings.listed() == 2);
  CHECK(files.size() == 2);
}

TEST_CASE("a scan without listings reads every directory, and one directory once per scan", "[source]") {
  test::TempDir tmp;
  tmp.write_file("logs/a.log", "");
  tmp.write_file("logs/b.txt", "");
  // Two patterns with the same base directory.
  GlobSet g({(tmp / "logs/*.log").string(), (tmp / "logs/*.txt").string()});
  DirListings listings;
  std::vector<std::string> files, dirs;
  g.scan(files, dirs, nullptr, &listings);
  CHECK(listings.listed() == 1);
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{(tmp / "logs/a.log").string(), (tmp / "logs/b.txt").string()});
  CHECK(dirs == std::vector<std::string>{(tmp / "logs").string()});
}
