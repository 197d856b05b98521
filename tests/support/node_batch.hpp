#pragma once
// A node agent's batch (one shared by the encoder and store tests): its sources
// are files of several Pods, each with its own resource labels over the batch's.
#include <string>

#include "logferry/v1/logferry.pb.h"

namespace logferry::test {

// Appends the string attribute k=v.
inline void add_label(google::protobuf::RepeatedPtrField<v1::KeyValue>& kvs, const std::string& k,
                      const std::string& v) {
  auto* kv = kvs.Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// Sources: 0 = shop/web-0/app, 1 = kube-system/dns-0/coredns, 2 = shop/web-0/app
// again (a rotated file of the same container), 3 = no labels.
inline v1::Batch node_batch() {
  v1::Batch b;
  add_label(*b.mutable_resource(), "k8s.node.name", "node-1");
  add_label(*b.mutable_resource(), "k8s.namespace.name", "agent-ns");
  const char* pods[][3] = {{"web-0", "shop", "app"}, {"dns-0", "kube-system", "coredns"}, {"web-0", "shop", "app"}};
  for (int i = 0; i < 4; ++i) {
    auto* s = b.add_sources();
    s->set_id("file:1:" + std::to_string(i));
    s->set_path("/var/log/containers/f" + std::to_string(i) + ".log");
    if (i == 3) continue;
    add_label(*s->mutable_resource(), "k8s.pod.name", pods[i][0]);
    add_label(*s->mutable_resource(), "k8s.namespace.name", pods[i][1]);
    add_label(*s->mutable_resource(), "k8s.container.name", pods[i][2]);
  }
  for (uint32_t i = 0; i < 8; ++i) {
    auto* e = b.add_entries();
    e->set_source_index(i % 4);
    e->set_offset(i);
    e->set_observed_time_unix_nano(1000 + i);
    e->mutable_body()->set_string_value("line " + std::to_string(i));
  }
  return b;
}

}  // namespace logferry::test
