#pragma once
// CheckpointStore kept in one versioned text file, DIR/checkpoints.v1:
//
//   logferry-checkpoints 1
//   <id> <device> <inode> <head_length> <head_hash> <offset> <path, percent-encoded>
//   ...
//   end <record count>
//
// That text is saved in place, in one of two slots of DIR/checkpoints.slots:
//
//   slot 0 at offset 0, slot 1 at offset slot_size, each
//   "logferry-checkpoint-slot <sequence> <length> <crc32 hex>\n" + <length bytes of the text above>
//
// A save overwrites the slot of the older save (pwrite) and, for a node crash,
// fdatasyncs the file: two system calls and one flush per checkpoint interval,
// where a temporary file, a rename and the directory took ten and two flushes.
// A torn slot fails its length or checksum and load() takes the other one,
// the previous save. When the text outgrows a slot the file is rebuilt with
// larger slots, both holding the new text (temporary file, fsync, rename,
// directory fsync). load() prefers the slots; without them (first start after
// an upgrade) it reads DIR/checkpoints.v1, or a complete checkpoints.v1.new
// when the main one is missing or torn (a crash of an earlier version between
// its two steps). checkpoints.v1 is no longer written.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/checkpoint/checkpoint_store.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry {

class FileCheckpointStore final : public CheckpointStore {
 public:
  explicit FileCheckpointStore(std::string dir);
  boost::system::result<std::vector<CheckpointRecord>> load() override;
  boost::system::error_code save(const std::vector<CheckpointRecord>& records,
                                 Durability durability = Durability::node_crash) override;
  // The slots file, written by save().
  const std::string& path() const { return slots_path_; }
  // The text file of earlier versions, read by load() when there are no slots.
  const std::string& legacy_path() const { return path_; }

  // Text form of the records (exposed for tests).
  static std::string serialize(const std::vector<CheckpointRecord>& records);
  // Parses the text form; nullopt when it is not a complete version-1 file.
  static std::optional<std::vector<CheckpointRecord>> parse(std::string_view text);

 private:
  // Writes a new slots file holding `text` in both slots; opens it for the next saves.
  boost::system::error_code rebuild(const std::string& text, Durability durability);
  // "logferry-checkpoint-slot ..." header and text, for sequence `sequence`.
  static std::string slot_image(uint64_t sequence, std::string_view text);
  // The text of the valid slot with the highest sequence in `file` (and that sequence).
  static std::optional<std::pair<uint64_t, std::string>> newest_slot(std::string_view file);

  std::string dir_;
  std::string path_;       // checkpoints.v1 (read only)
  std::string temp_path_;  // checkpoints.v1.new (read only)
  std::string slots_path_;
  std::string slots_temp_path_;
  UniqueFd slots_;         // open for writing after the first save
  uint64_t slot_size_ = 0;
  uint64_t sequence_ = 0;  // of the last save
};

}  // namespace logferry
