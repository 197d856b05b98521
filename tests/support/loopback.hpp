#pragma once
// The address of the tests' own sockets: IPv4 loopback (tests bind port 0).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

namespace logferry::test {

// 127.0.0.1:`port`, for bind (port 0: any free port) and connect.
inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace logferry::test
