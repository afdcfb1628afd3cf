// A tiny test framework: TEST(name) { CHECK(cond); CHECK_EQ(a, b); CHECK_NEAR(a, b, tol); }
// A failed check reports file:line and ends that test; the runner prints
// "firmware: N passed, M failed" and exits non-zero on any failure.
#ifndef PIPDU_CHECK_H
#define PIPDU_CHECK_H

#include <stdio.h>

namespace check {

typedef void (*TestFn)();
struct Failure {};
void add(const char* name, TestFn fn);
void fail(const char* file, int line, const char* what);
void failEq(const char* file, int line, const char* expr, long long actual, long long expected);

struct Registrar {
  Registrar(const char* name, TestFn fn) { add(name, fn); }
};

}  // namespace check

#define TEST(name)                                              \
  static void test_##name();                                    \
  static check::Registrar registrar_##name(#name, test_##name); \
  static void test_##name()

#define CHECK(cond) \
  do {              \
    if (!(cond)) check::fail(__FILE__, __LINE__, #cond); \
  } while (0)

#define CHECK_EQ(actual, expected)                                                          \
  do {                                                                                      \
    const long long a_ = (long long)(actual), e_ = (long long)(expected);                   \
    if (a_ != e_) check::failEq(__FILE__, __LINE__, #actual " == " #expected, a_, e_);      \
  } while (0)

#endif
