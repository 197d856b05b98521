#include "aggregator/version.hpp"

namespace logferry::aggregator {

const char* version() { return LOGFERRY_VERSION; }

}  // namespace logferry::aggregator
