// Cidr: IPv4 CIDR blocks as EC2 uses them for VPCs, subnets and rules. Pure; any thread.
//
// Parsing is strict: four dotted decimal octets without leading zeros, a prefix
// length from 0 to 32, and no address bits set below the prefix ("10.0.0.1/16" is
// refused; EC2 documents blocks by their network address).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::ec2 {

struct Cidr {
  uint32_t network = 0;  // host byte order, host bits zero
  int prefix = 0;        // 0..32

  // "10.0.0.0/16"
  std::string ToString() const;
  // The number of addresses in the block (2^(32 - prefix)).
  uint64_t Size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t Last() const { return network + static_cast<uint32_t>(Size() - 1); }
  // True when every address of `inner` is in this block.
  bool Contains(const Cidr& inner) const;
  // True when the two blocks share at least one address.
  bool Overlaps(const Cidr& other) const;
  bool operator==(const Cidr&) const = default;
};

// Parses "a.b.c.d/n"; nothing when the text is not a valid, aligned IPv4 block.
std::optional<Cidr> ParseCidr(std::string_view text);

// The n-th block of `prefix` bits inside `outer`, counting from 0 (the default
// subnets: 172.31.0.0/20, 172.31.16.0/20, ...). REQUIRES: prefix >= outer.prefix and
// the block fits.
Cidr NthBlock(const Cidr& outer, int prefix, uint32_t n);

}  // namespace understudy::ec2
