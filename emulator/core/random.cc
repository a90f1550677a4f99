#include "core/random.h"

#include <deque>
#include <mutex>

#include "core/check.h"

namespace understudy {
namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Fnv1a(std::string_view text, uint64_t hash) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The per-stream draw counters; entries are never removed, so pointers stay valid.
struct DrawRegistry {
  std::mutex mu;
  std::map<std::string, std::atomic<uint64_t>*, std::less<>> by_name;
  std::deque<std::atomic<uint64_t>> counters;

  std::atomic<uint64_t>* For(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    std::atomic<uint64_t>* counter = &counters.emplace_back(0);
    by_name.emplace(std::string(name), counter);
    return counter;
  }
};

DrawRegistry& Registry() {
  static DrawRegistry* registry = new DrawRegistry();  // never destroyed: used until exit
  return *registry;
}

}  // namespace

Random::Random(uint64_t seed) : Random(seed, Registry().For("")) {}

Random::Random(uint64_t seed, std::atomic<uint64_t>* draws) : seed_(seed), draws_(draws) {
  uint64_t x = seed;
  for (auto& word : state_) word = SplitMix64(x);
}

Random Random::Fork(std::string_view name) const {
  Random forked(Fnv1a(name, 0xcbf29ce484222325ULL ^ seed_), root_ ? Registry().For(name) : draws_);
  forked.root_ = false;
  return forked;
}

std::map<std::string, uint64_t> Random::DrawCounts() {
  DrawRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mu);
  std::map<std::string, uint64_t> out;
  for (const auto& [name, counter] : registry.by_name) {
    uint64_t n = counter->load(std::memory_order_relaxed);
    if (n > 0) out[name] = n;
  }
  return out;
}

uint64_t Random::Next64() {
  draws_->fetch_add(1, std::memory_order_relaxed);
  uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

uint64_t Random::Below(uint64_t bound) {
  UNDERSTUDY_CHECK(bound > 0);
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // reject the biased tail
  for (;;) {
    uint64_t x = Next64();
    if (x < limit) return x % bound;
  }
}

int64_t Random::Between(int64_t lo, int64_t hi) {
  UNDERSTUDY_CHECK(lo <= hi);
  uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + Below(span + 1));
}

double Random::Unit() { return static_cast<double>(Next64() >> 11) * 0x1.0p-53; }

std::string Random::Hex(size_t n) {
  std::string out(n, '0');
  FillHex(out.data(), n);
  return out;
}

void Random::FillHex(char* out, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) out[i] = kDigits[Below(16)];
}

std::string Random::Digits(size_t n) {
  std::string out(n, '0');
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>('0' + (i == 0 ? 1 + Below(9) : Below(10)));
  return out;
}

std::string Random::Uuid() {
  std::string hex = Hex(32);
  hex[12] = '4';
  hex[16] = "89ab"[Below(4)];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace understudy
