#include "check.h"

#include <string.h>

#include <string>
#include <vector>

namespace check {

struct Entry {
  const char* name;
  TestFn fn;
};

static std::vector<Entry>& registry() {
  static std::vector<Entry> tests;
  return tests;
}

void add(const char* name, TestFn fn) { registry().push_back(Entry{name, fn}); }

void fail(const char* file, int line, const char* what) {
  fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", file, line, what);
  throw Failure();
}

void failEq(const char* file, int line, const char* expr, long long actual, long long expected) {
  fprintf(stderr, "  %s:%d: CHECK_EQ(%s): got %lld (0x%llx), expected %lld (0x%llx)\n", file, line, expr, actual,
          (unsigned long long)actual, expected, (unsigned long long)expected);
  throw Failure();
}

}  // namespace check

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const check::Entry& t : check::registry()) {
    if (filter && !strstr(t.name, filter)) continue;
    try {
      t.fn();
      passed++;
    } catch (const check::Failure&) {
      fprintf(stderr, "FAIL %s\n", t.name);
      failed++;
    }
  }
  printf("firmware: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
