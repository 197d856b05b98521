#pragma once
// Key/value pairs in order: resource labels, headers, attributes.
#include <string>
#include <utility>
#include <vector>

namespace logferry {

using Labels = std::vector<std::pair<std::string, std::string>>;

}  // namespace logferry
