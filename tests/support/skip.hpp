#pragma once
// Skipping a test case that cannot run here (Catch2 v2 has no SKIP): the case
// returns after calling skip(), which prints the reason and counts it; the
// test program then exits with kSkippedExitCode instead of 0 when nothing
// failed, and ctest (SKIP_RETURN_CODE) reports the entry as skipped, not passed.
#include <string>

namespace logferry::test {

// The exit code of a run in which no case failed and at least one skipped.
inline constexpr int kSkippedExitCode = 77;

// Reports the current case as skipped: prints "SKIPPED: <why>" to stderr and as a
// Catch warning, and counts it. The caller returns from the case right after.
void skip(const std::string& why);

// How many skip() calls this process made.
int skipped_count();

}  // namespace logferry::test
