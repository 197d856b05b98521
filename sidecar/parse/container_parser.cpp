#include "sidecar/parse/container_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {
namespace {

constexpr std::array<std::string_view, 2> kStreams{"stdout", "stderr"};

size_t stream_index(std::string_view stream) { return stream == "stderr" ? 1 : 0; }

}  // namespace

ContainerParser::ContainerParser(Format format, std::unique_ptr<Parser> inner, size_t max_bytes)
    : format_(format), inner_(std::move(inner)), max_bytes_(max_bytes) {}

std::string_view ContainerParser::decode(std::string_view line, Line& out) {
  if (format_ == Format::docker) return decode_docker(line, out);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return "not a CRI log line: expected a time";
  const auto t = parse_rfc3339(line.substr(0, sp1));
  if (!t) return "not a CRI log line: invalid time";
  const std::string_view rest = line.substr(sp1 + 1);
  if (!rest.starts_with("stdout ") && !rest.starts_with("stderr ")) return "not a CRI log line: expected stdout or stderr";
  const std::string_view tag = rest.substr(7);
  // The tag is P or F, possibly followed by ":"-separated extensions; then one space.
  const size_t tag_end = tag.find(' ');
  const std::string_view flag = tag.substr(0, std::min(tag_end, tag.find(':')));
  if (flag != "P" && flag != "F") return "not a CRI log line: expected P or F";
  out.time = *t;
  out.stream = rest.substr(0, 6);
  out.partial = flag == "P";
  out.message = tag_end == std::string_view::npos ? std::string_view() : tag.substr(tag_end + 1);
  return {};
}

std::string_view ContainerParser::decode_docker(std::string_view line, Line& out) {
  simdjson::dom::object object;
  if (json_.parse_object(line, object) != simdjson::SUCCESS) return "not a docker log line: invalid JSON";
  bool has_log = false;
  for (const simdjson::dom::key_value_pair field : object) {
    std::string_view value;
    if (field.key != "log" && field.key != "stream" && field.key != "time") continue;
    if (field.value.get_string().get(value) != simdjson::SUCCESS)
      return "not a docker log line: log, stream and time must be strings";
    if (field.key == "log") {
      out.message = value;
      has_log = true;
    } else if (field.key == "stream") {
      if (value != "stdout" && value != "stderr") return "not a docker log line: expected stdout or stderr";
      out.stream = kStreams[stream_index(value)];
    } else {
      const auto t = parse_rfc3339(value);
      if (!t) return "not a docker log line: invalid time";
      out.time = *t;
    }
  }
  if (!has_log) return "not a docker log line: no log field";
  if (out.stream.empty()) out.stream = kStreams[0];
  out.partial = !out.message.ends_with('\n');
  if (!out.partial) out.message.remove_suffix(1);
  if (out.message.ends_with('\r')) out.message.remove_suffix(1);
  return {};
}

ParseResult ContainerParser::emit(std::string_view message, std::string_view stream, uint64_t time, bool truncated,
                                  v1::Entry& entry) {
  if (time != 0) entry.set_time_unix_nano(time);
  add_string_attribute(entry, "log.iostream", stream);
  if (truncated) add_bool_attribute(entry, "log.truncated", true);
  return inner_->parse(message, entry);
}

ParseResult ContainerParser::parse(std::string_view line, v1::Entry& entry) {
  Line decoded;
  if (const std::string_view error = decode(line, decoded); !error.empty()) {
    const EntryMark mark(entry);
    set_parse_error(entry, mark, line, error);
    return ParseResult::parse_error;
  }
  Partial& partial = partials_[stream_index(decoded.stream)];
  if (decoded.partial || partial.active) {
    if (!partial.active) {
      partial.active = true;
      partial.time = decoded.time;
      partial.truncated = false;
      partial.text.clear();
    }
    const size_t room = max_bytes_ > partial.text.size() ? max_bytes_ - partial.text.size() : 0;
    if (decoded.message.size() > room) partial.truncated = true;
    partial.text.append(decoded.message.substr(0, room));
    if (decoded.partial) return ParseResult::pending;
    partial.active = false;
    return emit(partial.text, decoded.stream, partial.time, partial.truncated, entry);
  }
  const bool truncated = decoded.message.size() > max_bytes_;
  return emit(decoded.message.substr(0, max_bytes_), decoded.stream, decoded.time, truncated, entry);
}

ParseResult ContainerParser::flush(v1::Entry& entry) {
  for (size_t i = 0; i < partials_.size(); ++i) {
    Partial& partial = partials_[i];
    if (!partial.active) continue;
    partial.active = false;
    const ParseResult r = emit(partial.text, kStreams[i], partial.time, partial.truncated, entry);
    if (r == ParseResult::parsed_holding_line) return ParseResult::parsed;  // the partial is held now
    if (r != ParseResult::pending) return r;
    entry.Clear();
    return inner_->flush(entry);
  }
  return inner_->flush(entry);
}

}  // namespace logferry
