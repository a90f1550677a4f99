#include "api/model.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace understudy::api {
namespace {

// The embedded text is read once; hand its (file-backed) pages back so they do not
// count as resident memory for the rest of the run.
void ReleaseEmbeddedPages(std::string_view text) {
  if (text.empty()) return;
  uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (reinterpret_cast<uintptr_t>(text.data()) + page - 1) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(text.data()) + text.size()) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Result<ShapeType> ParseShapeType(const std::string& name) {
  static const std::map<std::string, ShapeType, std::less<>> kTypes = {
      {"structure", ShapeType::kStructure},
      {"list", ShapeType::kList},
      {"map", ShapeType::kMap},
      {"string", ShapeType::kString},
      {"integer", ShapeType::kInteger},
      {"long", ShapeType::kLong},
      {"float", ShapeType::kFloat},
      {"double", ShapeType::kDouble},
      {"boolean", ShapeType::kBoolean},
      {"timestamp", ShapeType::kTimestamp},
      {"blob", ShapeType::kBlob},
      {"document", ShapeType::kDocument},
      {"union", ShapeType::kUnion},
      {"enum", ShapeType::kString},
      {"intEnum", ShapeType::kInteger},
      {"byte", ShapeType::kInteger},
      {"short", ShapeType::kInteger},
      {"bigInteger", ShapeType::kLong},
      {"bigDecimal", ShapeType::kDouble},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return Status::Internal("unknown shape type " + name);
  return it->second;
}

Location ParseLocation(const Json& member) {
  std::string location = member.value("location", "");
  if (location == "uri") return Location::kUri;
  if (location == "querystring") return Location::kQuery;
  if (location == "header") return Location::kHeader;
  if (location == "headers") return Location::kHeaders;
  if (location == "statusCode") return Location::kStatusCode;
  return Location::kBody;
}

std::string StringOr(const Json& object, const char* key, std::string fallback = {}) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

}  // namespace

const Member* Shape::FindMember(std::string_view name) const {
  auto it = std::lower_bound(members.begin(), members.end(), name,
                             [](const Member& m, std::string_view n) { return m.name < n; });
  if (it == members.end() || it->name != name) return nullptr;
  return &*it;
}

Result<std::unique_ptr<ServiceModel>> ServiceModel::Parse(const ServiceInfo& info,
                                                          std::string_view text) {
  US_ASSIGN_OR_RETURN(Json doc, ParseJson(text));
  auto model = std::unique_ptr<ServiceModel>(new ServiceModel());
  model->info_ = info;
  const Json& shapes = doc["shapes"];
  // Two passes: create every shape, then resolve references.
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    auto shape = std::make_unique<Shape>();
    shape->name = it.key();
    model->shapes_.emplace(it.key(), std::move(shape));
  }
  auto resolve = [&](const Json& ref, Member* out, std::string name) -> Status {
    std::string target = StringOr(ref, "shape");
    auto found = model->shapes_.find(target);
    if (found == model->shapes_.end()) return Status::Internal("dangling shape " + target);
    out->name = std::move(name);
    out->shape = found->second.get();
    out->location = ParseLocation(ref);
    out->location_name = StringOr(ref, "locationName");
    out->query_name = StringOr(ref, "queryName");
    out->flattened = ref.value("flattened", false);
    out->xml_attribute = ref.value("xmlAttribute", false);
    out->idempotency_token = ref.value("idempotencyToken", false);
    out->json_value = ref.value("jsonvalue", false);
    out->timestamp_format = StringOr(ref, "timestampFormat");
    return Status::Ok();
  };
  for (auto it = shapes.begin(); it != shapes.end(); ++it) {
    const Json& js = it.value();
    Shape& shape = *model->shapes_[it.key()];
    US_ASSIGN_OR_RETURN(shape.type, ParseShapeType(StringOr(js, "type")));
    if (js.contains("members")) {
      for (auto m = js["members"].begin(); m != js["members"].end(); ++m) {
        Member member;
        US_RETURN_IF_ERROR(resolve(m.value(), &member, m.key()));
        shape.members.push_back(std::move(member));
      }
      std::sort(shape.members.begin(), shape.members.end(),
                [](const Member& a, const Member& b) { return a.name < b.name; });
    }
    if (js.contains("required")) {
      for (const auto& r : js["required"]) shape.required.insert(r.get<std::string>());
    }
    if (js.contains("enum")) {
      for (const auto& e : js["enum"]) shape.enum_values.push_back(e.get<std::string>());
    }
    if (js.contains("min") && js["min"].is_number()) shape.min = js["min"].get<double>();
    if (js.contains("max") && js["max"].is_number()) shape.max = js["max"].get<double>();
    if (js.contains("member")) US_RETURN_IF_ERROR(resolve(js["member"], &shape.member, "member"));
    if (js.contains("key")) US_RETURN_IF_ERROR(resolve(js["key"], &shape.key, "key"));
    if (js.contains("value")) US_RETURN_IF_ERROR(resolve(js["value"], &shape.value, "value"));
    shape.flattened = js.value("flattened", false);
    shape.timestamp_format = StringOr(js, "timestampFormat");
    shape.payload = StringOr(js, "payload");
    if (js.value("exception", false) || js.contains("error")) {
      shape.is_error = true;
      shape.error_code = shape.name;
      if (js.contains("error")) {
        const Json& error = js["error"];
        shape.error_code = StringOr(error, "code", shape.name);
        shape.http_status = error.value("httpStatusCode", 0);
        // Without senderFault, a 5xx status marks a server fault (query <Type>Receiver</Type>).
        shape.sender_fault = error.value("senderFault", shape.http_status < 500);
      }
      if (js.value("fault", false)) shape.sender_fault = false;
    }
  }
  const Json& operations = doc["operations"];
  for (auto it = operations.begin(); it != operations.end(); ++it) {
    const Json& js = it.value();
    Operation op;
    op.name = it.key();
    if (js.contains("http")) {
      op.http_method = StringOr(js["http"], "method", "POST");
      op.request_uri = StringOr(js["http"], "requestUri", "/");
      op.response_code = js["http"].value("responseCode", 200);
    }
    if (js.contains("input")) op.input = model->FindShape(StringOr(js["input"], "shape"));
    if (js.contains("output")) {
      op.output = model->FindShape(StringOr(js["output"], "shape"));
      op.result_wrapper = StringOr(js["output"], "resultWrapper");
    }
    if (js.contains("errors")) {
      for (const auto& e : js["errors"]) {
        if (const Shape* s = model->FindShape(StringOr(e, "shape"))) op.errors.push_back(s);
      }
    }
    model->operations_.emplace(op.name, std::move(op));
  }
  return model;
}

const Operation* ServiceModel::FindOperation(std::string_view name) const {
  auto it = operations_.find(name);
  return it == operations_.end() ? nullptr : &it->second;
}

const Shape* ServiceModel::FindShape(std::string_view name) const {
  auto it = shapes_.find(name);
  return it == shapes_.end() ? nullptr : it->second.get();
}

const Shape* ServiceModel::FindError(std::string_view code) const {
  for (const auto& [name, shape] : shapes_) {
    if (shape->is_error && (shape->error_code == code || shape->name == code)) return shape.get();
  }
  return nullptr;
}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::LoadEmbedded() {
  auto index = ParseJson(EmbeddedModelText("index"));
  if (!index.ok()) return Status::Internal("embedded model index: " + index.status().message());
  auto registry = std::unique_ptr<ModelRegistry>(new ModelRegistry());
  for (auto it = index->begin(); it != index->end(); ++it) {
    const Json& meta = it.value();
    ServiceInfo info;
    info.id = it.key();
    info.service_id = StringOr(meta, "serviceId");
    info.signing_name = StringOr(meta, "signingName", StringOr(meta, "endpointPrefix"));
    info.api_version = StringOr(meta, "apiVersion");
    info.protocol = StringOr(meta, "protocol");
    if (meta.contains("protocols")) {
      for (const auto& p : meta["protocols"]) info.protocols.push_back(p.get<std::string>());
    }
    info.target_prefix = StringOr(meta, "targetPrefix");
    info.json_version = StringOr(meta, "jsonVersion");
    info.xml_namespace = StringOr(meta, "xmlNamespace");
    info.botocore_version = StringOr(meta, "botocoreVersion");
    for (auto op = meta["operations"].begin(); op != meta["operations"].end(); ++op) {
      info.operation_names.insert(op.key());
      info.rest_bindings.push_back(
          {op.key(), StringOr(op.value(), "method"), StringOr(op.value(), "requestUri")});
    }
    registry->services_.push_back(std::move(info));
  }
  index = Json();
  ReleaseEmbeddedPages(EmbeddedModelText("index"));
  malloc_trim(0);
  return registry;
}

const ServiceInfo* ModelRegistry::FindService(std::string_view id) const {
  for (const auto& s : services_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

const ServiceModel* ModelRegistry::Model(std::string_view id) {
  auto it = models_.find(id);
  if (it != models_.end()) return it->second.get();
  const ServiceInfo* info = FindService(id);
  if (info == nullptr) return nullptr;
  auto parsed = ServiceModel::Parse(*info, EmbeddedModelText(id));
  if (!parsed.ok()) return nullptr;
  const ServiceModel* model = parsed->get();
  models_.emplace(std::string(id), std::move(parsed).value());
  // The parse tree is gone; hand its pages back so idle memory stays small.
  ReleaseEmbeddedPages(EmbeddedModelText(id));
  malloc_trim(0);
  return model;
}

}  // namespace understudy::api
