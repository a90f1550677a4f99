// Helpers the EC2 resources share: EC2's errors as EC2 words them, documents as
// Describe* shows them, id lists, paging and tag specifications. Internal to ec2/.
// Any thread.
//
// Where AWS's exact wording could not be confirmed, the text follows the pattern of
// its documented siblings; each such error says so beside it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "core/json.h"

namespace understudy::ec2 {

inline api::ApiError Ec2Error(std::string code, std::string message) {
  return api::ApiError::Client(std::move(code), std::move(message));
}
inline api::ApiError InvalidParameterValue(std::string message) {
  return Ec2Error("InvalidParameterValue", std::move(message));
}
inline api::ApiError MissingParameter(const std::string& name) {
  return Ec2Error("MissingParameter", "The request must contain the parameter " + name);
}

// InvalidVpcID.NotFound "The vpc ID 'vpc-1' does not exist", or InvalidVpcID.Malformed
// when the id does not start with "vpc-".
api::ApiError VpcNotFound(const std::string& id);
// InvalidSubnetID.NotFound "The subnet ID 'subnet-1' does not exist" (or .Malformed).
api::ApiError SubnetNotFound(const std::string& id);
// InvalidGroup.NotFound "The security group 'sg-1' does not exist" (InvalidGroupId.Malformed
// when the id does not start with "sg-").
api::ApiError GroupNotFound(const std::string& id);
// "Value (x) for parameter cidrBlock is invalid. This is not a valid CIDR block."
api::ApiError InvalidCidr(const std::string& text);

// The document as Describe* shows it: our `_` members dropped, and Tags only when
// there are some (EC2 leaves out an empty tagSet).
Json View(const Json& doc);

// The strings of list member `name` of `input` (VpcIds, SubnetIds...), empty when absent.
std::vector<std::string> Strings(const Json& input, const char* name);

// One page of `items` (already filtered, in order) from input's MaxResults and
// NextToken; sets `next_token` when more follow. The token is the index to resume
// at; a token that is not one is InvalidParameterValue.
std::optional<api::ApiError> Page(const Json& input, std::vector<Json>* items,
                                  std::string* next_token);

// The tags that input's TagSpecifications give resource type `type` ("vpc", ...), or
// the error for a specification of another type or a reserved key.
std::optional<api::ApiError> TagsFor(const Json& input, const std::string& type, Json* tags);
// Checks tags to set: keys present, not starting with "aws:".
std::optional<api::ApiError> CheckTagKeys(const Json& tags);
// `existing` with `added` set over it (one entry per key, in key order).
Json MergeTags(const Json& existing, const Json& added);

}  // namespace understudy::ec2
