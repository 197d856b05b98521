#include "sidecar/config/config.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "sidecar/parse/registry.hpp"
#include "unit/config/config_env.hpp"

using namespace logferry;

using test::files_environment;
using test::messages;

TEST_CASE("a minimal environment loads with the documented defaults", "[config]") {
  test::TempDir tmp;
  auto r = load_config(files_environment(tmp), parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.files.globs == std::vector<std::string>{(tmp / "*.log").string()});
  REQUIRE(r.config.output.outputs.size() == 1);
  CHECK(r.config.output.outputs[0].host == "127.0.0.1");
  CHECK(r.config.output.outputs[0].port == 7070);
  CHECK(r.config.files.read_from == ReadFrom::head);
  CHECK(r.config.batch.max_entries == 4096);
  CHECK(r.config.batch.max_bytes == 512 * 1024);
  CHECK(r.config.output.buffer_max_bytes == 4 * 1024 * 1024);
  CHECK(r.config.batch.timeout == std::chrono::milliseconds(200));
  CHECK(r.config.shutdown_timeout == std::chrono::seconds(25));
  // One default for compression: the table's (off), also in default-built options.
  CHECK_FALSE(r.config.output.compress);
}

TEST_CASE("default-built options hold the table's defaults, so tests and programs that build them agree", "[config]") {
  test::TempDir tmp;
  const auto r = load_config(files_environment(tmp), parser_catalog());
  REQUIRE(r.errors.empty());
  const Config& c = r.config;
  CHECK(c.read == ReadOptions{});
  CHECK(c.batch == BatchPolicy{});
  CHECK(c.pipe == PipeSourceOptions{});
  ParseOptions parse;
  CHECK(c.parse.max_line_bytes == parse.max_line_bytes);
  CHECK(c.parse.multiline_timeout == parse.multiline_timeout);
  CHECK(c.parse.multiline_max_lines == parse.multiline_max_lines);
  CHECK(c.parse.multiline_max_bytes == parse.multiline_max_bytes);
  CHECK(c.parse.parser == parse.parser);
  FileSourceOptions files;
  files.globs = c.files.globs;  // set by the test's environment
  CHECK(c.files == files);
  OutputOptions output;
  output.outputs = c.output.outputs;  // required, no default
  CHECK(c.output == output);
  CHECK(c.checkpoint_interval == Config{}.checkpoint_interval);
  CHECK(c.shutdown_timeout == Config{}.shutdown_timeout);
}

TEST_CASE("every bad value is reported at once with its name, value and what is allowed", "[config]") {
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["LOGFERRY_OUTPUT"] = "bogus";
  env["LOGFERRY_BATCH_MAX_BYTES"] = "lots";
  env["LOGFERRY_BATCH_TIMEOUT"] = "soon";
  env["LOGFERRY_READ_FROM"] = "middle";
  env["LOGFERRY_LABELS"] = "team";
  env["LOGFERRY_MAX_IN_FLIGHT"] = "0";
  env["LOGFERRY_COMPRESS"] = "maybe";
  env["LOGFERRY_LOG_LEVEL"] = "loud";
  auto r = load_config(env, parser_catalog());
  const auto m = messages(r);
  CHECK(m == std::vector<std::string>{
                 "LOGFERRY_READ_FROM=\"middle\": expected head or tail",
                 "LOGFERRY_OUTPUT=\"bogus\": expected tcp://HOST:PORT or tls://HOST:PORT (several separated by "
                 "commas for failover), otlp+http(s)://HOST[:PORT][/PATH] or loki+http(s)://HOST[:PORT][/PATH]",
                 "LOGFERRY_LABELS=\"team\": expected comma-separated key=value pairs, e.g. team=payments,env=prod",
                 "LOGFERRY_BATCH_MAX_BYTES=\"lots\": expected a size of at least 1KiB such as 64KiB, 4MiB or 1048576",
                 "LOGFERRY_BATCH_TIMEOUT=\"soon\": expected a duration such as 250ms, 5s or 2m",
                 "LOGFERRY_MAX_IN_FLIGHT=\"0\": expected a whole number from 1 to 1024",
                 "LOGFERRY_COMPRESS=\"maybe\": expected true or false",
                 "LOGFERRY_LOG_LEVEL=\"loud\": expected debug, info, warn or error",
             });
}

TEST_CASE("required settings and cross-checks have exact messages", "[config]") {
  test::TempDir tmp;
  SECTION("no output and no source") {
    auto r = load_config({{"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()}}, parser_catalog());
    CHECK(messages(r) == std::vector<std::string>{
                             "LOGFERRY_OUTPUT=\"\": required: expected tcp://HOST:PORT",
                             "LOGFERRY_FILES=\"\": no source configured: set LOGFERRY_FILES (globs), "
                             "LOGFERRY_PIPE or LOGFERRY_STDIN=true",
                         });
  }
  SECTION("buffer smaller than two batches") {
    auto env = files_environment(tmp);
    env["LOGFERRY_BUFFER_MAX_BYTES"] = "512KiB";
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{"LOGFERRY_BUFFER_MAX_BYTES=\"512KiB\": must be at least twice "
                                   "LOGFERRY_BATCH_MAX_BYTES (512KiB)"});
  }
  SECTION("backoff max below initial") {
    auto env = files_environment(tmp);
    env["LOGFERRY_BACKOFF_INITIAL"] = "10s";
    env["LOGFERRY_BACKOFF_MAX"] = "1s";
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{"LOGFERRY_BACKOFF_MAX=\"1s\": must not be shorter than LOGFERRY_BACKOFF_INITIAL"});
  }
  SECTION("TLS certificate without key") {
    auto env = files_environment(tmp);
    env["LOGFERRY_TLS_CERT"] = "/tls/client.pem";
    CHECK(messages(load_config(env, parser_catalog())) ==
          std::vector<std::string>{"LOGFERRY_TLS_KEY=\"\": LOGFERRY_TLS_CERT and LOGFERRY_TLS_KEY go together"});
  }
  SECTION("checkpoint dir that is a file") {
    auto env = files_environment(tmp);
    const auto file = tmp.write_file("not-a-dir", "x");
    env["LOGFERRY_CHECKPOINT_DIR"] = file.string();
    const auto m = messages(load_config(env, parser_catalog()));
    REQUIRE(m.size() == 1);
    CHECK(m[0].starts_with("LOGFERRY_CHECKPOINT_DIR=\"" + file.string() + "\": cannot create the directory: "));
  }
}

TEST_CASE("a misspelt LOGFERRY_ variable is an error with a hint", "[config]") {
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["LOGFERRY_FILSE"] = "/x/*.log";
  env["LOGFERRY_WHATEVER_THIS_IS"] = "1";
  env["LOGFERRY_AGGREGATOR_LISTEN"] = "0.0.0.0:7070";  // the aggregator's; not ours to judge
  CHECK(messages(load_config(env, parser_catalog())) == std::vector<std::string>{
                                          "LOGFERRY_FILSE: unknown variable; did you mean LOGFERRY_FILES?",
                                          "LOGFERRY_WHATEVER_THIS_IS: unknown variable",
                                      });
}

TEST_CASE("secrets are redacted in errors and in the effective configuration", "[config]") {
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["LOGFERRY_AUTH_TOKEN"] = "s3cr3t-value";
  const std::string effective = render_effective<Config>(config_table(), env);
  CHECK(effective.find("s3cr3t-value") == std::string::npos);
  CHECK(effective.find("LOGFERRY_AUTH_TOKEN=<redacted>") != std::string::npos);
  const std::string help = render_help<Config>(config_table());
  CHECK(help.find("LOGFERRY_AUTH_TOKEN") != std::string::npos);
}

TEST_CASE("outputs: several addresses, IPv6 and the allowed schemes", "[config]") {
  auto eps = parse_outputs("tcp://agg-0.agg:7070, tls://[::1]:7443");
  REQUIRE(eps);
  REQUIRE(eps->size() == 2);
  CHECK((*eps)[0].host == "agg-0.agg");
  CHECK((*eps)[1].scheme == "tls");
  CHECK((*eps)[1].host == "::1");
  CHECK((*eps)[1].port == 7443);
  CHECK_FALSE(parse_outputs("tcp://host").has_value());
  CHECK_FALSE(parse_outputs("tcp://host:0").has_value());
  CHECK_FALSE(parse_outputs("tcp://host:70000").has_value());
  CHECK_FALSE(parse_outputs("udp://host:514").has_value());
  // stdout:// had no sink: --check-config must not accept what start-up cannot run.
  CHECK_FALSE(parse_outputs("stdout://").has_value());
  CHECK_FALSE(parse_outputs("").has_value());
}

TEST_CASE("a token file that cannot be read is a configuration error", "[config][security]") {
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["LOGFERRY_AUTH_TOKEN_FILE"] = (tmp / "missing/token").string();
  auto r = load_config(env, parser_catalog());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].variable == "LOGFERRY_AUTH_TOKEN_FILE");
  CHECK(r.errors[0].message == "LOGFERRY_AUTH_TOKEN_FILE=\"" + (tmp / "missing/token").string() +
                                   "\": cannot read the token file: No such file or directory");
  env["LOGFERRY_AUTH_TOKEN_FILE"] = tmp.write_file("token", "abc\n").string();
  CHECK(load_config(env, parser_catalog()).errors.empty());
}

TEST_CASE("credentials and query strings are redacted from every echoed URL", "[config][security]") {
  CHECK(redact_urls("loki+https://user:pass@host/x?token=y") == "loki+https://***@host/x?***");
  CHECK(redact_urls("otlp+http://h:4318/v1/logs?api_key=k,otlp+http://u@g:4318") ==
        "otlp+http://h:4318/v1/logs?***,otlp+http://***@g:4318");
  CHECK(redact_urls("tcp://aggregator:7070") == "tcp://aggregator:7070");
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["LOGFERRY_OUTPUT"] = "loki+https://user:pass@host/x?token=y";
  auto r = load_config(env, parser_catalog());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message.find("pass") == std::string::npos);
  CHECK(r.errors[0].message.find("token=y") == std::string::npos);
  CHECK(r.errors[0].message.starts_with("LOGFERRY_OUTPUT=\"loki+https://***@host/x?***\": "));
  // Accepted with a query string: shown redacted by --check-config and in messages.
  env["LOGFERRY_OUTPUT"] = "otlp+https://collector/v1/logs?api_key=k3y";
  r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  CHECK(r.config.output.outputs[0].text == "otlp+https://collector/v1/logs?***");
  CHECK(r.config.output.outputs[0].path == "/v1/logs?api_key=k3y");
  const auto effective = render_effective<Config>(config_table(), env);
  CHECK(effective.find("k3y") == std::string::npos);
  CHECK(effective.find("LOGFERRY_OUTPUT=otlp+https://collector/v1/logs?***\n") != std::string::npos);
}

TEST_CASE("labels from the environment are valid UTF-8 once loaded", "[config][security]") {
  test::TempDir tmp;
  auto env = files_environment(tmp);
  env["POD_NAME"] = "web\xFF";
  env["LOGFERRY_LABELS"] = "t\xE9" "am=caf\xE9";
  auto r = load_config(env, parser_catalog());
  REQUIRE(r.errors.empty());
  const auto labels = r.config.identity.resource_labels();
  REQUIRE(labels.size() == 2);
  CHECK(labels[0].second == "web\xEF\xBF\xBD");
  CHECK(labels[1].first == "t\xEF\xBF\xBD" "am");
  CHECK(labels[1].second == "caf\xEF\xBF\xBD");
}

TEST_CASE("--help documents the symlink opt-in and the pods root", "[config][security]") {
  const auto help = render_help<Config>(config_table());
  CHECK(help.find("LOGFERRY_FOLLOW_SYMLINKS") != std::string::npos);
  CHECK(help.find("LOGFERRY_PODS_ROOT") != std::string::npos);
  test::TempDir tmp;
  auto r = load_config(files_environment(tmp), parser_catalog());
  CHECK_FALSE(r.config.files.follow_symlinks);
  CHECK(r.config.files.pods_root == "/var/log/pods");
}
