#include "sidecar/parse/multiline_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"

namespace logferry {
namespace {

std::shared_ptr<const re2::RE2> compile(const char* pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  return std::make_shared<const re2::RE2>(pattern, options);
}

bool matches(const re2::RE2& re, std::string_view line) {
  return re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), re);
}

}  // namespace

std::optional<MultilineRule> multiline_preset(std::string_view name) {
  if (name == "java") {
    // Indented lines (stack frames "\tat ...", "... 12 more"), "Caused by:",
    // "Suppressed:", and the exception line "java.lang.IllegalStateException: x".
    return MultilineRule{
        nullptr,
        compile(R"(^(\s|(Caused by|Suppressed): |([a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(Exception|Error|Throwable)(: |$)))")};
  }
  if (name == "python") {
    // Traceback header, indented frames, the exception line, chained exceptions.
    return MultilineRule{
        nullptr,
        compile(R"(^(Traceback \(most recent call last\):|\s+\S|\s*$|([A-Za-z_][\w.]*)?(Error|Exception|Exit|Interrupt|Warning|Iteration)\b.*|During handling of the above exception|The above exception was the direct cause))")};
  }
  if (name == "go") {
    // A panic's goroutine dumps: blank lines, "goroutine N [...]:", function
    // lines "pkg.fn(...)", tab-indented file lines, "created by", "exit status".
    return MultilineRule{
        nullptr,
        compile(R"(^(\s*$|goroutine \d+ \[|\t|created by |\[signal |exit status |[\w./*()-]+\(.*\)$))")};
  }
  return std::nullopt;
}

MultilineParser::MultilineParser(std::unique_ptr<Parser> inner, MultilineRule rule, size_t max_lines,
                                 size_t max_bytes, uint64_t* joined_records)
    : inner_(std::move(inner)),
      rule_(std::move(rule)),
      max_lines_(max_lines),
      max_bytes_(max_bytes),
      joined_records_(joined_records) {}

bool MultilineParser::continues(std::string_view line) const {
  if (rule_.continuation && matches(*rule_.continuation, line)) return true;
  return rule_.start && !matches(*rule_.start, line);
}

void MultilineParser::hold(std::string_view line, v1::Entry& fields) {
  held_fields_.Clear();
  held_fields_.Swap(&fields);
  held_.assign(line.data(), line.size());
  lines_ = 1;
  holding_ = true;
}

ParseResult MultilineParser::emit(v1::Entry& entry, bool split) {
  entry.Clear();
  entry.Swap(&held_fields_);
  holding_ = false;
  if (split) add_bool_attribute(entry, "log.multiline.split", true);
  if (lines_ > 1 && joined_records_ != nullptr) ++*joined_records_;
  return inner_->parse(held_, entry);
}

ParseResult MultilineParser::parse(std::string_view line, v1::Entry& entry) {
  if (!holding_) {
    hold(line, entry);
    return ParseResult::pending;
  }
  const bool continuation = continues(line);
  if (continuation && lines_ < max_lines_ && held_.size() + 1 + line.size() <= max_bytes_) {
    held_.push_back('\n');
    held_.append(line.data(), line.size());
    ++lines_;
    return ParseResult::pending;
  }
  // The line starts a new record (or the held one is full): emit the held one.
  incoming_.Clear();
  incoming_.Swap(&entry);
  const ParseResult r = emit(entry, continuation);
  hold(line, incoming_);
  if (r == ParseResult::parsed || r == ParseResult::parse_error) return ParseResult::parsed_holding_line;
  return r;
}

ParseResult MultilineParser::flush(v1::Entry& entry) {
  if (!holding_) return inner_->flush(entry);
  const ParseResult r = emit(entry, false);
  held_.clear();
  return r;
}

}  // namespace logferry
