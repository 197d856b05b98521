#include "sidecar/source/glob_set.hpp"

#include <algorithm>

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
