#pragma once
// CheckpointStore kept in one versioned text file, DIR/checkpoints.v1:
//
//   logferry-checkpoints 1
//   <id> <device> <inode> <head_length> <head_hash> <offset> <path, percent-encoded>
//   ...
//   end <record count>
//
// save() writes DIR/checkpoints.v1.new, fsyncs it, renames it over the file and
// fsyncs the directory, so a crash leaves either the old or the new file. The
// "end" line makes a torn file detectable; load() falls back to a complete
// .new file when the main one is missing or torn (a crash between the two
// steps), and ignores a torn .new.
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/checkpoint/checkpoint_store.hpp"

namespace logferry {

class FileCheckpointStore final : public CheckpointStore {
 public:
  explicit FileCheckpointStore(std::string dir);
  boost::system::result<std::vector<CheckpointRecord>> load() override;
  boost::system::error_code save(const std::vector<CheckpointRecord>& records,
                                 Durability durability = Durability::node_crash) override;
  const std::string& path() const { return path_; }

  // Text form of the records (exposed for tests).
  static std::string serialize(const std::vector<CheckpointRecord>& records);
  // Parses the text form; nullopt when it is not a complete version-1 file.
  static std::optional<std::vector<CheckpointRecord>> parse(std::string_view text);

 private:
  std::string dir_;
  std::string path_;
  std::string temp_path_;
};

}  // namespace logferry
