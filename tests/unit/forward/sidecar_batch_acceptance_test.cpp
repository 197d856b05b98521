#include "unit/forward/sidecar_batch_check.hpp"

#include <random>

#include <catch2/catch.hpp>

using namespace logferry;

TEST_CASE("batches built from hostile names, labels and lines are accepted by the aggregator",
          "[forward][security]") {
  SECTION("a Latin-1 file name, an invalid label and invalid lines") {
    std::string in;
    auto piece = [&](std::string_view s) {
      in.push_back(static_cast<char>(s.size()));
      in.append(s);
    };
    in.push_back(0);  // sidecar mode, plain parser, one source
    piece("web\xFF");
    piece("sh\xC0p");
    piece("app");
    piece("team=caf\xE9");
    piece("caf\xE9");      // the file name
    piece("\xED\xA0\x80");  // id suffix: a surrogate
    for (int i = 0; i < 3; ++i) {
      in.push_back(0);
      piece("line \xFE\xFF");
    }
    std::string why;
    const bool ok = fuzz::sidecar_batches_accepted(reinterpret_cast<const uint8_t*>(in.data()), in.size(), &why);
    INFO(why);
    CHECK(ok);
  }
  SECTION("seeded random inputs") {
    std::mt19937 rng(20261201);
    std::string why;
    for (int round = 0; round < 300; ++round) {
      std::string in(rng() % 2048, '\0');
      for (auto& c : in) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 128 : rng() % 256);
      const bool ok = fuzz::sidecar_batches_accepted(reinterpret_cast<const uint8_t*>(in.data()), in.size(), &why);
      INFO("round " << round << ": " << why);
      REQUIRE(ok);
    }
  }
}
