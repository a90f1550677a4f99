#include "ec2/cidr.h"

#include <charconv>

namespace understudy::ec2 {
namespace {

// One decimal number of at most `max`, without leading zeros (except "0" itself).
std::optional<uint32_t> ParseNumber(std::string_view text, uint32_t max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

uint32_t Mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

}  // namespace

std::string Cidr::ToString() const {
  return std::to_string(network >> 24) + "." + std::to_string((network >> 16) & 0xff) + "." +
         std::to_string((network >> 8) & 0xff) + "." + std::to_string(network & 0xff) + "/" +
         std::to_string(prefix);
}

bool Cidr::Contains(const Cidr& inner) const {
  return inner.prefix >= prefix && (inner.network & Mask(prefix)) == network;
}

bool Cidr::Overlaps(const Cidr& other) const { return Contains(other) || other.Contains(*this); }

std::optional<Cidr> ParseCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto prefix = ParseNumber(text.substr(slash + 1), 32);
  if (!prefix) return std::nullopt;
  std::string_view address = text.substr(0, slash);
  uint32_t network = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = address.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return std::nullopt;
    auto octet = ParseNumber(address.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    network = (network << 8) | *octet;
    address = i == 3 ? std::string_view() : address.substr(dot + 1);
  }
  Cidr cidr{network, static_cast<int>(*prefix)};
  if ((network & ~Mask(cidr.prefix)) != 0) return std::nullopt;
  return cidr;
}

Cidr NthBlock(const Cidr& outer, int prefix, uint32_t n) {
  return Cidr{outer.network + (prefix == 0 ? 0 : n << (32 - prefix)), prefix};
}

}  // namespace understudy::ec2
