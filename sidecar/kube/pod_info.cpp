#include "sidecar/kube/pod_info.hpp"

#include <fnmatch.h>

#include <algorithm>

#include <simdjson.h>

namespace logferry {

namespace dom = simdjson::dom;

namespace {

// A Pod carries at most this many labels or annotations that we keep, each
// value at most kMaxValueBytes (the API server allows 256 KiB of annotations).
constexpr size_t kMaxPairs = 256;
constexpr size_t kMaxValueBytes = 16 * 1024;

// An element or the error of reaching it: a missing member or one of the
// wrong type carries its error along instead of failing at once.
using Node = simdjson::simdjson_result<dom::element>;

std::string_view string_at(Node e, std::string_view key) {
  std::string_view s;
  if (e[key].get(s)) return {};
  return s;
}

Node member(Node e, std::string_view key) { return e[key]; }

bool matches_any(const std::vector<std::string>& globs, const std::string& key) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return ::fnmatch(g.c_str(), key.c_str(), 0) == 0; });
}

KeyValues filtered_pairs(Node e, const std::vector<std::string>& globs) {
  KeyValues out;
  dom::object o;
  if (globs.empty() || e.get(o)) return out;
  for (auto field : o) {
    std::string_view value;
    if (out.size() >= kMaxPairs) break;
    if (field.value.get(value) || value.size() > kMaxValueBytes) continue;
    std::string key(field.key);
    if (key.find('\0') != std::string::npos || !matches_any(globs, key)) continue;
    out.emplace_back(std::move(key), std::string(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<PodInfo::Owner> controller_owner(Node metadata) {
  dom::array refs;
  if (member(metadata, "ownerReferences").get(refs)) return std::nullopt;
  for (dom::element ref : refs) {
    const Node r(std::move(ref));
    bool controller = false;
    if (member(r, "controller").get(controller) || !controller) continue;
    PodInfo::Owner owner{std::string(string_at(r, "kind")), std::string(string_at(r, "name"))};
    if (owner.kind.empty() || owner.name.empty()) return std::nullopt;
    return owner;
  }
  return std::nullopt;
}

std::optional<PodInfo> pod_from(Node pod, const KubeOptions& options) {
  const Node metadata = member(pod, "metadata");
  PodInfo info;
  info.ns = std::string(string_at(metadata, "namespace"));
  info.name = std::string(string_at(metadata, "name"));
  info.uid = std::string(string_at(metadata, "uid"));
  if (info.ns.empty() || info.name.empty() || info.uid.empty()) return std::nullopt;
  info.node = std::string(string_at(member(pod, "spec"), "nodeName"));
  info.labels = filtered_pairs(member(metadata, "labels"), options.label_globs);
  info.annotations = filtered_pairs(member(metadata, "annotations"), options.annotation_globs);
  info.settings = filtered_pairs(member(metadata, "annotations"), {std::string(kSettingsAnnotations)});
  info.owner = controller_owner(metadata);
  return info;
}

std::optional<WatchEvent::Type> event_type(std::string_view s) {
  using T = WatchEvent::Type;
  if (s == "ADDED") return T::added;
  if (s == "MODIFIED") return T::modified;
  if (s == "DELETED") return T::deleted;
  if (s == "BOOKMARK") return T::bookmark;
  if (s == "ERROR") return T::error;
  return std::nullopt;
}

}  // namespace

std::optional<PodInfo> parse_pod(std::string_view json, const KubeOptions& options) {
  dom::parser parser;
  const Node root = parser.parse(json.data(), json.size());
  if (root.error()) return std::nullopt;
  return pod_from(root, options);
}

std::optional<PodInfo::Owner> parse_controller_owner(std::string_view json) {
  dom::parser parser;
  const Node root = parser.parse(json.data(), json.size());
  if (root.error()) return std::nullopt;
  return controller_owner(member(root, "metadata"));
}

std::optional<PodList> parse_pod_list(std::string_view json, const KubeOptions& options) {
  dom::parser parser;
  const Node root = parser.parse(json.data(), json.size());
  dom::array items;
  if (member(root, "items").get(items)) return std::nullopt;
  PodList list;
  list.resource_version = std::string(string_at(member(root, "metadata"), "resourceVersion"));
  for (dom::element item : items) {
    if (auto pod = pod_from(Node(std::move(item)), options)) {
      list.items.push_back(std::move(*pod));
    } else {
      ++list.skipped;
    }
  }
  return list;
}

std::optional<WatchEvent> parse_watch_event(std::string_view line, const KubeOptions& options) {
  dom::parser parser;
  const Node root = parser.parse(line.data(), line.size());
  if (root.error()) return std::nullopt;
  const auto type = event_type(string_at(root, "type"));
  if (!type) return std::nullopt;
  const Node object = member(root, "object");
  WatchEvent ev;
  ev.type = *type;
  if (ev.type == WatchEvent::Type::error) {
    int64_t code = 0;
    if (!member(object, "code").get(code) && code > 0 && code < 1000) ev.code = static_cast<int>(code);
    ev.message = std::string(string_at(object, "message"));
    return ev;
  }
  ev.resource_version = std::string(string_at(member(object, "metadata"), "resourceVersion"));
  if (ev.type == WatchEvent::Type::bookmark) return ev;
  ev.pod = pod_from(object, options);
  if (!ev.pod) return std::nullopt;
  return ev;
}

}  // namespace logferry
