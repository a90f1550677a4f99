// ResourceStore: every EC2 resource of every scope, in memory and in the store.
// Internal to ec2/.
//
// A resource is a document in its Describe* output shape (VpcId, CidrBlock, Tags,
// ...) plus members starting with `_` that are ours (a security group's rules).
// Documents are written through to `ec2_resources`; a change of several resources
// commits in one transaction or not at all, so a failed write changes nothing.
// Ids are drawn from the component's Random stream; how many were drawn is kept, so
// a restart with the same seed never hands out an id again. Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/arn.h"
#include "core/json.h"
#include "core/random.h"
#include "core/store.h"

namespace understudy::ec2 {

enum class Kind { kVpc, kSubnet, kSecurityGroup };
const char* KindName(Kind kind);  // "vpc", "subnet", "security-group"

// One change of a commit: `doc` replaces the resource `id`, or removes it when empty.
struct Change {
  Kind kind;
  std::string id;
  std::optional<Json> doc;
};

class ResourceStore {
 public:
  ResourceStore(Store& store, Random random);
  // Migrates the tables and loads every resource.
  Status Open();
  // Forgets every resource and every scope's defaults (the id stream goes on).
  Status Reset();

  // A new id "<prefix>-" + 17 hex digits from the component's stream.
  std::string NewId(const std::string& prefix);
  // The stream a scope's default resources draw their ids from: the same for the
  // same seed and scope, whenever the scope is first used.
  Random DefaultsStream(const Scope& scope) const;

  // The resource `id` of `scope` if it is of `kind`, or nullptr.
  const Json* Find(const Scope& scope, Kind kind, const std::string& id) const;
  // The resource `id` of `scope` of any kind, or nullptr (`kind` set when found).
  const Json* FindAny(const Scope& scope, const std::string& id, Kind* kind = nullptr) const;
  // Every resource of `kind` in `scope`, oldest first.
  std::vector<const Json*> List(const Scope& scope, Kind kind) const;

  // Applies `changes` to `scope` in one transaction; on failure nothing changes.
  Status Commit(const Scope& scope, const std::vector<Change>& changes);

  // Whether the scope's default VPC, subnets and security group were made.
  bool HasDefaults(const Scope& scope) const;
  // Commits `changes` and marks the scope's defaults made, in one transaction.
  Status CommitDefaults(const Scope& scope, const std::vector<Change>& changes);

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // account, region, id
  struct Entry {
    Kind kind;
    int64_t seq;
    Json doc;
  };
  Status Write(const Scope& scope, const std::vector<Change>& changes, std::vector<int64_t>* seqs);
  void Apply(const Scope& scope, const std::vector<Change>& changes,
             const std::vector<int64_t>& seqs);

  Store& store_;
  Random random_;
  int64_t draws_ = 0;     // ids drawn from random_, persisted
  int64_t next_seq_ = 1;  // creation order
  std::map<Key, Entry> resources_;
  std::map<std::pair<std::string, std::string>, bool> defaults_;  // scopes with defaults
};

}  // namespace understudy::ec2
