// CIDR blocks: strict parsing, containment, overlap and the n-th block of a size.
#include "ec2/cidr.h"

#include <gtest/gtest.h>

namespace understudy::ec2 {
namespace {

// Valid blocks parse and print back as given.
TEST(CidrTest, ParsesAndPrints) {
  for (const char* text : {"10.0.0.0/16", "172.31.0.0/20", "0.0.0.0/0", "192.168.1.7/32"}) {
    auto cidr = ParseCidr(text);
    ASSERT_TRUE(cidr.has_value()) << text;
    EXPECT_EQ(cidr->ToString(), text);
  }
  EXPECT_EQ(ParseCidr("10.1.0.0/16")->network, (10u << 24) | (1u << 16));
  EXPECT_EQ(ParseCidr("10.0.0.0/24")->Size(), 256u);
}

// Anything that is not four plain octets, a prefix of 0..32 and an aligned network is refused.
TEST(CidrTest, RefusesMalformed) {
  for (const char* text :
       {"", "10.0.0.0", "10.0.0/16", "10.0.0.0.0/16", "256.0.0.0/8", "10.0.0.0/33", "10.0.0.0/-1",
        "10.0.0.0/", "/16", "010.0.0.0/8", "10.0.0.1/16", "a.b.c.d/8", "10.0.0.0/16 ",
        " 10.0.0.0/16", "10..0.0/16", "10.0.0.0/016"}) {
    EXPECT_FALSE(ParseCidr(text).has_value()) << "'" << text << "'";
  }
}

// Containment and overlap in both directions, and disjoint neighbours.
TEST(CidrTest, ContainsAndOverlaps) {
  Cidr vpc = *ParseCidr("10.0.0.0/16");
  Cidr inside = *ParseCidr("10.0.4.0/24");
  Cidr neighbour = *ParseCidr("10.1.0.0/24");
  EXPECT_TRUE(vpc.Contains(inside));
  EXPECT_FALSE(inside.Contains(vpc));
  EXPECT_FALSE(vpc.Contains(neighbour));
  EXPECT_TRUE(vpc.Overlaps(inside));
  EXPECT_TRUE(inside.Overlaps(vpc));
  EXPECT_FALSE(vpc.Overlaps(neighbour));
  EXPECT_FALSE(ParseCidr("10.0.0.0/24")->Overlaps(*ParseCidr("10.0.1.0/24")));
  EXPECT_TRUE(ParseCidr("0.0.0.0/0")->Contains(neighbour));
}

// The default subnets are the first /20 blocks of 172.31.0.0/16.
TEST(CidrTest, NthBlock) {
  Cidr vpc = *ParseCidr("172.31.0.0/16");
  EXPECT_EQ(NthBlock(vpc, 20, 0).ToString(), "172.31.0.0/20");
  EXPECT_EQ(NthBlock(vpc, 20, 1).ToString(), "172.31.16.0/20");
  EXPECT_EQ(NthBlock(vpc, 20, 2).ToString(), "172.31.32.0/20");
}

}  // namespace
}  // namespace understudy::ec2
