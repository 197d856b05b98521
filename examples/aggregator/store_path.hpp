#pragma once
// Directory names of the store: DATA_DIR/<namespace>/<pod>, each part a label
// value escaped so that distinct values never share a directory and the value
// can be read back from the name.
#include <optional>
#include <string>
#include <string_view>

namespace logferry::aggregator {

// The longest directory name escape_path_component returns (NAME_MAX is 255).
inline constexpr size_t kMaxPathComponentBytes = 253;

// Maps a label value to a directory name: [A-Za-z0-9.-] kept, every other byte
// (the '_' included) becomes %XX (uppercase hex); "" becomes "_unknown", "."
// and ".." become "%2E" and "%2E%2E". A name longer than
// kMaxPathComponentBytes once escaped is cut at an escape boundary and ends
// with '+' and 16 hex digits of the SHA-256 of the whole value. DNS-1123 names
// (Kubernetes namespaces and Pods) up to 253 bytes map to themselves, and no
// label value maps to a name starting with '_' except "" ("_unknown"): such
// names are left to the aggregator's own stores (the audit store's "_audit").
std::string escape_path_component(std::string_view value);

// The label value of an escaped name; nullopt for a cut name (hash suffix) or
// a name escape_path_component does not write.
std::optional<std::string> unescape_path_component(std::string_view name);

// "<escaped namespace>/<escaped pod>": the key of a Pod directory under DATA_DIR.
std::string pod_dir_key(std::string_view ns, std::string_view pod);

}  // namespace logferry::aggregator
