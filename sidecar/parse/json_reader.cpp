#include "sidecar/parse/json_reader.hpp"

#include <charconv>
#include <cstring>

namespace logferry {

namespace dom = simdjson::dom;

namespace {

// A number token that simdjson refuses (beyond uint64, or beyond double).
bool is_huge_number(std::string_view token) {
  if (token.find_first_of(".eE") == std::string_view::npos) {
    const size_t digits = token.size() - (token.starts_with('-') ? 1 : 0);
    return digits > 19;
  }
  double d = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
  return ec == std::errc::result_out_of_range;
}

// Copies `json` with huge number tokens quoted, so they survive as exact
// strings. Only called after simdjson reported a number error.
std::string quote_huge_numbers(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
      else if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t end = std::min(json.find_first_not_of("0123456789+-.eE", i), json.size());
      const std::string_view token = json.substr(i, end - i);
      if (is_huge_number(token)) {
        out.push_back('"');
        out.append(token);
        out.push_back('"');
      } else {
        out.append(token);
      }
      i = end;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace

simdjson::error_code JsonReader::parse_object(std::string_view line, dom::object& object) {
  auto err = parse_padded(line, object);
  if (err == simdjson::NUMBER_ERROR) {
    const std::string quoted = quote_huge_numbers(line);
    err = parse_padded(quoted, object);
  }
  return err;
}

simdjson::error_code JsonReader::parse_padded(std::string_view line, dom::object& object) {
  const size_t needed = line.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(needed);
  std::memcpy(buffer_.data(), line.data(), line.size());
  std::memset(buffer_.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  dom::element root;
  if (auto err = parser_.parse(buffer_.data(), line.size(), false).get(root)) return err;
  return root.get_object().get(object);
}

void json_to_any(dom::element value, v1::AnyValue& out, int depth) {
  switch (value.type()) {
    case dom::element_type::OBJECT: {
      if (depth >= kMaxJsonDepth) {
        out.set_string_value(simdjson::minify(value));
        return;
      }
      v1::KeyValueList* list = out.mutable_kvlist_value();
      const dom::object object = value.get_object().value_unsafe();
      for (const dom::key_value_pair field : object) {
        v1::KeyValue* kv = list->add_values();
        kv->mutable_key()->assign(field.key.data(), field.key.size());
        json_to_any(field.value, *kv->mutable_value(), depth + 1);
      }
      return;
    }
    case dom::element_type::ARRAY: {
      if (depth >= kMaxJsonDepth) {
        out.set_string_value(simdjson::minify(value));
        return;
      }
      v1::ArrayValue* list = out.mutable_array_value();
      const dom::array array = value.get_array().value_unsafe();
      for (const dom::element element : array) json_to_any(element, *list->add_values(), depth + 1);
      return;
    }
    case dom::element_type::INT64:
      out.set_int_value(value.get_int64().value_unsafe());
      return;
    case dom::element_type::UINT64: {
      char digits[24];
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value.get_uint64().value_unsafe());
      out.mutable_string_value()->assign(digits, static_cast<size_t>(end - digits));
      return;
    }
    case dom::element_type::DOUBLE:
      out.set_double_value(value.get_double().value_unsafe());
      return;
    case dom::element_type::STRING: {
      const std::string_view s = value.get_string().value_unsafe();
      out.mutable_string_value()->assign(s.data(), s.size());  // simdjson validated the UTF-8
      return;
    }
    case dom::element_type::BOOL:
      out.set_bool_value(value.get_bool().value_unsafe());
      return;
    case dom::element_type::NULL_VALUE:
      return;
  }
}

void write_json_value(WireBuffer& out, dom::element value, int depth) {
  // Field numbers of v1::AnyValue; a oneof member is written even when zero or empty.
  switch (value.type()) {
    case dom::element_type::OBJECT: {
      if (depth >= kMaxJsonDepth) {
        out.bytes(1, simdjson::minify(value));
        return;
      }
      const size_t list = out.open(6);  // kvlist_value
      const dom::object object = value.get_object().value_unsafe();
      for (const dom::key_value_pair field : object)
        write_json_key_value(out, 1, field.key, field.value, depth + 1);
      out.close(list);
      return;
    }
    case dom::element_type::ARRAY: {
      if (depth >= kMaxJsonDepth) {
        out.bytes(1, simdjson::minify(value));
        return;
      }
      const size_t list = out.open(5);  // array_value
      const dom::array array = value.get_array().value_unsafe();
      for (const dom::element element : array) {
        const size_t item = out.open(1);
        write_json_value(out, element, depth + 1);
        out.close(item);
      }
      out.close(list);
      return;
    }
    case dom::element_type::INT64:
      out.varint(3, static_cast<uint64_t>(value.get_int64().value_unsafe()));
      return;
    case dom::element_type::UINT64: {
      char digits[24];
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value.get_uint64().value_unsafe());
      out.bytes(1, std::string_view(digits, static_cast<size_t>(end - digits)));
      return;
    }
    case dom::element_type::DOUBLE:
      out.double_value(4, value.get_double().value_unsafe());
      return;
    case dom::element_type::STRING:
      out.bytes(1, value.get_string().value_unsafe());  // simdjson validated the UTF-8
      return;
    case dom::element_type::BOOL:
      out.varint(2, value.get_bool().value_unsafe() ? 1 : 0);
      return;
    case dom::element_type::NULL_VALUE:
      return;
  }
}

void write_json_key_value(WireBuffer& out, uint32_t field, std::string_view key, dom::element value, int depth) {
  const size_t kv = out.open(field);
  if (!key.empty()) out.bytes(1, key);  // proto3: an empty key is not written
  const size_t any = out.open(2);       // the value is always present, as mutable_value() makes it
  write_json_value(out, value, depth);
  out.close(any);
  out.close(kv);
}

std::string json_error_reason(simdjson::error_code error) {
  switch (error) {
    case simdjson::INCORRECT_TYPE: return "invalid JSON: not an object";
    case simdjson::UTF8_ERROR: return "invalid JSON: invalid UTF-8";
    case simdjson::EMPTY: return "invalid JSON: empty line";
    case simdjson::DEPTH_ERROR: return "invalid JSON: nested too deeply";
    default: return std::string("invalid JSON: ") + simdjson::error_message(error);
  }
}

}  // namespace logferry
