#include "sidecar/source/log_file_opener.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace logferry;
namespace fs = std::filesystem;

TEST_CASE("sidecar mode: a symlink is never opened, a regular file is", "[source][security]") {
  test::TempDir tmp;
  const auto secret = tmp.write_file("secret/token", "s3cret\n");
  const auto app = tmp.write_file("logs/app.log", "line\n");
  fs::create_symlink(secret, tmp / "logs/token.log");

  auto good = open_log_file(app.string(), LinkPolicy::refuse, "");
  CHECK(good.skip == SkipReason::none);
  CHECK(good.fd);
  CHECK(S_ISREG(good.st.st_mode));

  auto link = open_log_file((tmp / "logs/token.log").string(), LinkPolicy::refuse, "");
  CHECK(link.skip == SkipReason::symlink);
  CHECK_FALSE(link.fd);
  CHECK(skip_reason_name(link.skip) == "symlink");

  // The explicit opt-in follows it.
  auto followed = open_log_file((tmp / "logs/token.log").string(), LinkPolicy::follow, "");
  CHECK(followed.skip == SkipReason::none);
}

TEST_CASE("a FIFO or directory in place of a file is skipped without blocking", "[source][security]") {
  test::TempDir tmp;
  const auto fifo = (tmp / "x.log").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer: a blocking open would wait forever here.
  auto r = open_log_file(fifo, LinkPolicy::refuse, "");
  CHECK(r.skip == SkipReason::not_regular);
  CHECK_FALSE(r.fd);
  fs::create_directories(tmp / "dir.log");
  CHECK(open_log_file((tmp / "dir.log").string(), LinkPolicy::follow, "").skip == SkipReason::not_regular);
}

TEST_CASE("node mode: a link is followed only when its target is beneath the pods root", "[source][security]") {
  test::TempDir tmp;
  const auto inside = tmp.write_file("pods/ns_pod_uid/c/0.log", "in\n");
  const auto outside = tmp.write_file("etc/secret", "out\n");
  const auto plain = tmp.write_file("containers/plain.log", "plain\n");
  fs::create_symlink(inside, tmp / "containers/in.log");
  fs::create_symlink(outside, tmp / "containers/out.log");
  // A relative link climbing out of the root through it.
  fs::create_symlink("../pods/../etc/secret", tmp / "containers/climb.log");
  const std::string root = fs::canonical(tmp / "pods").string();

  CHECK(open_log_file((tmp / "containers/in.log").string(), LinkPolicy::beneath_root, root).skip == SkipReason::none);
  CHECK(open_log_file((tmp / "containers/out.log").string(), LinkPolicy::beneath_root, root).skip ==
        SkipReason::outside_root);
  CHECK(open_log_file((tmp / "containers/climb.log").string(), LinkPolicy::beneath_root, root).skip ==
        SkipReason::outside_root);
  // A regular file named directly is read wherever it is.
  CHECK(open_log_file(plain.string(), LinkPolicy::beneath_root, root).skip == SkipReason::none);
  // A sibling whose name merely starts with the root's is not beneath it.
  const auto sibling = tmp.write_file("pods-other/x.log", "x\n");
  fs::create_symlink(sibling, tmp / "containers/sib.log");
  CHECK(open_log_file((tmp / "containers/sib.log").string(), LinkPolicy::beneath_root, root).skip ==
        SkipReason::outside_root);
}
