#include "support/store_reader.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <unordered_map>

#include <simdjson.h>

namespace logferry::test {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".ndjson") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<StoredEntry> read_store(const fs::path& data_dir, StoredFields fields, size_t* bad_lines) {
  std::vector<StoredEntry> out;
  simdjson::dom::parser parser;
  for (const auto& seg : segments(data_dir)) {
    std::ifstream in(seg);
    std::string line;
    while (std::getline(in, line)) {
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc)) {
        if (bad_lines) ++*bad_lines;
        continue;
      }
      StoredEntry e;
      std::string_view sv;
      if (!doc["source_id"].get(sv)) e.source_id = sv;
      if (!doc["source_path"].get(sv)) e.source_path = sv;
      uint64_t off = 0;
      if (!doc["offset"].get(off)) e.offset = off;
      if (!doc["body"].get(sv)) e.body = sv;
      simdjson::dom::object resource;
      if (fields == StoredFields::resource && !doc["resource"].get(resource)) {
        for (auto field : resource) {
          if (!field.value.get(sv)) e.resource[std::string(field.key)] = std::string(sv);
        }
      }
      e.file = seg.string();
      out.push_back(std::move(e));
    }
  }
  return out;
}

size_t count_stored(const fs::path& data_dir) {
  size_t n = 0;
  for (const auto& seg : segments(data_dir)) {
    std::ifstream in(seg, std::ios::binary);
    char buf[65536];
    while (in) {
      in.read(buf, sizeof buf);
      n += static_cast<size_t>(std::count(buf, buf + in.gcount(), '\n'));
    }
  }
  return n;
}

DeliveryCheck check_delivery(const std::vector<StoredEntry>& stored,
                             const std::map<std::string, std::vector<std::string>>& written) {
  DeliveryCheck r;
  std::unordered_map<std::string, size_t> expected_count;
  for (const auto& [path, lines] : written) {
    for (const auto& l : lines) ++expected_count[path + '\n' + l];
    r.expected += lines.size();
  }
  std::unordered_map<std::string, size_t> seen;
  std::map<std::string, std::pair<std::string, uint64_t>> last_offset;  // path -> (source id, offset)
  for (const auto& e : stored) {
    ++r.stored;
    const std::string key = e.source_path + '\n' + e.body;
    auto it = expected_count.find(key);
    if (it == expected_count.end()) {
      ++r.unexpected;
      continue;
    }
    if (++seen[key] > it->second) ++r.duplicates;
    auto& last = last_offset[e.source_path];
    if (last.first == e.source_id && e.offset < last.second) ++r.out_of_order;
    last = {e.source_id, e.offset};
  }
  for (const auto& [path, lines] : written) {
    for (const auto& l : lines) {
      const std::string key = path + '\n' + l;
      auto it = seen.find(key);
      if (it == seen.end() || it->second == 0) {
        if (r.missing == 0) r.first_missing = key;
        ++r.missing;
      } else {
        --it->second;
      }
    }
  }
  return r;
}

}  // namespace logferry::test
