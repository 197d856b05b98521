#pragma once
// Adapters turning a value parser into an env table entry's apply function
// that sets one member of a configuration struct: set_string<&Config::x>.
// Shared by the sidecar's and the aggregator's tables, so a kind of value is
// accepted, and refused with the same words, by both programs.
#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sidecar/config/env_table.hpp"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

namespace detail {
template <class>
struct MemberOf;
template <class C, class T>
struct MemberOf<T C::*> {
  using Class = C;
};
}  // namespace detail

// The struct that `Member` (a pointer to a data member) belongs to.
template <auto Member>
using ConfigOf = typename detail::MemberOf<decltype(Member)>::Class;

template <auto Member>
std::string set_string(ConfigOf<Member>& c, std::string_view v) {
  c.*Member = std::string(v);
  return {};
}

template <auto Member>
std::string set_bool(ConfigOf<Member>& c, std::string_view v) {
  auto b = parse_bool(v);
  if (!b) return "expected true or false";
  c.*Member = *b;
  return {};
}

template <auto Member>
std::string set_size(ConfigOf<Member>& c, std::string_view v, uint64_t min) {
  auto n = parse_size(v);
  if (!n || *n < min) return fmt::format("expected a size of at least {} such as 64KiB, 4MiB or 1048576", format_size(min));
  c.*Member = *n;
  return {};
}

template <auto Member>
std::string set_count(ConfigOf<Member>& c, std::string_view v, uint64_t min, uint64_t max) {
  auto n = parse_uint(v, min, max);
  if (!n) return fmt::format("expected a whole number from {} to {}", min, max);
  c.*Member = *n;
  return {};
}

// Whether zero is a valid value of a duration variable (zero turns a wait off)
// or not (a timeout must be positive): stated by each variable.
enum class ZeroDuration { allowed, refused };

template <auto Member, ZeroDuration Zero>
std::string set_duration(ConfigOf<Member>& c, std::string_view v) {
  auto d = parse_duration(v);
  if constexpr (Zero == ZeroDuration::refused) {
    if (!d || d->count() <= 0) return "expected a positive duration such as 250ms, 5s or 2m";
  } else {
    if (!d) return "expected a duration such as 250ms, 5s or 2m";
  }
  c.*Member = *d;
  return {};
}

// One spelling an enum-valued variable accepts, and the value it stands for.
template <class T>
struct Choice {
  std::string_view name;
  T value;
};

// Sets Member to the value `v` names in Choices; else "expected a, b or c".
template <auto Member, const auto& Choices>
std::string set_enum(ConfigOf<Member>& c, std::string_view v) {
  for (const auto& choice : Choices) {
    if (choice.name == v) {
      c.*Member = choice.value;
      return {};
    }
  }
  std::string allowed = "expected ";
  for (size_t i = 0; i < Choices.size(); ++i) {
    if (i > 0) allowed += i + 1 == Choices.size() ? " or " : ", ";
    allowed += Choices[i].name;
  }
  return allowed;
}

// The choices of LOGFERRY_LOG_LEVEL and LOGFERRY_LOG_FORMAT, which both programs read.
inline constexpr std::array kLogLevelChoices{Choice<LogLevel>{"debug", LogLevel::debug},
                                             Choice<LogLevel>{"info", LogLevel::info},
                                             Choice<LogLevel>{"warn", LogLevel::warn},
                                             Choice<LogLevel>{"error", LogLevel::error}};
inline constexpr std::array kLogFormatChoices{Choice<LogFormat>{"json", LogFormat::json},
                                              Choice<LogFormat>{"text", LogFormat::text}};

// A setter of one member of a part of a bigger struct:
// in_part<&Config::files, set_string<&FileSourceOptions::pods_root>>.
template <auto Part, auto Set>
std::string in_part(ConfigOf<Part>& c, std::string_view v) {
  return Set(c.*Part, v);
}

namespace detail {
template <auto Part, const auto& Table, size_t I>
std::string apply_in_part(ConfigOf<Part>& c, std::string_view v) {
  return Table[I].apply(c.*Part, v);
}
template <auto Part, const auto& Table, size_t... I>
constexpr auto lift_table(std::index_sequence<I...>) {
  using Var = EnvVar<ConfigOf<Part>>;
  return std::array<Var, sizeof...(I)>{
      Var{Table[I].name, Table[I].default_value, &apply_in_part<Part, Table, I>, Table[I].description,
          Table[I].secret}...};
}
}  // namespace detail

// The entries of `Table` (an array of EnvVar<Part's type> with static
// storage), as entries of the bigger struct's table that apply them to its
// member `Part`: a part's variables are written once and reused whole.
template <auto Part, const auto& Table>
constexpr auto lift_table() {
  return detail::lift_table<Part, Table>(std::make_index_sequence<std::tuple_size_v<std::remove_cvref_t<decltype(Table)>>>{});
}

// Tables joined in order, into one.
template <class T, size_t... N>
constexpr std::array<T, (N + ...)> join_tables(const std::array<T, N>&... tables) {
  std::array<T, (N + ...)> out{};
  size_t i = 0;
  ((std::copy(tables.begin(), tables.end(), out.begin() + static_cast<std::ptrdiff_t>(i)), i += N), ...);
  return out;
}

}  // namespace logferry
