#pragma once
// An in-test Kubernetes API server for the Pod watcher: HTTPS on 127.0.0.1
// (port 0 or a given one) in its own thread, checking `Authorization: Bearer`
// against a settable token (401 otherwise). It serves
//   GET /api/v1/pods?...              the Pod list set by the test, with its resourceVersion
//                                     (optionally after a delay: a slow list)
//   GET /api/v1/pods?...&watch=true   a chunked stream of the events the test pushes; or
//                                     410 Gone once when asked; ended or cut on request
//   GET <any other path>              the object set for that path (ReplicaSets, Jobs), else 404
// and counts requests by kind, so that tests can wait on them.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/certs.hpp"

namespace logferry::test {

// A Pod (or a ReplicaSet / Job: an object with owners) for the JSON builders below.
struct FakeObject {
  std::string name, ns = "default", uid, node = "node-1";
  std::vector<std::pair<std::string, std::string>> labels, annotations;
  struct OwnerRef {
    std::string kind, name;
    bool controller = true;
  };
  std::vector<OwnerRef> owners;
  std::string resource_version = "1";
};

// A Pod's JSON (metadata, spec.nodeName, a little status).
std::string pod_json(const FakeObject& pod);
// A ReplicaSet's or Job's JSON (`kind` "ReplicaSet" or "Job"): metadata with ownerReferences.
std::string owner_json(std::string_view kind, const FakeObject& object);
// One watch line (without "\n"): {"type":"ADDED",...,"object":<object_json>}.
std::string watch_event_json(std::string_view type, std::string_view object_json);
std::string bookmark_event_json(std::string_view resource_version);
// An ERROR event carrying a Status (410 = "too old resource version").
std::string error_event_json(int code);

class FakeApiServer {
 public:
  // Listens on 127.0.0.1:`port` (0 = any) with certs.server_cert (SAN 127.0.0.1).
  explicit FakeApiServer(const TestCerts& certs, uint16_t port = 0);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;  // https://127.0.0.1:<port>

  // Requests must carry "Bearer <token>"; "" accepts any request.
  void set_token(std::string token);
  // The Pod list (each item a pod_json) and its metadata.resourceVersion.
  void set_pods(std::vector<std::string> items, std::string resource_version);
  // Lists are answered this late (the watcher must not block meanwhile).
  void set_list_delay(std::chrono::milliseconds delay);
  // GET `path` answers `status` with `body` (e.g. a ReplicaSet; or 403), `delay` late.
  void set_object(std::string path, std::string body, unsigned status = 200,
                  std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // The next watch request is answered 410 Gone.
  void answer_next_watch_gone();
  // Sends `line` + "\n" as one chunk on every open watch; an ERROR event then ends the watch.
  void push_event(std::string line);
  // Ends every open watch normally (last chunk) or cuts its connection.
  void end_watches();
  void drop_watches();

  size_t lists() const;         // list requests answered 200 or on their way
  size_t watches() const;       // watch requests (410s included), authorized ones
  size_t open_watches() const;  // streams now open
  size_t unauthorized() const;  // 401 answers
  size_t object_gets(const std::string& path) const;
  std::vector<std::string> watch_targets() const;  // request targets, in order

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace logferry::test
