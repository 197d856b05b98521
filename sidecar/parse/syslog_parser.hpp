#pragma once
// `syslog`: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`) and
// RFC 3164 / BSD (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, the <PRI> being
// optional as in /var/log/syslog; an RFC 3339 time is accepted in its place).
// PRI -> severity (see severity_from_syslog) with the syslog keyword as
// severity_text, plus attribute syslog.facility. Other attributes: host.name,
// syslog.appname, syslog.procid, syslog.msgid, syslog.structured_data
// (kvlist of SD-ID -> kvlist of params). The body is MSG.
#include "sidecar/parse/parser.hpp"

namespace logferry {

class SyslogParser final : public Parser {
 public:
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "syslog"; }
};

}  // namespace logferry
