#include "core/random.h"

#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace understudy {
namespace {

std::vector<uint64_t> Draws(Random r, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(r.Next64());
  return out;
}

// Proves the generator is xoshiro256** seeded through splitmix64: its first draws match a
// reference implementation, so a seed gives the same run everywhere.
TEST(RandomTest, MatchesReferenceDraws) {
  EXPECT_THAT(
      Draws(Random(0), 3),
      ::testing::ElementsAre(0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL));
  EXPECT_THAT(
      Draws(Random(42), 3),
      ::testing::ElementsAre(0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL));
}

// Proves the same seed gives the same sequence and different seeds differ.
TEST(RandomTest, SameSeedSameSequence) {
  EXPECT_EQ(Draws(Random(7), 100), Draws(Random(7), 100));
  EXPECT_NE(Draws(Random(7), 100), Draws(Random(8), 100));
  EXPECT_EQ(Random(7).seed(), 7u);
}

// Proves Fork streams depend only on the parent seed and the name: stable, distinct per name,
// distinct from the parent, and unaffected by the parent's draws.
TEST(RandomTest, ForkIsStableAndNamed) {
  Random parent(42);
  Random a1 = parent.Fork("a");
  for (int i = 0; i < 10; ++i) parent.Next64();
  Random a2 = parent.Fork("a");
  EXPECT_EQ(a1.seed(), a2.seed());
  EXPECT_EQ(Draws(a1, 50), Draws(a2, 50));
  EXPECT_NE(Draws(parent.Fork("a"), 50), Draws(parent.Fork("b"), 50));
  EXPECT_NE(Draws(parent.Fork("a"), 50), Draws(Random(42), 50));
  EXPECT_NE(Draws(Random(43).Fork("a"), 50), Draws(parent.Fork("a"), 50));
  // Forks of forks are themselves stable.
  EXPECT_EQ(Draws(parent.Fork("a").Fork("x"), 20), Draws(Random(42).Fork("a").Fork("x"), 20));
  // The fork's seed is FNV-1a of the name over the parent seed (pinned so streams never shift).
  EXPECT_EQ(Random(42).Fork("chaos").seed(), 0xb05de806c8d817f9ULL);
  EXPECT_THAT(Draws(Random(42).Fork("chaos"), 2),
              ::testing::ElementsAre(0xf92859b80d685ae8ULL, 0xc0afae94c5da9952ULL));
}

// Proves Below stays in [0, bound) and reaches every value of a small range.
TEST(RandomTest, BelowIsInRange) {
  Random r(1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = r.Below(6);
    ASSERT_LT(v, 6u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 6u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.Below(1), 0u);
  const uint64_t huge = std::numeric_limits<uint64_t>::max() / 2 + 3;  // worst case for rejection
  for (int i = 0; i < 100; ++i) EXPECT_LT(r.Below(huge), huge);
}

// Proves Between stays in [lo, hi] inclusive, including negative and full 64-bit ranges.
TEST(RandomTest, BetweenIsInclusive) {
  Random r(2);
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    int64_t v = r.Between(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(r.Between(9, 9), 9);
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  bool negative = false, positive = false;
  for (int i = 0; i < 100; ++i) {
    int64_t v = r.Between(lo, hi);
    negative |= v < 0;
    positive |= v > 0;
  }
  EXPECT_TRUE(negative && positive);
}

// Proves Unit stays in [0, 1).
TEST(RandomTest, UnitIsInHalfOpenRange) {
  Random r(3);
  double sum = 0;
  for (int i = 0; i < 1000; ++i) {
    double v = r.Unit();
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
    sum += v;
  }
  EXPECT_NEAR(sum / 1000, 0.5, 0.1);
}

// Proves Hex returns exactly n lowercase hex digits.
TEST(RandomTest, HexLengthAndAlphabet) {
  Random r(4);
  EXPECT_EQ(r.Hex(0), "");
  for (size_t n : {1u, 8u, 32u, 100u}) {
    std::string h = r.Hex(n);
    EXPECT_EQ(h.size(), n);
    EXPECT_TRUE(std::regex_match(h, std::regex("[0-9a-f]*"))) << h;
  }
  std::string many = r.Hex(2000);
  EXPECT_EQ(std::set<char>(many.begin(), many.end()).size(), 16u);
}

// Proves Uuid has the version-4 8-4-4-4-12 form with an RFC 4122 variant, and is seeded.
TEST(RandomTest, UuidIsVersion4) {
  Random r(5);
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string u = r.Uuid();
    EXPECT_TRUE(std::regex_match(u, v4)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(Random(5).Uuid(), Random(5).Uuid());
}

// Proves Digits returns n decimal digits with a non-zero first digit.
TEST(RandomTest, DigitsLengthAndLeadingDigit) {
  Random r(6);
  for (int i = 0; i < 200; ++i) {
    std::string d = r.Digits(12);
    ASSERT_EQ(d.size(), 12u);
    EXPECT_TRUE(std::regex_match(d, std::regex("[1-9][0-9]{11}"))) << d;
  }
  EXPECT_EQ(r.Digits(0), "");
}

}  // namespace
}  // namespace understudy

// Draws are counted per stream: the first fork's name; forks of forks count with it.
TEST(RandomTest, DrawsAreCountedPerStream) {
  auto before = understudy::Random::DrawCounts();
  auto count = [](const std::map<std::string, uint64_t>& counts, const std::string& name) {
    auto it = counts.find(name);
    return it == counts.end() ? uint64_t{0} : it->second;
  };
  understudy::Random root(99);
  understudy::Random a = root.Fork("count-test-a");
  understudy::Random nested = a.Fork("child");
  understudy::Random b = root.Fork("count-test-b");
  a.Next64();
  a.Hex(4);  // 4 draws
  nested.Next64();
  b.Uuid();  // 32 hex digits + 1
  auto after = understudy::Random::DrawCounts();
  EXPECT_EQ(count(after, "count-test-a") - count(before, "count-test-a"), 6u);
  EXPECT_EQ(count(after, "count-test-b") - count(before, "count-test-b"), 33u);
  EXPECT_EQ(count(after, "child"), count(before, "child"));
}
