#include "sidecar/checkpoint/file_checkpoint_store.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <catch2/catch.hpp>
#include <fmt/format.h>

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
  CHECK(test::read_file(store.path()).starts_with("logferry-checkpoint-slot 1 "));
  CHECK_FALSE(std::filesystem::exists(store.legacy_path()));
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
    test::write_file(store.legacy_path() + ".new", FileCheckpointStore::serialize(sample()));
    auto loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == sample());
  }
  SECTION("torn temp file next to a good main file: the main file wins") {
    test::write_file(store.legacy_path(), FileCheckpointStore::serialize(sample()));
    test::write_file(store.legacy_path() + ".new", "logferry-checkpoints 1\nfile:9");
    auto loaded = store.load();
    REQUIRE(loaded.has_value());
    CHECK(*loaded == sample());
  }
}

namespace {

std::vector<CheckpointRecord> at_offset(uint64_t offset) {
  auto records = sample();
  records[0].offset = offset;
  return records;
}

}  // namespace

TEST_CASE("saves alternate between two slots in place; a torn newest slot leaves the previous save", "[checkpoint]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  REQUIRE_FALSE(store.save(at_offset(100)));  // builds the file: both slots hold save 1
  const auto size = std::filesystem::file_size(store.path());
  struct stat first {};
  REQUIRE(::stat(store.path().c_str(), &first) == 0);
  REQUIRE_FALSE(store.save(at_offset(200)));  // save 2: slot 0
  REQUIRE_FALSE(store.save(at_offset(300)));  // save 3: slot 1
  struct stat later {};
  REQUIRE(::stat(store.path().c_str(), &later) == 0);
  CHECK(later.st_ino == first.st_ino);  // written in place, not replaced
  CHECK(std::filesystem::file_size(store.path()) == size);
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == at_offset(300));
  // A crash tore save 3 (slot 1): one byte of its text changed. Save 2 is read.
  std::string file = test::read_file(store.path());
  const size_t slot1 = file.size() / 2;
  file[file.find("\n", slot1) + 10] ^= 1;
  test::write_file(store.path(), file);
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == at_offset(200));
  // Both torn: nothing is trusted, as with a torn text file.
  file[file.find("\n") + 10] ^= 1;
  test::write_file(store.path(), file);
  CHECK(FileCheckpointStore(tmp.path().string()).load().value().empty());
}

TEST_CASE("a restarted store goes on from the newest slot; records that outgrow a slot rebuild the file",
          "[checkpoint]") {
  test::TempDir tmp;
  {
    FileCheckpointStore store(tmp.path().string());
    REQUIRE_FALSE(store.save(at_offset(1)));
    REQUIRE_FALSE(store.save(at_offset(2)));
  }
  FileCheckpointStore store(tmp.path().string());
  REQUIRE(store.load().value() == at_offset(2));
  REQUIRE_FALSE(store.save(at_offset(3)));  // a later sequence than the slots hold
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == at_offset(3));
  std::vector<CheckpointRecord> many;
  for (int i = 0; i < 200; ++i) {
    many.push_back({fmt::format("file:1:{}:x", i), fmt::format("/var/log/pods/ns_pod_{}/c/0.log", i), 2049,
                    static_cast<uint64_t>(i), 256, 7, static_cast<uint64_t>(i) * 1000});
  }
  const auto small = std::filesystem::file_size(store.path());
  REQUIRE_FALSE(store.save(many));
  CHECK(std::filesystem::file_size(store.path()) > small);
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == many);
  REQUIRE_FALSE(store.save(at_offset(4)));  // and back in place
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == at_offset(4));
}

TEST_CASE("an earlier version's text file is read until the first save; the slots win afterwards", "[checkpoint]") {
  test::TempDir tmp;
  FileCheckpointStore store(tmp.path().string());
  test::write_file(store.legacy_path(), FileCheckpointStore::serialize(at_offset(50)));
  REQUIRE(store.load().value() == at_offset(50));
  REQUIRE_FALSE(store.save(at_offset(60)));
  CHECK(FileCheckpointStore(tmp.path().string()).load().value() == at_offset(60));
  CHECK(test::read_file(store.legacy_path()) == FileCheckpointStore::serialize(at_offset(50)));  // left as it was
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
