#pragma once
// The aggregator's name and version, as printed by --version.
namespace logferry::aggregator {

// The version string, e.g. "0.1.0".
const char* version();

}  // namespace logferry::aggregator
