#include "chaos/chaos.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "chaos/netfault.h"
#include "core/arn.h"
#include "core/glob.h"
#include "core/time.h"

namespace understudy::chaos {
namespace {

api::ApiError Validation(std::string message) {
  return api::ApiError::Client("ValidationException", std::move(message));
}
api::ApiError NotFound(std::string message) {
  return api::ApiError::Client("ResourceNotFoundException", std::move(message), 404);
}

bool Final(const std::string& status) {
  return status == "completed" || status == "stopped" || status == "failed" ||
         status == "cancelled";
}

// Processes whose process group is one of `groups` and whose name (comm, at most 15
// characters) is `name`.
std::vector<int> ProcessesNamed(const std::vector<int>& groups, const std::string& name) {
  std::vector<int> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    std::string pid_text = entry->d_name;
    if (pid_text.empty() || !std::all_of(pid_text.begin(), pid_text.end(), ::isdigit)) continue;
    std::ifstream in("/proc/" + pid_text + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    int ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (std::find(groups.begin(), groups.end(), pgrp) == groups.end()) continue;
    if (comm != name && comm != name.substr(0, 15)) continue;
    out.push_back(std::stoi(pid_text));
  }
  closedir(proc);
  std::sort(out.begin(), out.end());
  return out;
}

// Runs `argv` inside the network namespace of process `pid` (nsenter), waiting for it.
// The values at `path` ("lastStatus", "Containers.Name": dot-separated members, matched
// without regard to case; arrays on the way contribute each element) as text.
void ValuesAt(const Json& doc, const std::vector<std::string>& path, size_t at,
              std::vector<std::string>& out) {
  if (doc.is_array()) {
    for (const auto& element : doc) ValuesAt(element, path, at, out);
    return;
  }
  if (at == path.size()) {
    out.push_back(doc.is_string() ? doc.get<std::string>() : doc.dump());
    return;
  }
  if (!doc.is_object()) return;
  for (const auto& [key, value] : doc.items()) {
    if (key.size() != path[at].size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(key[i])) ==
             std::tolower(static_cast<unsigned char>(path[at][i]));
    if (same) ValuesAt(value, path, at + 1, out);
  }
}

// FIS resource filters: every filter must match; one matches when a value at its path
// equals one of its values (case-sensitive).
bool MatchesFilters(const Json& doc, const Json& filters) {
  for (const auto& f : filters) {
    std::vector<std::string> path;
    std::string text = f.value("path", "");
    for (size_t start = 0;;) {
      size_t dot = text.find('.', start);
      path.push_back(text.substr(start, dot == std::string::npos ? dot : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::vector<std::string> found;
    ValuesAt(doc, path, 0, found);
    bool any = false;
    for (const auto& v : f.value("values", Json::array())) {
      any |= v.is_string() &&
             std::find(found.begin(), found.end(), v.get<std::string>()) != found.end();
    }
    if (!any) return false;
  }
  return true;
}

Status RunInNetns(int pid, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"nsenter", "--net=/proc/" + std::to_string(pid) + "/ns/net"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::string text;
  for (const auto& a : full) text += (text.empty() ? "" : " ") + a;
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return Status::IoError("pipe: " + std::string(strerror(errno)));
  pid_t child = fork();
  if (child < 0) return Status::IoError("fork: " + std::string(strerror(errno)));
  if (child == 0) {
    dup2(err[1], 2);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    std::vector<char*> args;
    for (auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(err[1]);
  std::string output;
  char buffer[512];
  ssize_t n;
  while ((n = read(err[0], buffer, sizeof(buffer))) > 0) output.append(buffer, n);
  close(err[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return Status::Unavailable(text + " failed" + (output.empty() ? "" : ": " + output));
}

int64_t Number(const std::map<std::string, std::string>& params, const std::string& key,
               int64_t fallback) {
  auto it = params.find(key);
  return it == params.end() ? fallback : std::stoll(it->second);
}
std::string Text(const std::map<std::string, std::string>& params, const std::string& key,
                 const std::string& fallback = "") {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

}  // namespace

struct Chaos::ActionRun {
  ActionSpec spec;
  std::string status = "pending";
  std::string reason = "Initial state";
  std::optional<double> start;
  std::optional<double> end;
  TimerId timer = 0;
  std::function<void()> undo;
};

struct Chaos::Experiment {
  std::string id;
  std::string arn;
  std::string template_id;
  Scope scope;
  Template tmpl;
  Json tags = Json::object();
  Random random{0};
  std::string status = "pending";
  std::string reason;
  double created = 0;
  std::optional<double> start;
  std::optional<double> end;
  std::map<std::string, std::vector<ecs::ChaosTask>> resolved;
  std::map<std::string, ActionRun> actions;
  Json timeline = Json::array();
};

Chaos::Chaos(Clock& clock, Journal& journal, EventBus& bus, Random random, ChaosHooks hooks)
    : clock_(clock),
      journal_(journal),
      bus_(bus),
      run_seed_(random.seed()),
      random_(random.Fork("chaos")),
      hooks_(std::move(hooks)),
      api_faults_([this](uint64_t rule, const api::RequestContext& ctx, const std::string& what) {
        journal_.Transition("chaos/api-fault", Json{{"rule", rule},
                                                    {"service", ctx.service},
                                                    {"operation", ctx.operation},
                                                    {"fault", what}});
      }) {
  bus_subscription_ = bus_.Subscribe([this](const Json& event) { OnBusEvent(event); });
}

Chaos::~Chaos() {
  *alive_ = false;
  bus_.Unsubscribe(bus_subscription_);
}

std::string Chaos::NewId(const std::string& prefix) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = prefix;
  for (int i = 0; i < 15; ++i) id += kAlphabet[random_.Below(sizeof(kAlphabet) - 1)];
  return id;
}

void Chaos::Install(api::FrontDoor& front_door, api::ControlApi& control) {
  auto add = [&](const char* op,
                 api::ApiResult (Chaos::*method)(const api::RequestContext&, const Json&)) {
    front_door.Register("fis", op, [this, method](const api::RequestContext& ctx, const Json& in) {
      return (this->*method)(ctx, in);
    });
  };
  add("CreateExperimentTemplate", &Chaos::CreateTemplate);
  add("GetExperimentTemplate", &Chaos::GetTemplate);
  add("ListExperimentTemplates", &Chaos::ListTemplates);
  add("DeleteExperimentTemplate", &Chaos::DeleteTemplate);
  add("StartExperiment", &Chaos::StartExperiment);
  add("GetExperiment", &Chaos::GetExperiment);
  add("StopExperiment", &Chaos::StopExperiment);
  add("ListExperiments", &Chaos::ListExperiments);
  add("ListExperimentResolvedTargets", &Chaos::ListResolvedTargets);
  add("ListActions", &Chaos::ListActions);
  add("GetAction", &Chaos::GetAction);
  add("UpdateExperimentTemplate", &Chaos::UpdateTemplate);
  add("TagResource", &Chaos::TagResource);
  add("UntagResource", &Chaos::UntagResource);
  add("ListTagsForResource", &Chaos::ListTagsForResource);
  front_door.SetFaultHook([this](const api::RequestContext& ctx, const Json& input) {
    return api_faults_.Decide(ctx, input);
  });
  if (hooks_.set_smtp_fault) {
    hooks_.set_smtp_fault([this](const std::string& address) { return DecideSmtp(address); });
  }
  if (hooks_.set_delivery_fault) {
    hooks_.set_delivery_fault(
        [this](const events::DeliveryRequest& request) { return DecideDelivery(request); });
  }

  const std::string base = "/_understudy/chaos/experiments";
  front_door.RegisterInternal(
      "POST", base, [this](const api::HttpRequest& request, api::HttpReply reply) {
        auto body = ParseJsonWithComments(request.body.empty() ? "{}" : request.body);
        if (!body.ok()) {
          return reply(api::ControlError(400, "ValidationException",
                                         "the body is not JSON: " + body.status().message()));
        }
        std::string account = hooks_.default_scope.account;
        std::string region = hooks_.default_scope.region;
        if (auto scope = api::ParseCredentialScope(request)) region = scope->region;
        if (body->is_object()) {
          account = body->value("account", account);
          region = body->value("region", region);
        }
        auto result = StartInline(Scope{account, region}, *body);
        if (auto* error = std::get_if<api::ApiError>(&result)) {
          return reply(api::ControlError(error->http_status, error->code, error->message));
        }
        reply(api::JsonResponse(201, std::get<Json>(result)));
      });
  front_door.RegisterInternal("GET", base, [this](const api::HttpRequest&, api::HttpReply reply) {
    Json list = Json::array();
    for (const auto& id : order_) list.push_back(ExperimentJson(*experiments_.at(id), true));
    reply(api::JsonResponse(200, Json{{"experiments", list}}));
  });
  front_door.RegisterInternalPrefix(
      "GET", base + "/", [this, base](const api::HttpRequest& request, api::HttpReply reply) {
        std::string id = request.path.substr(base.size() + 1);
        auto found = Describe(id);
        if (!found) {
          return reply(api::ControlError(404, "ResourceNotFoundException",
                                         "Experiment " + id + " not found"));
        }
        reply(api::JsonResponse(200, *found));
      });
  front_door.RegisterInternalPrefix(
      "POST", base + "/", [this, base](const api::HttpRequest& request, api::HttpReply reply) {
        std::string rest = request.path.substr(base.size() + 1);
        const std::string suffix = "/stop";
        if (rest.size() <= suffix.size() ||
            rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0) {
          return reply(api::ControlError(
              404, "NotFound",
              "POST " + request.path + ": expected /_understudy/chaos/experiments/<id>/stop"));
        }
        std::string id = rest.substr(0, rest.size() - suffix.size());
        auto it = experiments_.find(id);
        if (it == experiments_.end()) {
          return reply(api::ControlError(404, "ResourceNotFoundException",
                                         "Experiment " + id + " not found"));
        }
        if (!Final(it->second->status))
          Finish(*it->second, "stopped", "Experiment stopped", "stopped");
        reply(api::JsonResponse(200, ExperimentJson(*it->second, true)));
      });
  control.AddCondition(
      "chaosExperiment", [this](const Scope&, const Json& params) -> Result<api::WaitCondition> {
        if (!params.is_object() || !params.contains("id") || !params["id"].is_string() ||
            (params.contains("status") && !params["status"].is_string())) {
          return Status::InvalidArgument(
              "expected {\"id\": \"<experiment id>\", \"status\": \"running\" | \"completed\" | "
              "\"stopped\" | \"failed\"} (without status: any final state)");
        }
        std::string id = params["id"].get<std::string>();
        std::string want = params.value("status", "");
        auto current = [this, id]() -> Json {
          auto it = experiments_.find(id);
          if (it == experiments_.end()) return Json{{"id", id}, {"status", "MISSING"}};
          return Json{{"id", id}, {"status", it->second->status}, {"reason", it->second->reason}};
        };
        return api::WaitCondition{[current, want] {
                                    std::string status = current()["status"];
                                    return want.empty() ? Final(status) : status == want;
                                  },
                                  current};
      });
  control.AddResetHook([this] { return Reset(); });
}

Status Chaos::Open(Store& store) {
  store_ = &store;
  US_RETURN_IF_ERROR(store.Migrate(
      "chaos", {"CREATE TABLE chaos_templates (id TEXT PRIMARY KEY, account TEXT NOT NULL, "
                "region TEXT NOT NULL, input TEXT NOT NULL, created REAL NOT NULL, updated "
                "REAL NOT NULL);"}));
  Status loaded = Status::Ok();
  US_RETURN_IF_ERROR(store.Query(
      "SELECT id, account, region, input, created, updated FROM chaos_templates ORDER BY id", {},
      [&](const SqlRow& row) {
        auto input = ParseJson(row.Text(3));
        if (!input.ok()) {
          loaded = Status::Internal("chaos template " + row.Text(0) + " is unreadable");
          return;
        }
        auto parsed = ParseTemplate(*input);
        if (auto* error = std::get_if<api::ApiError>(&parsed)) {
          loaded = Status::Internal("chaos template " + row.Text(0) +
                                    " no longer validates: " + error->message);
          return;
        }
        templates_[row.Text(0)] =
            StoredTemplate{Scope{row.Text(1), row.Text(2)}, std::get<Template>(std::move(parsed)),
                           *input, row.Real(4), row.Real(5)};
      }));
  return loaded;
}

Status Chaos::SaveTemplate(const std::string& id) {
  if (store_ == nullptr) return Status::Ok();
  auto it = templates_.find(id);
  if (it == templates_.end()) return store_->Run("DELETE FROM chaos_templates WHERE id = ?1", {id});
  // The input as stored keeps the tags as they are now.
  Json input = it->second.input;
  input["tags"] = it->second.tmpl.tags;
  return store_->Run(
      "INSERT OR REPLACE INTO chaos_templates(id, account, region, input, created, updated) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      {id, it->second.scope.account, it->second.scope.region, input.dump(), it->second.created,
       it->second.updated});
}

Status Chaos::Reset() {
  for (const auto& id : order_) {
    Experiment& e = *experiments_.at(id);
    if (!Final(e.status)) Finish(e, "stopped", "Experiment stopped by reset", "stopped");
  }
  experiments_.clear();
  order_.clear();
  templates_.clear();
  if (store_ != nullptr) US_RETURN_IF_ERROR(store_->Run("DELETE FROM chaos_templates"));
  api_faults_.Clear();
  traffic_faults_.clear();
  health_failures_.clear();
  delivery_rules_.clear();
  smtp_rules_.clear();
  PublishElbFaults();
  return Status::Ok();
}

// ---- FIS API ----

Json Chaos::TemplateJson(const std::string& id) const {
  const StoredTemplate& t = templates_.at(id);
  return Json{{"id", id},
              {"arn", MakeArn("fis", t.scope, "experiment-template/" + id)},
              {"description", t.tmpl.description},
              {"targets", TargetsJson(t.tmpl)},
              {"actions", ActionsJson(t.tmpl)},
              {"stopConditions", StopConditionsJson(t.tmpl)},
              {"creationTime", t.created},
              {"lastUpdateTime", t.updated},
              {"roleArn", t.tmpl.role_arn},
              {"tags", t.tmpl.tags},
              {"experimentOptions",
               {{"accountTargeting", "single-account"}, {"emptyTargetResolutionMode", "fail"}}}};
}

api::ApiResult Chaos::CreateTemplate(const api::RequestContext& ctx, const Json& input) {
  auto parsed = ParseTemplate(input);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) return *error;
  std::string id = NewId("EXT");
  while (templates_.count(id)) id = NewId("EXT");  // one kept from before a restart
  double now = ToEpochSeconds(clock_.Now());
  templates_[id] =
      StoredTemplate{ctx.scope, std::get<Template>(std::move(parsed)), input, now, now};
  if (Status saved = SaveTemplate(id); !saved.ok()) {
    templates_.erase(id);
    return api::ApiError::Server("InternalServerException", saved.message());
  }
  journal_.Transition("chaos/template/" + id, Json{{"created", true}});
  return Json{{"experimentTemplate", TemplateJson(id)}};
}

api::ApiResult Chaos::GetTemplate(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  auto it = templates_.find(id);
  if (it == templates_.end() || !(it->second.scope == ctx.scope))
    return NotFound("Experiment template " + id + " not found");
  return Json{{"experimentTemplate", TemplateJson(id)}};
}

api::ApiResult Chaos::ListTemplates(const api::RequestContext& ctx, const Json&) {
  Json list = Json::array();
  for (const auto& [id, t] : templates_) {
    if (!(t.scope == ctx.scope)) continue;
    list.push_back(Json{{"id", id},
                        {"arn", MakeArn("fis", t.scope, "experiment-template/" + id)},
                        {"description", t.tmpl.description},
                        {"creationTime", t.created},
                        {"lastUpdateTime", t.updated},
                        {"tags", t.tmpl.tags}});
  }
  return Json{{"experimentTemplates", list}};
}

api::ApiResult Chaos::UpdateTemplate(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  auto it = templates_.find(id);
  if (it == templates_.end() || !(it->second.scope == ctx.scope))
    return NotFound("Experiment template " + id + " not found");
  // Each member given replaces the template's; the result is validated as a new
  // template is, and nothing changes when it is invalid. Tags stay (TagResource).
  Json merged = it->second.input;
  for (const char* member : {"description", "stopConditions", "targets", "actions", "roleArn",
                             "logConfiguration", "experimentOptions"}) {
    if (input.contains(member)) merged[member] = input[member];
  }
  merged["tags"] = it->second.tmpl.tags;
  auto parsed = ParseTemplate(merged);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) return *error;
  StoredTemplate before = it->second;
  it->second.tmpl = std::get<Template>(std::move(parsed));
  it->second.input = merged;
  it->second.updated = ToEpochSeconds(clock_.Now());
  if (Status saved = SaveTemplate(id); !saved.ok()) {
    it->second = std::move(before);
    return api::ApiError::Server("InternalServerException", saved.message());
  }
  journal_.Transition("chaos/template/" + id, Json{{"updated", true}});
  return Json{{"experimentTemplate", TemplateJson(id)}};
}

Json* Chaos::TagsOf(const Scope& scope, const std::string& arn) {
  auto parsed = Arn::Parse(arn);
  if (!parsed || parsed->service != "fis" || parsed->account != scope.account ||
      parsed->region != scope.region)
    return nullptr;
  const std::string& resource = parsed->resource;
  if (resource.rfind("experiment-template/", 0) == 0) {
    auto it = templates_.find(resource.substr(20));
    return it == templates_.end() ? nullptr : &it->second.tmpl.tags;
  }
  if (resource.rfind("experiment/", 0) == 0) {
    auto it = experiments_.find(resource.substr(11));
    return it == experiments_.end() ? nullptr : &it->second->tags;
  }
  return nullptr;
}

api::ApiResult Chaos::TagResource(const api::RequestContext& ctx, const Json& input) {
  std::string arn = input.value("resourceArn", "");
  Json* tags = TagsOf(ctx.scope, arn);
  if (tags == nullptr) return NotFound("Resource " + arn + " not found");
  if (!tags->is_object()) *tags = Json::object();
  const Json added = input.value("tags", Json::object());
  for (const auto& [key, value] : added.items()) (*tags)[key] = value;
  journal_.Transition("chaos/tags/" + arn, Json{{"tags", *tags}});
  if (Status saved = SaveTemplate(arn.substr(arn.rfind('/') + 1)); !saved.ok())
    return api::ApiError::Server("InternalServerException", saved.message());
  return Json::object();
}

api::ApiResult Chaos::UntagResource(const api::RequestContext& ctx, const Json& input) {
  std::string arn = input.value("resourceArn", "");
  Json* tags = TagsOf(ctx.scope, arn);
  if (tags == nullptr) return NotFound("Resource " + arn + " not found");
  const Json keys = input.value("tagKeys", Json::array());
  for (const auto& key : keys) {
    if (key.is_string() && tags->is_object()) tags->erase(key.get<std::string>());
  }
  journal_.Transition("chaos/tags/" + arn, Json{{"tags", *tags}});
  if (Status saved = SaveTemplate(arn.substr(arn.rfind('/') + 1)); !saved.ok())
    return api::ApiError::Server("InternalServerException", saved.message());
  return Json::object();
}

api::ApiResult Chaos::ListTagsForResource(const api::RequestContext& ctx, const Json& input) {
  std::string arn = input.value("resourceArn", "");
  Json* tags = TagsOf(ctx.scope, arn);
  if (tags == nullptr) return NotFound("Resource " + arn + " not found");
  return Json{{"tags", tags->is_object() ? *tags : Json::object()}};
}

api::ApiResult Chaos::DeleteTemplate(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  auto it = templates_.find(id);
  if (it == templates_.end() || !(it->second.scope == ctx.scope))
    return NotFound("Experiment template " + id + " not found");
  Json out{{"experimentTemplate", TemplateJson(id)}};
  templates_.erase(it);
  if (Status saved = SaveTemplate(id); !saved.ok())
    return api::ApiError::Server("InternalServerException", saved.message());
  journal_.Transition("chaos/template/" + id, Json{{"deleted", true}});
  return out;
}

api::ApiResult Chaos::StartExperiment(const api::RequestContext& ctx, const Json& input) {
  std::string template_id = input.value("experimentTemplateId", "");
  auto it = templates_.find(template_id);
  if (it == templates_.end() || !(it->second.scope == ctx.scope))
    return NotFound("Experiment template " + template_id + " not found");
  std::string id =
      Start(ctx.scope, it->second.tmpl, template_id, input.value("tags", Json::object()));
  return Json{{"experiment", ExperimentJson(*experiments_.at(id), false)}};
}

api::ApiResult Chaos::GetExperiment(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  auto it = experiments_.find(id);
  if (it == experiments_.end() || !(it->second->scope == ctx.scope))
    return NotFound("Experiment " + id + " not found");
  return Json{{"experiment", ExperimentJson(*it->second, false)}};
}

api::ApiResult Chaos::StopExperiment(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  auto it = experiments_.find(id);
  if (it == experiments_.end() || !(it->second->scope == ctx.scope))
    return NotFound("Experiment " + id + " not found");
  Experiment& e = *it->second;
  if (Final(e.status)) {
    return Validation("Experiment " + id + " has already ended (" + e.status +
                      "); only a running experiment can be stopped");
  }
  Finish(e, "stopped", "Experiment stopped", "stopped");
  return Json{{"experiment", ExperimentJson(e, false)}};
}

api::ApiResult Chaos::ListExperiments(const api::RequestContext& ctx, const Json& input) {
  std::string template_id = input.value("experimentTemplateId", "");
  Json list = Json::array();
  for (auto id = order_.rbegin(); id != order_.rend(); ++id) {
    const Experiment& e = *experiments_.at(*id);
    if (!(e.scope == ctx.scope)) continue;
    if (!template_id.empty() && e.template_id != template_id) continue;
    Json j{{"id", e.id},
           {"arn", e.arn},
           {"state", {{"status", e.status}, {"reason", e.reason}}},
           {"creationTime", e.created},
           {"tags", e.tags}};
    if (!e.template_id.empty()) j["experimentTemplateId"] = e.template_id;
    list.push_back(std::move(j));
  }
  return Json{{"experiments", list}};
}

api::ApiResult Chaos::ListResolvedTargets(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("experimentId", input.value("id", ""));
  auto it = experiments_.find(id);
  if (it == experiments_.end() || !(it->second->scope == ctx.scope))
    return NotFound("Experiment " + id + " not found");
  Json list = Json::array();
  std::string wanted = input.value("targetName", "");
  for (const auto& [name, tasks] : it->second->resolved) {
    if (!wanted.empty() && name != wanted) continue;
    for (const auto& t : tasks) {
      list.push_back(Json{{"resourceType", it->second->tmpl.targets.at(name).resource_type},
                          {"targetName", name},
                          {"targetInformation", {{"arn", t.task_arn}}}});
    }
  }
  return Json{{"resolvedTargets", list}};
}

namespace {
Json ActionJson(const ActionType& a, const Scope& scope, bool with_parameters) {
  Json j{{"id", a.id},
         {"arn", MakeArn("fis", scope, "action/" + a.id)},
         {"description", a.description},
         {"targets", Json::object()},
         {"tags", Json::object()}};
  if (!a.target_key.empty()) j["targets"][a.target_key] = {{"resourceType", a.resource_type}};
  if (with_parameters) {
    j["parameters"] = Json::object();
    for (const auto& p : a.parameters)
      j["parameters"][p.name] = {{"description", p.description}, {"required", p.required}};
  }
  return j;
}
}  // namespace

api::ApiResult Chaos::ListActions(const api::RequestContext& ctx, const Json&) {
  Json list = Json::array();
  for (const auto& a : Catalog()) list.push_back(ActionJson(a, ctx.scope, false));
  return Json{{"actions", list}};
}

api::ApiResult Chaos::GetAction(const api::RequestContext& ctx, const Json& input) {
  std::string id = input.value("id", "");
  const ActionType* a = FindActionType(id);
  if (a == nullptr) return NotFound("Action " + id + " not found");
  return Json{{"action", ActionJson(*a, ctx.scope, true)}};
}

// ---- control API ----

std::variant<Json, api::ApiError> Chaos::StartInline(const Scope& scope, const Json& body) {
  if (!body.is_object())
    return Validation("expected a JSON object: an experiment template or one inline action");
  if (body.contains("experimentTemplateId")) {
    std::string template_id = body["experimentTemplateId"].get<std::string>();
    auto it = templates_.find(template_id);
    if (it == templates_.end())
      return NotFound("Experiment template " + template_id + " not found");
    std::string id = Start(scope, it->second.tmpl, template_id, body.value("tags", Json::object()));
    return ExperimentJson(*experiments_.at(id), true);
  }
  Json tmpl;
  if (body.contains("experiment")) {
    tmpl = body["experiment"];
  } else if (body.contains("actions")) {
    tmpl = body;
  } else if (body.contains("action")) {
    if (!body["action"].is_string()) return Validation("action must be an action id string");
    std::string action = body["action"].get<std::string>();
    const ActionType* type = FindActionType(action);
    if (type == nullptr) {
      return Validation("Action type " + action +
                        " is not supported; ListActions shows the actions understudy runs");
    }
    Json parameters = body.value("parameters", Json::object());
    if (!parameters.is_object()) return Validation("parameters must be an object of strings");
    if (body.contains("duration")) parameters["duration"] = body["duration"];
    Json a{{"actionId", action}, {"parameters", parameters}};
    tmpl = Json{{"description", body.value("description", "inline fault " + action)},
                {"actions", Json::object()},
                {"targets", Json::object()},
                {"stopConditions", body.value("stopConditions", Json::array())}};
    if (!type->target_key.empty()) {
      Json targets = body.value("targets", Json::object());
      if (!targets.is_object()) return Validation("targets must be an object");
      Json t{{"resourceType", type->resource_type},
             {"selectionMode", targets.value("selection", targets.value("selectionMode", "ALL"))}};
      Json params = Json::object();
      for (const char* key : {"cluster", "service"}) {
        if (targets.contains(key)) params[key] = targets[key];
      }
      if (!params.empty()) t["parameters"] = params;
      if (targets.contains("arns")) t["resourceArns"] = targets["arns"];
      if (targets.contains("resourceArns")) t["resourceArns"] = targets["resourceArns"];
      if (targets.contains("tags")) t["resourceTags"] = targets["tags"];
      if (targets.contains("resourceTags")) t["resourceTags"] = targets["resourceTags"];
      tmpl["targets"]["targets"] = t;
      a["targets"] = Json{{type->target_key, "targets"}};
    }
    tmpl["actions"]["fault"] = a;
  } else {
    return Validation(
        "expected an experiment template (with \"actions\"), {\"experiment\": {...}}, "
        "{\"experimentTemplateId\": ...} or one inline action ({\"action\": ...})");
  }
  auto parsed = ParseTemplate(tmpl);
  if (auto* error = std::get_if<api::ApiError>(&parsed)) return *error;
  std::string id = Start(scope, std::get<Template>(parsed), "", body.value("tags", Json::object()));
  return ExperimentJson(*experiments_.at(id), true);
}

std::optional<Json> Chaos::Describe(const std::string& id) const {
  auto it = experiments_.find(id);
  if (it == experiments_.end()) return std::nullopt;
  return ExperimentJson(*it->second, true);
}

Json Chaos::ExperimentJson(const Experiment& e, bool understudy_view) const {
  Json actions = Json::object();
  for (const auto& [name, a] : e.actions) {
    Json j{{"actionId", a.spec.action_id}, {"state", {{"status", a.status}, {"reason", a.reason}}}};
    if (!a.spec.description.empty()) j["description"] = a.spec.description;
    if (!a.spec.parameters.empty()) j["parameters"] = a.spec.parameters;
    if (!a.spec.targets.empty()) j["targets"] = a.spec.targets;
    if (!a.spec.start_after.empty()) j["startAfter"] = a.spec.start_after;
    if (a.start) j["startTime"] = *a.start;
    if (a.end) j["endTime"] = *a.end;
    actions[name] = std::move(j);
  }
  Json state{{"status", e.status}, {"reason", e.reason}};
  Json out{{"id", e.id},
           {"arn", e.arn},
           {"roleArn", e.tmpl.role_arn},
           {"state", state},
           {"targets", TargetsJson(e.tmpl)},
           {"actions", actions},
           {"stopConditions", StopConditionsJson(e.tmpl)},
           {"creationTime", e.created},
           {"tags", e.tags},
           {"experimentOptions",
            {{"accountTargeting", "single-account"}, {"emptyTargetResolutionMode", "fail"}}}};
  if (!e.template_id.empty()) out["experimentTemplateId"] = e.template_id;
  if (e.start) out["startTime"] = *e.start;
  if (e.end) out["endTime"] = *e.end;
  if (understudy_view) {
    Json resolved = Json::object();
    for (const auto& [name, tasks] : e.resolved) {
      resolved[name] = Json::array();
      for (const auto& t : tasks) resolved[name].push_back(t.task_arn);
    }
    out["resolvedTargets"] = resolved;
    out["timeline"] = e.timeline;
    out["description"] = e.tmpl.description;
    // Times as ISO-8601 in this view.
    for (const char* key : {"creationTime", "startTime", "endTime"}) {
      if (out.contains(key)) out[key] = FormatIso8601(FromEpochSeconds(out[key].get<double>()));
    }
    for (auto& [name, a] : out["actions"].items()) {
      for (const char* key : {"startTime", "endTime"}) {
        if (a.contains(key)) a[key] = FormatIso8601(FromEpochSeconds(a[key].get<double>()));
      }
    }
  }
  return out;
}

// ---- the engine ----

void Chaos::Record(Experiment& e, Json event) {
  event["time"] = FormatIso8601(clock_.Now());
  journal_.Transition("chaos/experiment/" + e.id, event);
  e.timeline.push_back(std::move(event));
}

std::string Chaos::Start(const Scope& scope, const Template& tmpl, const std::string& template_id,
                         const Json& tags) {
  auto owned = std::make_unique<Experiment>();
  Experiment& e = *owned;
  e.id = NewId("EXP");
  e.arn = MakeArn("fis", scope, "experiment/" + e.id);
  e.template_id = template_id;
  e.scope = scope;
  e.tmpl = tmpl;
  e.tags = tags.is_object() ? tags : Json::object();
  e.random = random_.Fork("experiment/" + e.id);
  e.created = ToEpochSeconds(clock_.Now());
  for (const auto& [name, spec] : tmpl.actions) e.actions[name].spec = spec;
  experiments_[e.id] = std::move(owned);
  order_.push_back(e.id);
  Record(e, Json{{"event", "created"}, {"seed", run_seed_}});
  e.status = "initiating";
  e.reason = "Experiment is initiating.";
  // Stop conditions: an alarm already in ALARM keeps the experiment from starting.
  for (const auto& sc : tmpl.stop_conditions) {
    if (sc.source != "aws:cloudwatch:alarm") continue;
    std::string name = sc.value.substr(sc.value.find(":alarm:") + 7);
    std::optional<std::string> state;
    if (hooks_.alarm_state) state = hooks_.alarm_state(scope, name);
    if (!state) {
      Finish(e, "failed", "Stop condition alarm " + sc.value + " does not exist.", "cancelled");
      return e.id;
    }
    if (*state == "ALARM") {
      Finish(e, "failed",
             "Experiment cannot start: stop condition alarm " + sc.value + " is in ALARM state.",
             "cancelled");
      return e.id;
    }
  }
  // Targets: live tasks in the experiment's scope, sorted by ARN, selected from the
  // experiment's own stream (one fork per target name).
  std::vector<ecs::ChaosTask> tasks;
  if (hooks_.tasks) tasks = hooks_.tasks();
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                             [&](const ecs::ChaosTask& t) {
                               return !(t.scope == scope) || t.last_status != "RUNNING";
                             }),
              tasks.end());
  std::sort(tasks.begin(), tasks.end(),
            [](const auto& a, const auto& b) { return a.task_arn < b.task_arn; });
  std::set<std::string> used;
  for (const auto& [name, a] : tmpl.actions) {
    for (const auto& [key, target] : a.targets) used.insert(target);
  }
  for (const auto& [name, spec] : tmpl.targets) {
    std::vector<ecs::ChaosTask> candidates;
    for (const auto& t : tasks) {
      if (!spec.resource_arns.empty() &&
          std::find(spec.resource_arns.begin(), spec.resource_arns.end(), t.task_arn) ==
              spec.resource_arns.end())
        continue;
      bool tags_match = true;
      for (const auto& [k, v] : spec.resource_tags) {
        auto it = t.tags.find(k);
        tags_match &= it != t.tags.end() && it->second == v;
      }
      if (!tags_match) continue;
      auto cluster = spec.parameters.find("cluster");
      if (cluster != spec.parameters.end() && cluster->second != t.cluster &&
          cluster->second != t.cluster_arn)
        continue;
      auto service = spec.parameters.find("service");
      if (service != spec.parameters.end()) {
        std::string s = service->second.substr(service->second.rfind('/') + 1);
        if (t.service.empty() || s != t.service) continue;
      }
      if (!MatchesFilters(t.doc, spec.filters)) continue;
      candidates.push_back(t);
    }
    Random stream = e.random.Fork("target/" + name);
    std::vector<ecs::ChaosTask> chosen;
    for (size_t i : Select(spec.selection, candidates.size(), stream))
      chosen.push_back(candidates[i]);
    Json arns = Json::array();
    for (const auto& t : chosen) arns.push_back(t.task_arn);
    Record(e, Json{{"event", "targetsResolved"},
                   {"target", name},
                   {"selectionMode", spec.selection_mode},
                   {"candidates", candidates.size()},
                   {"resourceArns", arns}});
    e.resolved[name] = std::move(chosen);
    if (e.resolved[name].empty() && used.count(name)) {
      Finish(e, "failed", "Target resolution returned empty set for target " + name + ".",
             "cancelled");
      return e.id;
    }
  }
  e.status = "running";
  e.reason = "Experiment is running.";
  e.start = ToEpochSeconds(clock_.Now());
  Record(e, Json{{"event", "running"}});
  Advance(e);
  return e.id;
}

void Chaos::Advance(Experiment& e) {
  if (e.status != "running") return;
  bool all_done = true;
  std::vector<std::string> ready;
  for (auto& [name, a] : e.actions) {
    if (a.status != "completed") all_done = false;
    if (a.status != "pending") continue;
    bool can = true;
    for (const auto& after : a.spec.start_after) can &= e.actions.at(after).status == "completed";
    if (can) ready.push_back(name);
  }
  if (all_done) {
    Finish(e, "completed", "Experiment completed.", "completed");
    return;
  }
  for (const auto& name : ready) {
    if (e.status != "running") return;
    StartAction(e, name);
  }
}

void Chaos::StartAction(Experiment& e, const std::string& name) {
  ActionRun& a = e.actions.at(name);
  a.status = "running";
  a.reason = "Action is running.";
  a.start = ToEpochSeconds(clock_.Now());
  std::vector<ecs::ChaosTask> targets;
  Json arns = Json::array();
  for (const auto& [key, target] : a.spec.targets) {
    for (const auto& t : e.resolved[target]) {
      targets.push_back(t);
      arns.push_back(t.task_arn);
    }
  }
  Record(e, Json{{"event", "actionStarted"},
                 {"action", name},
                 {"actionId", a.spec.action_id},
                 {"targets", arns}});
  auto undo = Apply(e, a.spec, name, targets);
  if (!undo.ok()) {
    EndAction(e, name, "failed", undo.status().message());
    Finish(e, "failed", "Action " + name + " failed: " + undo.status().message(), "stopped");
    return;
  }
  a.undo = std::move(*undo);
  const ActionType* type = FindActionType(a.spec.action_id);
  bool lasting = a.spec.duration.has_value() || a.spec.action_id.rfind("understudy:api:", 0) == 0 ||
                 a.spec.action_id.rfind("understudy:elb:", 0) == 0 ||
                 a.spec.action_id == "understudy:events:target-failure" ||
                 a.spec.action_id == "understudy:events:delivery-delay" ||
                 a.spec.action_id == "understudy:ses:smtp-reject" ||
                 a.spec.action_id == "understudy:ecs:placement-failure" ||
                 a.spec.action_id == "understudy:ecs:task-memory-stress";
  (void)type;
  if (lasting && !a.spec.duration) return;  // until the experiment stops
  Duration d = a.spec.duration.value_or(Duration(0));
  std::string id = e.id;
  a.timer = clock_.ScheduleAfter(
      d,
      [this, id, name, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        auto it = experiments_.find(id);
        if (it == experiments_.end()) return;
        Experiment& ex = *it->second;
        ActionRun& run = ex.actions.at(name);
        run.timer = 0;
        if (run.status != "running") return;
        EndAction(ex, name, "completed", "Action was completed.");
        Advance(ex);
      },
      "chaos action " + name);
}

void Chaos::EndAction(Experiment& e, const std::string& name, const std::string& status,
                      const std::string& reason) {
  ActionRun& a = e.actions.at(name);
  if (a.timer) {
    clock_.Cancel(a.timer);
    a.timer = 0;
  }
  if (a.undo) {
    auto undo = std::move(a.undo);
    a.undo = nullptr;
    undo();
  }
  a.status = status;
  a.reason = reason;
  a.end = ToEpochSeconds(clock_.Now());
  Record(e,
         Json{{"event", "actionEnded"}, {"action", name}, {"status", status}, {"reason", reason}});
}

void Chaos::Finish(Experiment& e, const std::string& status, const std::string& reason,
                   const std::string& action_status) {
  for (auto& [name, a] : e.actions) {
    if (a.status == "running") {
      EndAction(
          e, name, action_status,
          action_status == "stopped" ? "Action was stopped." : "Action was " + action_status + ".");
    } else if (a.status == "pending") {
      a.status = "cancelled";
      a.reason = "Action was cancelled.";
    }
  }
  e.status = status;
  e.reason = reason;
  e.end = ToEpochSeconds(clock_.Now());
  Record(e, Json{{"event", status}, {"reason", reason}});
}

void Chaos::OnBusEvent(const Json& event) {
  if (event.value("detail-type", "") != "CloudWatch Alarm State Change") return;
  const Json& detail = event.value("detail", Json::object());
  if (detail.value("state", Json::object()).value("value", "") != "ALARM") return;
  std::set<std::string> arns;
  for (const auto& r : event.value("resources", Json::array())) {
    if (r.is_string()) arns.insert(r.get<std::string>());
  }
  for (const auto& id : order_) {
    Experiment& e = *experiments_.at(id);
    if (Final(e.status)) continue;
    for (const auto& sc : e.tmpl.stop_conditions) {
      if (sc.source == "aws:cloudwatch:alarm" && arns.count(sc.value)) {
        Finish(e, "stopped", "Experiment stopped by stop condition " + sc.value + ".", "stopped");
        break;
      }
    }
  }
}

std::optional<events::InjectedFailure> Chaos::DecideDelivery(
    const events::DeliveryRequest& request) {
  for (auto& [id, r] : delivery_rules_) {
    if (!r.source.empty() && r.source != request.source_name && r.source != request.source_arn)
      continue;
    if (!r.target_arn.empty() && r.target_arn != request.target.value("Arn", "")) continue;
    if (r.failure.delay.count() > 0 && request.delayed) continue;  // held back once already
    int64_t n = ++r.matched;
    if (r.fail_first > 0 && n > r.fail_first) continue;
    if (r.probability < 1.0 && r.random.Unit() >= r.probability) continue;
    ++r.applied;
    Json detail{{"source", request.source_arn}, {"targetArn", request.target.value("Arn", "")}};
    if (r.failure.delay.count() > 0) {
      detail["delay"] = FormatDuration(r.failure.delay);
    } else {
      detail["errorCode"] = r.failure.code;
    }
    journal_.Transition("chaos/delivery-fault", detail);
    return r.failure;
  }
  return std::nullopt;
}

std::optional<std::string> Chaos::DecideSmtp(const std::string& address) {
  std::string lower = address;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& [id, r] : smtp_rules_) {
    if (!r.recipient.empty() && !GlobMatch(r.recipient, lower)) continue;
    int64_t n = ++r.matched;
    if (r.fail_first > 0 && n > r.fail_first) continue;
    if (r.probability < 1.0 && r.random.Unit() >= r.probability) continue;
    ++r.applied;
    journal_.Transition("chaos/smtp-fault", Json{{"recipient", address}, {"reply", r.reply}});
    return r.reply;
  }
  return std::nullopt;
}

void Chaos::PublishElbFaults() {
  if (hooks_.set_traffic_faults) {
    std::vector<elb::TrafficFault> faults;
    for (const auto& [id, f] : traffic_faults_) faults.push_back(f);
    hooks_.set_traffic_faults(std::move(faults));
  }
  if (hooks_.set_health_failures) {
    std::vector<elb::TargetKey> keys;
    for (const auto& [id, k] : health_failures_) keys.push_back(k);
    hooks_.set_health_failures(std::move(keys));
  }
}

Result<std::function<void()>> Chaos::Apply(Experiment& e, const ActionSpec& spec,
                                           const std::string& action_name,
                                           const std::vector<ecs::ChaosTask>& targets) {
  const std::string& id = spec.action_id;
  const auto& p = spec.parameters;
  std::function<void()> nothing = [] {};
  if (id == "aws:fis:wait") return nothing;
  if (id == "aws:ecs:stop-task") {
    if (!hooks_.stop_task) return Status::Unavailable("ECS is not available");
    for (const auto& t : targets) {
      Status s = hooks_.stop_task(t.scope, t.task_id, "UserInitiated",
                                  "Task stopped by AWS FIS experiment " + e.id);
      if (!s.ok()) return s;
    }
    return nothing;
  }
  if (id == "aws:ecs:task-network-latency" || id == "aws:ecs:task-network-packet-loss") {
    // In each task's own network namespace: a netfilter queue that delays or drops its
    // packets from a seeded stream (netfault.h), removed at the end.
    std::vector<std::shared_ptr<NetFault>> faults;
    for (const auto& t : targets) {
      if (t.netns_pid == 0) {
        return Status::FailedPrecondition("task " + t.task_id +
                                          " has no network namespace of its own (an awsvpc "
                                          "task where network namespaces are available)");
      }
      NetFaultOptions o;
      o.netns_pid = t.netns_pid;
      o.queue = static_cast<uint16_t>(next_queue_++ % 65536);
      if (id == "aws:ecs:task-network-latency") {
        o.delay = std::chrono::milliseconds(Number(p, "delayMilliseconds", 0));
        o.jitter = std::chrono::milliseconds(Number(p, "jitterMilliseconds", 0));
      } else {
        o.loss = static_cast<double>(Number(p, "lossPercent", 0)) / 100.0;
      }
      o.random = e.random.Fork("action/" + action_name + "/" + t.task_id);
      o.run_in_netns = RunInNetns;
      auto fault = NetFault::Start(std::move(o));
      if (!fault.ok()) return fault.status();  // the ones started end with `faults`
      faults.push_back(std::shared_ptr<NetFault>(std::move(fault).value()));
    }
    return std::function<void()>([faults]() mutable { faults.clear(); });
  }
  if (id == "aws:ecs:task-network-blackhole-port") {
    // In each task's own network namespace: an iptables DROP rule, removed at the end.
    std::string chain = Text(p, "trafficType", "ingress") == "egress" ? "OUTPUT" : "INPUT";
    std::vector<std::string> rule = {
        chain, "-p", Text(p, "protocol", "tcp"), "--dport", Text(p, "port"), "-j", "DROP"};
    std::vector<std::string> add = {"iptables", "-I"};
    add.insert(add.end(), rule.begin(), rule.end());
    std::vector<std::string> remove = {"iptables", "-D"};
    remove.insert(remove.end(), rule.begin(), rule.end());
    std::vector<int> applied;
    auto undo = [remove](const std::vector<int>& pids) {
      for (int pid : pids) (void)RunInNetns(pid, remove);
    };
    for (const auto& t : targets) {
      if (t.netns_pid == 0) {
        undo(applied);
        return Status::FailedPrecondition("task " + t.task_id +
                                          " has no network namespace of its own (an awsvpc "
                                          "task where network namespaces are available)");
      }
      Status s = RunInNetns(t.netns_pid, add);
      if (!s.ok()) {
        undo(applied);
        return s;
      }
      applied.push_back(t.netns_pid);
    }
    return std::function<void()>([undo, applied] { undo(applied); });
  }
  if (id == "understudy:ecs:spot-interruption") {
    // Fargate Spot: the two-minute warning is the "ECS Task State Change" event with
    // stopCode SpotInterruption, sent with the SIGTERM; SIGKILL follows stopTimeout.
    if (!hooks_.stop_task) return Status::Unavailable("ECS is not available");
    for (const auto& t : targets) {
      Status s = hooks_.stop_task(t.scope, t.task_id, "SpotInterruption",
                                  "Your Spot Task was interrupted.");
      if (!s.ok()) return s;
    }
    return nothing;
  }
  if (id == "understudy:ecs:crash-task") {
    if (!hooks_.crash_task) return Status::Unavailable("ECS is not available");
    int code = static_cast<int>(Number(p, "exitCode", 1));
    for (const auto& t : targets) {
      Status s = hooks_.crash_task(t.scope, t.task_id, Text(p, "containerName"), code);
      if (!s.ok()) return s;
    }
    return nothing;
  }
  if (id == "aws:ecs:task-cpu-stress") {
    if (!hooks_.start_cpu_stress) return Status::Unavailable("ECS is not available");
    int percent = static_cast<int>(Number(p, "percent", 100));
    int workers = static_cast<int>(Number(p, "workers", 1));
    std::vector<ecs::ChaosTask> stressed;
    auto undo = [this](const std::vector<ecs::ChaosTask>& tasks) {
      for (const auto& t : tasks) hooks_.stop_cpu_stress(t.scope, t.task_id);
    };
    for (const auto& t : targets) {
      Status s = hooks_.start_cpu_stress(t.scope, t.task_id, workers, percent);
      if (!s.ok()) {
        undo(stressed);
        return s;
      }
      stressed.push_back(t);
    }
    return std::function<void()>([undo, stressed] { undo(stressed); });
  }
  if (id == "understudy:ecs:task-memory-stress") {
    if (!hooks_.start_memory_stress) return Status::Unavailable("ECS is not available");
    std::vector<ecs::ChaosTask> stressed;
    auto undo = [this](const std::vector<ecs::ChaosTask>& tasks) {
      for (const auto& t : tasks) hooks_.stop_memory_stress(t.scope, t.task_id);
    };
    for (const auto& t : targets) {
      Status s = hooks_.start_memory_stress(t.scope, t.task_id);
      if (!s.ok()) {
        undo(stressed);
        return s;
      }
      stressed.push_back(t);
    }
    return std::function<void()>([undo, stressed] { undo(stressed); });
  }
  if (id == "aws:ecs:task-kill-process") {
    if (!hooks_.process_groups) return Status::Unavailable("ECS is not available");
    int sig = Text(p, "signal", "SIGKILL") == "SIGTERM" ? SIGTERM : SIGKILL;
    std::string name = Text(p, "processName");
    for (const auto& t : targets) {
      auto pids = ProcessesNamed(hooks_.process_groups(t.scope, t.task_id, ""), name);
      if (pids.empty())
        return Status::NotFound("no process named " + name + " runs in task " + t.task_id);
      if (sig == SIGKILL && hooks_.hold_until_exit) hooks_.hold_until_exit(t.scope, t.task_id);
      Json killed = Json::array();
      for (int pid : pids) {
        if (::kill(pid, sig) == 0) killed.push_back(pid);
      }
      journal_.Transition("chaos/experiment/" + e.id, Json{{"event", "processesKilled"},
                                                           {"action", action_name},
                                                           {"task", t.task_arn},
                                                           {"processName", name},
                                                           {"count", killed.size()}});
    }
    return nothing;
  }
  if (id == "understudy:ecs:hang-task") {
    if (!hooks_.signal_task) return Status::Unavailable("ECS is not available");
    std::string container = Text(p, "containerName");
    for (const auto& t : targets) {
      Status s = hooks_.signal_task(t.scope, t.task_id, container, SIGSTOP);
      if (!s.ok()) return s;
    }
    auto signal = hooks_.signal_task;
    return std::function<void()>([signal, targets, container] {
      for (const auto& t : targets) (void)signal(t.scope, t.task_id, container, SIGCONT);
    });
  }
  if (id == "understudy:api:inject-error" || id == "understudy:api:latency" ||
      id == "understudy:ecs:placement-failure") {
    ApiFaultRule rule;
    rule.service = Text(p, "service");
    rule.operation = Text(p, "operation");
    if (id == "understudy:api:inject-error") {
      rule.kind = ApiFaultRule::Kind::kError;
      rule.error_code = Text(p, "errorCode", "ServiceUnavailable");
      rule.http_status = static_cast<int>(Number(p, "httpStatus", 503));
      rule.message = Text(p, "message", rule.message);
      rule.probability = p.count("probability") ? std::stod(p.at("probability")) : 1.0;
      rule.every = Number(p, "every", 0);
      rule.fail_first = Number(p, "failFirst", 0);
    } else if (id == "understudy:api:latency") {
      rule.kind = ApiFaultRule::Kind::kLatency;
      rule.latency = ParseFisDuration(Text(p, "latency", "0s")).value_or(Duration(0));
      rule.jitter = ParseFisDuration(Text(p, "jitter", "0s")).value_or(Duration(0));
    } else {
      rule.kind = ApiFaultRule::Kind::kPlacementFailure;
      rule.service = "ecs";
      rule.operation = "RunTask";
      rule.reason = Text(p, "reason", "RESOURCE:MEMORY");
      rule.cluster = Text(p, "cluster");
      rule.fail_first = Number(p, "failFirst", 0);
    }
    uint64_t rule_id = api_faults_.Add(rule, e.random.Fork("action/" + action_name));
    std::string exp_id = e.id;
    return std::function<void()>([this, rule_id, exp_id, action_name] {
      auto it = experiments_.find(exp_id);
      if (it != experiments_.end()) {
        Record(*it->second, Json{{"event", "faultRemoved"},
                                 {"action", action_name},
                                 {"calls", api_faults_.matched(rule_id)},
                                 {"faulted", api_faults_.applied(rule_id)}});
      }
      api_faults_.Remove(rule_id);
    });
  }
  if (id == "understudy:ses:smtp-reject") {
    SmtpRule rule;
    rule.recipient = Text(p, "recipient");
    for (char& c : rule.recipient)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string code = Text(p, "code", "550");
    std::string fallback =
        code[0] == '4' ? "4.2.0 Mailbox temporarily unavailable" : "5.1.1 Mailbox unavailable";
    rule.reply = code + " " + Text(p, "message", fallback);
    rule.fail_first = Number(p, "failFirst", 0);
    rule.probability = p.count("probability") ? std::stod(p.at("probability")) : 1.0;
    rule.random = e.random.Fork("action/" + action_name);
    uint64_t rule_id = next_elb_rule_++;
    smtp_rules_[rule_id] = std::move(rule);
    std::string exp_id = e.id;
    return std::function<void()>([this, rule_id, exp_id, action_name] {
      auto it = experiments_.find(exp_id);
      auto r = smtp_rules_.find(rule_id);
      if (it != experiments_.end() && r != smtp_rules_.end()) {
        Record(*it->second, Json{{"event", "faultRemoved"},
                                 {"action", action_name},
                                 {"calls", r->second.matched},
                                 {"faulted", r->second.applied}});
      }
      smtp_rules_.erase(rule_id);
    });
  }
  if (id == "understudy:events:target-failure" || id == "understudy:events:delivery-delay") {
    DeliveryRule rule;
    rule.source = Text(p, "source");
    rule.target_arn = Text(p, "targetArn");
    if (id == "understudy:events:delivery-delay") {
      rule.failure.delay = ParseFisDuration(Text(p, "delay")).value_or(Duration(0));
    } else {
      rule.failure = {
          Text(p, "errorCode", "ServiceUnavailable"),
          Text(p, "message", "Target invocation failed (injected by understudy chaos)")};
    }
    rule.fail_first = Number(p, "failFirst", 0);
    rule.probability = p.count("probability") ? std::stod(p.at("probability")) : 1.0;
    rule.random = e.random.Fork("action/" + action_name);
    uint64_t rule_id = next_elb_rule_++;
    delivery_rules_[rule_id] = std::move(rule);
    std::string exp_id = e.id;
    return std::function<void()>([this, rule_id, exp_id, action_name] {
      auto it = experiments_.find(exp_id);
      auto r = delivery_rules_.find(rule_id);
      if (it != experiments_.end() && r != delivery_rules_.end()) {
        Record(*it->second, Json{{"event", "faultRemoved"},
                                 {"action", action_name},
                                 {"calls", r->second.matched},
                                 {"faulted", r->second.applied}});
      }
      delivery_rules_.erase(rule_id);
    });
  }
  if (id.rfind("understudy:elb:", 0) == 0) {
    auto ms = [&](const std::string& key, const std::string& fallback) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          ParseFisDuration(Text(p, key, fallback)).value_or(Duration(0)));
    };
    uint64_t rule = next_elb_rule_++;
    if (id == "understudy:elb:health-check-failure") {
      health_failures_[rule] = elb::TargetKey{Text(p, "targetGroupArn"), Text(p, "targetId"),
                                              static_cast<uint16_t>(Number(p, "port", 0))};
    } else {
      elb::TrafficFault f;
      f.listener_arn = Text(p, "listenerArn");
      f.target_group_arn = Text(p, "targetGroupArn");
      f.target_id = Text(p, "targetId");
      f.port = static_cast<uint16_t>(Number(p, "port", 0));
      f.probability = p.count("probability") ? std::stod(p.at("probability")) : 1.0;
      if (id == "understudy:elb:latency") {
        f.kind = elb::TrafficFault::Kind::kLatency;
        f.latency = ms("latency", "0s");
        f.jitter = ms("jitter", "0s");
      } else if (id == "understudy:elb:error-status") {
        f.kind = elb::TrafficFault::Kind::kErrorStatus;
        f.status = static_cast<int>(Number(p, "status", 503));
      } else if (id == "understudy:elb:bandwidth") {
        f.kind = elb::TrafficFault::Kind::kBandwidth;
        f.bytes_per_second = static_cast<uint64_t>(Number(p, "rate", 1)) * 1024;
      } else if (id == "understudy:elb:slow-close") {
        f.kind = elb::TrafficFault::Kind::kSlowClose;
        f.close_delay = ms("delay", "0s");
      } else if (id == "understudy:elb:reset-connection") {
        f.kind = elb::TrafficFault::Kind::kReset;
      } else {
        f.kind = elb::TrafficFault::Kind::kTimeout;
        f.timeout = ms("timeout", "PT30S");
      }
      traffic_faults_[rule] = f;
    }
    PublishElbFaults();
    return std::function<void()>([this, rule] {
      traffic_faults_.erase(rule);
      health_failures_.erase(rule);
      PublishElbFaults();
    });
  }
  return Status::Internal("action " + id + " is not implemented");
}

}  // namespace understudy::chaos
