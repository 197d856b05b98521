#pragma once
// Durable record of how far each file was acknowledged, so a restarted sidecar
// resumes where the output last confirmed (at-least-once, never a gap).
#include <cstdint>
#include <string>
#include <vector>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace logferry {

struct CheckpointRecord {
  std::string id;         // the origin's wire identity
  std::string path;       // last known path
  uint64_t device = 0;    // st_dev
  uint64_t inode = 0;     // st_ino
  uint32_t head_length = 0;  // how many leading bytes head_hash covers
  uint64_t head_hash = 0;    // hash of the file's first head_length bytes
  uint64_t offset = 0;       // acknowledged up to here
  friend bool operator==(const CheckpointRecord&, const CheckpointRecord&) = default;
};

// How far a save must reach before it returns: the OS (survives the process
// being killed, e.g. kill -9) or the disk (also survives a node crash).
enum class Durability { process_crash, node_crash };

class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  // Reads the saved records (recovering an interrupted save); empty on first start.
  virtual boost::system::result<std::vector<CheckpointRecord>> load() = 0;
  // Replaces the saved records atomically (temp file, rename); with
  // Durability::node_crash the file and its directory are fsynced too.
  virtual boost::system::error_code save(const std::vector<CheckpointRecord>& records,
                                         Durability durability = Durability::node_crash) = 0;
};

}  // namespace logferry
