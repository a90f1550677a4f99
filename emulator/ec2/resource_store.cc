#include "ec2/resource_store.h"

#include <algorithm>

namespace understudy::ec2 {
namespace {

Kind KindFrom(int64_t value) { return static_cast<Kind>(value); }

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kVpc:
      return "vpc";
    case Kind::kSubnet:
      return "subnet";
    case Kind::kSecurityGroup:
      return "security-group";
  }
  return "?";
}

ResourceStore::ResourceStore(Store& store, Random random)
    : store_(store), random_(std::move(random)) {}

Status ResourceStore::Open() {
  US_RETURN_IF_ERROR(store_.Migrate(
      "ec2", {"CREATE TABLE ec2_resources (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT "
              "NOT NULL, kind INTEGER NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, "
              "PRIMARY KEY (account, region, id));"
              "CREATE TABLE ec2_scopes (account TEXT NOT NULL, region TEXT NOT NULL, "
              "PRIMARY KEY (account, region));"
              "CREATE TABLE ec2_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"}));
  Status status = Status::Ok();
  US_RETURN_IF_ERROR(store_.Query(
      "SELECT account, region, id, kind, seq, doc FROM ec2_resources", {}, [&](const SqlRow& row) {
        auto doc = ParseJson(row.Text(5));
        if (!doc.ok()) {
          status = Status::IoError("ec2_resources row " + row.Text(2) + " is not JSON");
          return;
        }
        resources_[{row.Text(0), row.Text(1), row.Text(2)}] =
            Entry{KindFrom(row.Int(3)), row.Int(4), std::move(doc).value()};
        next_seq_ = std::max(next_seq_, row.Int(4) + 1);
      }));
  US_RETURN_IF_ERROR(status);
  US_RETURN_IF_ERROR(
      store_.Query("SELECT account, region FROM ec2_scopes", {}, [&](const SqlRow& row) {
        defaults_[{row.Text(0), row.Text(1)}] = true;
      }));
  US_RETURN_IF_ERROR(store_.Query("SELECT value FROM ec2_meta WHERE key = 'id_draws'", {},
                                  [&](const SqlRow& row) { draws_ = row.Int(0); }));
  // Skip the ids handed out before the restart.
  for (int64_t i = 0; i < draws_; ++i) random_.Hex(17);
  return status;
}

Status ResourceStore::Reset() {
  US_RETURN_IF_ERROR(store_.Transaction([&]() -> Status {
    US_RETURN_IF_ERROR(store_.Run("DELETE FROM ec2_resources"));
    return store_.Run("DELETE FROM ec2_scopes");
  }));
  resources_.clear();
  defaults_.clear();
  return Status::Ok();
}

std::string ResourceStore::NewId(const std::string& prefix) {
  std::string id = prefix + "-" + random_.Hex(17);
  ++draws_;
  // Best effort: an unsaved count only matters after a crash, and then the ids of
  // resources that were not saved either are handed out again.
  (void)store_.Run(
      "INSERT INTO ec2_meta(key, value) VALUES('id_draws', ?1) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      {draws_});
  return id;
}

Random ResourceStore::DefaultsStream(const Scope& scope) const {
  return random_.Fork("defaults/" + scope.account + "/" + scope.region);
}

const Json* ResourceStore::Find(const Scope& scope, Kind kind, const std::string& id) const {
  Kind found;
  const Json* doc = FindAny(scope, id, &found);
  return doc != nullptr && found == kind ? doc : nullptr;
}

const Json* ResourceStore::FindAny(const Scope& scope, const std::string& id, Kind* kind) const {
  auto it = resources_.find({scope.account, scope.region, id});
  if (it == resources_.end()) return nullptr;
  if (kind != nullptr) *kind = it->second.kind;
  return &it->second.doc;
}

std::vector<const Json*> ResourceStore::List(const Scope& scope, Kind kind) const {
  std::vector<const Entry*> entries;
  for (auto it = resources_.lower_bound({scope.account, scope.region, ""});
       it != resources_.end() && std::get<0>(it->first) == scope.account &&
       std::get<1>(it->first) == scope.region;
       ++it) {
    if (it->second.kind == kind) entries.push_back(&it->second);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->seq < b->seq; });
  std::vector<const Json*> out;
  for (const Entry* e : entries) out.push_back(&e->doc);
  return out;
}

Status ResourceStore::Write(const Scope& scope, const std::vector<Change>& changes,
                            std::vector<int64_t>* seqs) {
  int64_t next = next_seq_;
  for (const Change& change : changes) {
    auto it = resources_.find({scope.account, scope.region, change.id});
    int64_t seq = it != resources_.end() ? it->second.seq : next++;
    seqs->push_back(seq);
    if (!change.doc) {
      US_RETURN_IF_ERROR(
          store_.Run("DELETE FROM ec2_resources WHERE account = ?1 AND region = ?2 AND id = ?3",
                     {scope.account, scope.region, change.id}));
      continue;
    }
    US_RETURN_IF_ERROR(
        store_.Run("INSERT INTO ec2_resources(account, region, id, kind, seq, doc) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account, region, id) "
                   "DO UPDATE SET doc = excluded.doc",
                   {scope.account, scope.region, change.id, static_cast<int64_t>(change.kind), seq,
                    change.doc->dump()}));
  }
  return Status::Ok();
}

void ResourceStore::Apply(const Scope& scope, const std::vector<Change>& changes,
                          const std::vector<int64_t>& seqs) {
  for (size_t i = 0; i < changes.size(); ++i) {
    Key key{scope.account, scope.region, changes[i].id};
    if (!changes[i].doc) {
      resources_.erase(key);
    } else {
      resources_[key] = Entry{changes[i].kind, seqs[i], *changes[i].doc};
    }
    next_seq_ = std::max(next_seq_, seqs[i] + 1);
  }
}

Status ResourceStore::Commit(const Scope& scope, const std::vector<Change>& changes) {
  std::vector<int64_t> seqs;
  US_RETURN_IF_ERROR(store_.Transaction([&] { return Write(scope, changes, &seqs); }));
  Apply(scope, changes, seqs);
  return Status::Ok();
}

bool ResourceStore::HasDefaults(const Scope& scope) const {
  return defaults_.count({scope.account, scope.region}) > 0;
}

Status ResourceStore::CommitDefaults(const Scope& scope, const std::vector<Change>& changes) {
  std::vector<int64_t> seqs;
  US_RETURN_IF_ERROR(store_.Transaction([&]() -> Status {
    US_RETURN_IF_ERROR(Write(scope, changes, &seqs));
    return store_.Run("INSERT OR IGNORE INTO ec2_scopes(account, region) VALUES(?1, ?2)",
                      {scope.account, scope.region});
  }));
  Apply(scope, changes, seqs);
  defaults_[{scope.account, scope.region}] = true;
  return Status::Ok();
}

}  // namespace understudy::ec2
