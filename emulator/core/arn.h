// Ids and ARNs: the account and region a request acts in, and the ARNs built from them.
//
// Resources are isolated per (account, region). The account is the access key id
// when it is 12 digits (as other emulators do), else the configured default;
// the region comes from the request's credential scope. Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace understudy {

inline constexpr std::string_view kDefaultAccountId = "000000000000";
inline constexpr std::string_view kDefaultRegion = "us-east-1";

// Where a request acts: every resource belongs to exactly one scope.
struct Scope {
  std::string account;
  std::string region;
  bool operator==(const Scope&) const = default;
};

bool IsAccountId(std::string_view text);  // exactly 12 digits
// The account a request with access key `access_key_id` acts in.
std::string AccountFor(std::string_view access_key_id, std::string_view default_account);
bool IsRegionName(std::string_view text);  // "us-east-1", "eu-central-2", "us-gov-west-1"...

struct Arn {
  std::string partition = "aws";
  std::string service;
  std::string region;
  std::string account;
  std::string resource;  // everything after the fifth colon

  std::string ToString() const;
  // Parses "arn:<partition>:<service>:<region>:<account>:<resource>".
  static std::optional<Arn> Parse(std::string_view text);
};

// "arn:aws:<service>:<region>:<account>:<resource>"
std::string MakeArn(std::string_view service, const Scope& scope, std::string_view resource);

}  // namespace understudy
