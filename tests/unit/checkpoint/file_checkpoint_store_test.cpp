#include "sidecar/checkpoint/file_checkpoint_store.hpp"

#include <catch2/catch.hpp>

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

TEST_CASE("the checkpoint file is readable by its owner only", "[checkpoint]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  REQUIRE_FALSE(store.save(sample()));
  const auto perms = std::filesystem::status(store.path()).permissions();
  CHECK((perms & std::filesystem::perms::all) == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
}
