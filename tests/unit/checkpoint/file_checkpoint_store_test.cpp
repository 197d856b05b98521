#include "sidecar/checkpoint/file_checkpoint_store.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "sidecar/core/private_dir.hpp"

#include "support/temp_dir.hpp"

using namespace logferry;

namespace {
std::vector<CheckpointRecord> sample() {
  return {{"file:1:2:abc", "/var/log/app/web.log", 2049, 131074, 256, 0x1234567890abcdefull, 987654},
          {"file:1:3:def", "/logs/with space/and%percent\n.log", 2049, 7, 12, 42, 0}};
}
}  // namespace

TEST_CASE("checkpoints round-trip through the versioned file", "[checkpoint]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  auto empty = store.load();
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  REQUIRE_FALSE(store.save(sample()));
  auto loaded = store.load();
  REQUIRE(loaded.has_value());
  CHECK(*loaded == sample());
  CHECK(test::read_file(store.path()).starts_with("logferry-checkpoints 1\n"));
}

TEST_CASE("a torn or foreign file is not trusted", "[checkpoint]") {
  const std::string good = FileCheckpointStore::serialize(sample());
  CHECK(FileCheckpointStore::parse(good).has_value());
  CHECK_FALSE(FileCheckpointStore::parse(good.substr(0, good.size() - 3)).has_value());  // cut in "end"
  CHECK_FALSE(FileCheckpointStore::parse(good.substr(0, good.find("end"))).has_value()); // no "end"
  CHECK_FALSE(FileCheckpointStore::parse("logferry-checkpoints 2\nend 0\n").has_value());
  CHECK_FALSE(FileCheckpointStore::parse("garbage").has_value());
  CHECK_FALSE(FileCheckpointStore::parse("logferry-checkpoints 1\nend 1\n").has_value());  // count mismatch
}

TEST_CASE("an interrupted save is recovered on start", "[checkpoint]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  SECTION("complete temp file, main file missing: the temp file is used") {
    test::write_file(store.path() + ".new", FileCheckpointStore::serialize(sample()));
    auto loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == sample());
  }
  SECTION("torn temp file next to a good main file: the main file wins") {
    REQUIRE_FALSE(store.save(sample()));
    test::write_file(store.path() + ".new", "logferry-checkpoints 1\nfile:9");
    auto loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == sample());
  }
}

TEST_CASE("checkpoint files are 0600 and created directories 0700, whatever the umask", "[checkpoint][security]") {
  test::TempDir tmp;
  const std::string dir = (tmp / "state/nested").string();
  const mode_t old = ::umask(0);
  const auto ec = create_private_directories(dir);
  FileCheckpointStore store(dir);
  const auto saved = store.save(sample());
  ::umask(old);
  REQUIRE_FALSE(ec);
  REQUIRE_FALSE(saved);
  struct stat st {};
  REQUIRE(::stat(store.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::stat((tmp / "state").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
}

TEST_CASE("a link or FIFO planted in the checkpoint directory is neither followed nor waited on",
          "[checkpoint][security]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  const auto victim = tmp.write_file("victim.txt", "keep me\n");
  // A link at the temporary path: the save replaces it, the target is untouched.
  std::filesystem::create_symlink(victim, store.path() + ".new");
  REQUIRE_FALSE(store.save(sample()));
  CHECK(test::read_file(victim) == "keep me\n");
  // A link as the main file: not trusted (not read through), like a torn file.
  std::filesystem::remove(store.path());
  std::filesystem::remove(store.path() + ".new");
  test::write_file(tmp / "elsewhere", FileCheckpointStore::serialize(sample()));
  std::filesystem::create_symlink(tmp / "elsewhere", store.path());
  auto loaded = store.load();
  REQUIRE(loaded.has_value());
  CHECK(loaded->empty());
  // A FIFO as the main file: load returns at once.
  std::filesystem::remove(store.path());
  REQUIRE(::mkfifo(store.path().c_str(), 0600) == 0);
  loaded = store.load();
  REQUIRE(loaded.has_value());
  CHECK(loaded->empty());
}

TEST_CASE("ids and paths read back from a checkpoint file are valid UTF-8", "[checkpoint][security]") {
  const auto parsed = FileCheckpointStore::parse("logferry-checkpoints 1\nfile:%E9 1 2 0 0 0 /logs/caf%E9.log\nend 1\n");
  REQUIRE(parsed.has_value());
  REQUIRE(parsed->size() == 1);
  CHECK((*parsed)[0].id == "file:\xEF\xBF\xBD");
  CHECK((*parsed)[0].path == "/logs/caf\xEF\xBF\xBD.log");
}
