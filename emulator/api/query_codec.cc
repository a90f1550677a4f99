// awsQuery and EC2's query dialect: form-encoded input, XML output.
#include <map>

#include "api/codecs_internal.h"
#include "api/shape_values.h"
#include "api/xml_writer.h"

namespace understudy::api {
namespace {

using Params = std::map<std::string, std::string, std::less<>>;

bool HasPrefix(const Params& params, const std::string& prefix) {
  auto it = params.lower_bound(prefix);
  return it != params.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

std::string Capitalize(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  return text;
}

class QueryDialectCodec final : public Codec {
 public:
  explicit QueryDialectCodec(bool ec2) : ec2_(ec2) {}

  // Codec
  Protocol protocol() const override { return ec2_ ? Protocol::kEc2 : Protocol::kQuery; }

  ApiResult DecodeInput(const ServiceModel&, const Operation& op, const HttpRequest& request,
                        const PathLabels&) const override {
    Params params;
    auto pairs = QueryPairs(request);
    if (!pairs.ok()) return ApiError::Client("MalformedQueryString", pairs.status().message());
    for (auto& [key, value] : *pairs) {
      if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
        return ApiError::Client("MalformedQueryString",
                                "the parameter '" + Printable(key) + "' is not valid UTF-8");
      }
      params.emplace(std::move(key), std::move(value));
    }
    Json input = Json::object();
    if (op.input != nullptr) {
      Status status = DecodeStructure(*op.input, "", params, &input);
      if (!status.ok())
        return ApiError::Client(ec2_ ? "InvalidParameterValue" : "ValidationError",
                                status.message());
    }
    return input;
  }

  HttpResponse EncodeOutput(const ServiceModel& model, const Operation& op, const Json& output,
                            const std::string& request_id) const override {
    XmlWriter xml;
    std::string root = op.name + "Response";
    if (ec2_) {
      xml.Open(root, Ec2Namespace(model.info()));
      xml.Element("requestId", request_id);
      if (op.output != nullptr) WriteMembers(xml, *op.output, output);
      xml.Close(root);
    } else {
      xml.Open(root, model.info().xml_namespace);
      if (!op.result_wrapper.empty()) {
        xml.Open(op.result_wrapper);
        if (op.output != nullptr) WriteMembers(xml, *op.output, output);
        xml.Close(op.result_wrapper);
      }
      xml.Open("ResponseMetadata");
      xml.Element("RequestId", request_id);
      xml.Close("ResponseMetadata");
      xml.Close(root);
    }
    HttpResponse response;
    response.body = xml.str();
    response.SetHeader("Content-Type", "text/xml");
    response.SetHeader("x-amzn-RequestId", request_id);
    return response;
  }

  HttpResponse EncodeError(const ServiceInfo& info, const ApiError& error,
                           const std::string& request_id) const override {
    XmlWriter xml;
    if (ec2_) {
      xml.Open("Response");
      xml.Open("Errors");
      xml.Open("Error");
      xml.Element("Code", error.code);
      xml.Element("Message", error.message);
      xml.Close("Error");
      xml.Close("Errors");
      xml.Element("RequestID", request_id);
      xml.Close("Response");
    } else {
      xml.Open("ErrorResponse", info.xml_namespace);
      xml.Open("Error");
      xml.Element("Type", error.sender_fault ? "Sender" : "Receiver");
      xml.Element("Code", error.code);
      xml.Element("Message", error.message);
      xml.Close("Error");
      xml.Element("RequestId", request_id);
      xml.Close("ErrorResponse");
    }
    HttpResponse response;
    response.status = error.http_status;
    response.body = xml.str();
    response.SetHeader("Content-Type", "text/xml");
    response.SetHeader("x-amzn-RequestId", request_id);
    return response;
  }

 private:
  static std::string Printable(const std::string& text) {
    std::string out;
    for (unsigned char c : text) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    return out;
  }

  static std::string Ec2Namespace(const ServiceInfo& info) {
    std::string ns = info.xml_namespace;
    if (!ns.empty() && ns.back() != '/') ns += '/';
    return ns;
  }

  static Result<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      const HttpRequest& request) {
    std::vector<std::pair<std::string, std::string>> pairs = request.query;
    if (!request.body.empty()) {
      if (!ParseFormEncoded(request.body, &pairs)) {
        return Status::InvalidArgument("the form body has a malformed percent-escape");
      }
    }
    return pairs;
  }

  // The wire name of a member in this dialect.
  std::string WireName(const Member& member) const {
    if (!ec2_) return member.XmlName();
    if (!member.query_name.empty()) return member.query_name;
    return Capitalize(member.location_name.empty() ? member.name : member.location_name);
  }

  Status DecodeStructure(const Shape& shape, const std::string& prefix, const Params& params,
                         Json* out) const {
    for (const Member& member : shape.members) {
      std::string key = prefix + WireName(member);
      Json value;
      bool present = false;
      US_RETURN_IF_ERROR(DecodeValue(member, *member.shape, key, params, &value, &present));
      if (present) (*out)[member.name] = std::move(value);
    }
    return Status::Ok();
  }

  Status DecodeValue(const Member& member, const Shape& shape, const std::string& key,
                     const Params& params, Json* out, bool* present) const {
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion: {
        if (!HasPrefix(params, key + ".")) return Status::Ok();
        *out = Json::object();
        *present = true;
        return DecodeStructure(shape, key + ".", params, out);
      }
      case ShapeType::kList: {
        auto exact = params.find(key);
        if (exact != params.end() && exact->second.empty()) {  // "Name=" is an empty list
          *out = Json::array();
          *present = true;
          return Status::Ok();
        }
        bool flat = ec2_ || member.flattened || shape.flattened;
        std::string base =
            flat ? key + "."
                 : key + "." +
                       (shape.member.location_name.empty() ? std::string("member")
                                                           : shape.member.location_name) +
                       ".";
        if (!HasPrefix(params, base)) return Status::Ok();
        *out = Json::array();
        *present = true;
        for (size_t n = 1;; ++n) {
          std::string item_key = base + std::to_string(n);
          Json item;
          bool item_present = false;
          US_RETURN_IF_ERROR(DecodeValue(shape.member, *shape.member.shape, item_key, params, &item,
                                         &item_present));
          if (!item_present) break;
          out->push_back(std::move(item));
        }
        return Status::Ok();
      }
      case ShapeType::kMap: {
        bool flat = member.flattened || shape.flattened;
        std::string base = flat ? key + "." : key + ".entry.";
        if (!HasPrefix(params, base)) return Status::Ok();
        *out = Json::object();
        *present = true;
        std::string key_name = shape.key.location_name.empty() ? "key" : shape.key.location_name;
        std::string value_name =
            shape.value.location_name.empty() ? "value" : shape.value.location_name;
        for (size_t n = 1;; ++n) {
          std::string entry = base + std::to_string(n) + ".";
          auto k = params.find(entry + key_name);
          if (k == params.end()) break;
          Json value;
          bool value_present = false;
          US_RETURN_IF_ERROR(DecodeValue(shape.value, *shape.value.shape, entry + value_name,
                                         params, &value, &value_present));
          (*out)[k->second] = value_present ? std::move(value) : Json("");
        }
        return Status::Ok();
      }
      default: {
        auto it = params.find(key);
        if (it == params.end()) return Status::Ok();
        US_ASSIGN_OR_RETURN(*out, ScalarFromText(shape, it->second, key));
        *present = true;
        return Status::Ok();
      }
    }
  }

  void WriteMembers(XmlWriter& xml, const Shape& shape, const Json& value) const {
    if (!value.is_object()) return;
    for (const Member& member : shape.members) {
      auto it = value.find(member.name);
      if (it == value.end() || it->is_null()) continue;
      std::string name =
          ec2_ && member.location_name.empty() ? LowerFirst(member.name) : member.XmlName();
      WriteValue(xml, name, member, *member.shape, *it);
    }
  }

  static std::string LowerFirst(std::string text) {
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z')
      text[0] = static_cast<char>(text[0] + 32);
    return text;
  }

  void WriteValue(XmlWriter& xml, const std::string& name, const Member& member, const Shape& shape,
                  const Json& value) const {
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        xml.Open(name);
        WriteMembers(xml, shape, value);
        xml.Close(name);
        return;
      case ShapeType::kList: {
        if (!value.is_array()) return;
        bool flat = member.flattened || shape.flattened;
        std::string item = shape.member.location_name.empty() ? (ec2_ ? "item" : "member")
                                                              : shape.member.location_name;
        if (flat) {
          for (const auto& v : value) WriteValue(xml, name, shape.member, *shape.member.shape, v);
          return;
        }
        xml.Open(name);
        for (const auto& v : value) WriteValue(xml, item, shape.member, *shape.member.shape, v);
        xml.Close(name);
        return;
      }
      case ShapeType::kMap: {
        if (!value.is_object()) return;
        std::string key_name = shape.key.location_name.empty() ? "key" : shape.key.location_name;
        std::string value_name =
            shape.value.location_name.empty() ? "value" : shape.value.location_name;
        bool flat = member.flattened || shape.flattened;
        if (!flat) xml.Open(name);
        for (auto it = value.begin(); it != value.end(); ++it) {
          xml.Open(flat ? name : "entry");
          xml.Element(key_name, it.key());
          WriteValue(xml, value_name, shape.value, *shape.value.shape, it.value());
          xml.Close(flat ? name : "entry");
        }
        if (!flat) xml.Close(name);
        return;
      }
      default: {
        std::string format =
            member.timestamp_format.empty() ? shape.timestamp_format : member.timestamp_format;
        xml.Element(name, ScalarToText(shape, value, format.empty() ? "iso8601" : format));
        return;
      }
    }
  }

  bool ec2_;
};

}  // namespace

const Codec& QueryCodec() {
  static const QueryDialectCodec codec(false);
  return codec;
}

const Codec& Ec2Codec() {
  static const QueryDialectCodec codec(true);
  return codec;
}

}  // namespace understudy::api
