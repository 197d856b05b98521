#include "sidecar/app/connection_slots.hpp"

#include <vector>

#include <catch2/catch.hpp>

using logferry::ConnectionSlotLimits;
using logferry::ConnectionSlots;
using Admit = ConnectionSlots::Admit;

TEST_CASE("ConnectionSlots: when full, the connection idle the longest is closed to make room", "[app][slots]") {
  ConnectionSlots slots(ConnectionSlotLimits{3, 0});
  std::vector<int> closed;
  ConnectionSlots::Slot a, b, c, d;
  REQUIRE(slots.admit("10.0.0.1", [&] { closed.push_back(1); }, a) == Admit::admitted);
  REQUIRE(slots.admit("10.0.0.2", [&] { closed.push_back(2); }, b) == Admit::admitted);
  REQUIRE(slots.admit("10.0.0.3", [&] { closed.push_back(3); }, c) == Admit::admitted);
  a.set_idle(false);  // a is serving a request: not evictable
  b.set_idle(true);   // b became idle again: now the most recently idle
  REQUIRE(slots.admit("10.0.0.4", [&] { closed.push_back(4); }, d) == Admit::admitted);
  CHECK(closed == std::vector<int>{3});
  CHECK_FALSE(c.held());
  CHECK(a.held());
  CHECK(b.held());
  CHECK(slots.size() == 3);
  CHECK(slots.evicted() == 1);
  c.release();  // releasing an evicted slot is harmless
  CHECK(slots.size() == 3);
}

TEST_CASE("ConnectionSlots: refused when no connection is idle", "[app][slots]") {
  ConnectionSlots slots(ConnectionSlotLimits{1, 0});
  ConnectionSlots::Slot a, b;
  REQUIRE(slots.admit("p", {}, a) == Admit::admitted);
  a.set_idle(false);
  CHECK(slots.admit("q", {}, b) == Admit::refused_full);
  CHECK_FALSE(b.held());
  a.release();
  CHECK(slots.admit("q", {}, b) == Admit::admitted);
}

TEST_CASE("ConnectionSlots: one peer cannot take more than its share, and displaces only its own", "[app][slots]") {
  ConnectionSlots slots(ConnectionSlotLimits{10, 2});
  std::vector<int> closed;
  std::vector<ConnectionSlots::Slot> held(5);
  CHECK(slots.admit("10.0.0.1", [&] { closed.push_back(0); }, held[0]) == Admit::admitted);
  CHECK(slots.admit("10.0.0.2", [&] { closed.push_back(1); }, held[1]) == Admit::admitted);
  CHECK(slots.admit("10.0.0.1", [&] { closed.push_back(2); }, held[2]) == Admit::admitted);
  // The peer's share is full: its own longest-idle connection (0) makes room, not 10.0.0.2's.
  CHECK(slots.admit("10.0.0.1", [&] { closed.push_back(3); }, held[3]) == Admit::admitted);
  CHECK(closed == std::vector<int>{0});
  CHECK(slots.evicted_peer() == 1);
  CHECK(slots.evicted() == 0);
  // None of its connections idle: refused.
  held[2].set_idle(false);
  held[3].set_idle(false);
  CHECK(slots.admit("10.0.0.1", {}, held[4]) == Admit::refused_peer);
  CHECK(slots.size() == 3);
}

TEST_CASE("ConnectionSlots: a moved slot is released once, by its new owner", "[app][slots]") {
  ConnectionSlots slots(ConnectionSlotLimits{2, 0});
  ConnectionSlots::Slot a;
  REQUIRE(slots.admit("p", {}, a) == Admit::admitted);
  {
    ConnectionSlots::Slot moved(std::move(a));
    CHECK_FALSE(a.held());
    CHECK(moved.held());
    CHECK(slots.size() == 1);
  }
  CHECK(slots.size() == 0);
}
