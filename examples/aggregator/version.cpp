// Placeholder so the aggregator library has a source until its components land.
namespace logferry::aggregator {
const char* version() { return LOGFERRY_VERSION; }
}  // namespace logferry::aggregator
