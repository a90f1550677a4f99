// Random: the run's seeded generator. Every random choice draws from it.
//
// xoshiro256** seeded through splitmix64, with our own range reduction, so a
// seed gives the same draws on every platform and standard library. Fork(name)
// derives an independent stream (chaos, jitter, ids) so one component's draws do
// not shift another's. Not thread-safe: loop thread, or one owner per stream.
//
// Draws are counted per stream (the name given to the first Fork from a seeded
// generator; forks of forks count with it; "" for a seeded generator itself), so a
// recorded run can check that a replay drew as often from each stream.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace understudy {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t seed() const { return seed_; }
  // A generator for stream `name`, determined by this generator's seed and the name only.
  Random Fork(std::string_view name) const;

  uint64_t Next64();
  // Uniform in [0, bound). REQUIRES: bound > 0.
  uint64_t Below(uint64_t bound);
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi);
  // Uniform in [0, 1).
  double Unit();
  // `n` lowercase hex digits.
  std::string Hex(size_t n);
  // The same digits written to out[0..n), for callers that must not allocate.
  void FillHex(char* out, size_t n);
  // A version-4 UUID in its 8-4-4-4-12 text form.
  std::string Uuid();
  // `n` decimal digits, the first non-zero.
  std::string Digits(size_t n);

  // Draws (Next64 calls) so far in this process, per stream; any thread.
  static std::map<std::string, uint64_t> DrawCounts();

 private:
  Random(uint64_t seed, std::atomic<uint64_t>* draws);

  uint64_t seed_;
  std::array<uint64_t, 4> state_;
  std::atomic<uint64_t>* draws_;  // the stream's counter (lives as long as the process)
  bool root_ = true;              // seeded directly, not forked
};

}  // namespace understudy
