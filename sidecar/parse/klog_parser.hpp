#pragma once
// `klog`: Kubernetes components' format
//   I0102 15:04:05.123456   12345 file.go:123] message
// The letter (I, W, E, F) gives the severity (severity_text is the letter),
// "0102 15:04:05.123456" the time (this year), then attributes thread.id,
// code.filepath and code.lineno (ints). Structured messages
//   ] "Pod status updated" pod="kube-system/x" ready=true
// have the quoted message as body and the pairs as attributes (typed like
// logfmt); otherwise the rest of the line is the body.
#include "sidecar/parse/field_enricher.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class KlogParser final : public Parser {
 public:
  explicit KlogParser(const FieldNames& names) : enricher_(names) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "klog"; }

 private:
  FieldEnricher enricher_;
  std::string scratch_;
};

}  // namespace logferry
