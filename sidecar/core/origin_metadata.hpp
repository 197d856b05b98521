#pragma once
// What an origin's owner says about its lines beyond its file name: in node
// mode, its Pod as the API server describes it (sidecar/kube). The batcher asks
// once per batch of an origin, and again only when version() changed.
#include <cstdint>
#include <string>

#include "sidecar/core/labels.hpp"
#include "sidecar/core/origin.hpp"

namespace logferry {

struct OriginMetadata {
  bool known = false;     // the owner was found (false: the lines go out with their file-name labels)
  Labels resource;        // resource labels added to the origin's own (k8s.pod.uid, k8s.pod.label.<key>, ...)
  bool exclude = false;   // the owner asked for its lines not to be shipped (dropped and counted)
  std::string parser;     // the parser it asked for; "" = the configured one
  std::string multiline;  // the multiline preset it asked for; "" = the configured one

  bool operator==(const OriginMetadata&) const = default;
};

class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  // Changes whenever any lookup may answer differently.
  virtual uint64_t version() const = 0;
  virtual OriginMetadata lookup(const Origin& origin) const = 0;
};

}  // namespace logferry
