#pragma once
// Reads what the reference aggregator stored (every *.ndjson segment under a
// data directory) so end-to-end tests can check each line arrived once.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace logferry::test {

struct StoredEntry {
  std::string source_id;
  std::string source_path;
  uint64_t offset = 0;
  std::string body;  // string bodies only ("" otherwise)
  std::string file;  // the segment it was read from
  // The resource's string attributes (k8s.pod.name, ...): with StoredFields::resource only.
  std::map<std::string, std::string> resource;
};

// What read_store() reads of each entry besides its key and body: the resource
// costs a map per entry, which tests of hundreds of thousands of lines skip.
enum class StoredFields { key_and_body, resource };

// All entries in segment order (segments sorted by path); lines that are not
// complete JSON objects are skipped and counted in `bad_lines` when given.
std::vector<StoredEntry> read_store(const std::filesystem::path& data_dir,
                                    StoredFields fields = StoredFields::key_and_body, size_t* bad_lines = nullptr);

// Counts entries quickly (lines in segments), for waiting.
size_t count_stored(const std::filesystem::path& data_dir);

struct DeliveryCheck {
  size_t expected = 0;
  size_t stored = 0;
  size_t missing = 0;
  size_t duplicates = 0;
  size_t unexpected = 0;    // bodies that were never written
  size_t out_of_order = 0;  // per source path, an offset lower than the previous one
  std::string first_missing;
};

// Compares the store with the lines written per file path (in write order).
DeliveryCheck check_delivery(const std::vector<StoredEntry>& stored,
                             const std::map<std::string, std::vector<std::string>>& written);

}  // namespace logferry::test
