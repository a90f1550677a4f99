// awsJson1_0 and awsJson1_1: POST / with X-Amz-Target, JSON in and out.
#include "api/codecs_internal.h"
#include "api/shape_values.h"

namespace understudy::api {
namespace {

class JsonCodec final : public Codec {
 public:
  explicit JsonCodec(Protocol protocol) : protocol_(protocol) {}

  // Codec
  Protocol protocol() const override { return protocol_; }

  ApiResult DecodeInput(const ServiceModel&, const Operation& op, const HttpRequest& request,
                        const PathLabels&) const override {
    const std::string* type = request.Header("Content-Type");
    std::string expected = protocol_ == Protocol::kJson10 ? "application/x-amz-json-1.0"
                                                          : "application/x-amz-json-1.1";
    if (type != nullptr && !StartsWithIgnoreCase(*type, "application/x-amz-json-1.") &&
        !StartsWithIgnoreCase(*type, "application/json")) {
      return ApiError::Client(
          "SerializationException",
          "Content-Type '" + *type + "' is not supported; expected " + expected);
    }
    return DecodeJsonBody(op, request.body);
  }

  HttpResponse EncodeOutput(const ServiceModel&, const Operation&, const Json& output,
                            const std::string& request_id) const override {
    HttpResponse response;
    response.body = ToWireJson(output).dump(-1, ' ', false, Json::error_handler_t::replace);
    response.SetHeader("Content-Type", ContentType());
    response.SetHeader("x-amzn-RequestId", request_id);
    return response;
  }

  HttpResponse EncodeError(const ServiceInfo&, const ApiError& error,
                           const std::string& request_id) const override {
    HttpResponse response;
    response.status = error.http_status;
    response.body = Json{{"__type", error.code}, {"message", error.message}}.dump(
        -1, ' ', false, Json::error_handler_t::replace);
    response.SetHeader("Content-Type", ContentType());
    response.SetHeader("x-amzn-RequestId", request_id);
    return response;
  }

 private:
  std::string ContentType() const {
    return protocol_ == Protocol::kJson10 ? "application/x-amz-json-1.0"
                                          : "application/x-amz-json-1.1";
  }
  Protocol protocol_;
};

}  // namespace

Result<Json> ParseRequestJson(std::string_view text) {
  // Not core's ParseJson: it lets out_of_range (a number like 1e400) escape.
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(e.what());
  }
}

bool JsonNestingWithinLimit(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNestingDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

ApiResult DecodeJsonBody(const Operation& op, std::string_view body) {
  if (!IsValidUtf8(body)) {
    return ApiError::Client("SerializationException", "the request body is not valid UTF-8");
  }
  if (!JsonNestingWithinLimit(body)) {
    return ApiError::Client(
        "SerializationException",
        "the request body nests deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  }
  Json input = Json::object();
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!blank) {
    auto parsed = ParseRequestJson(body);
    if (!parsed.ok()) {
      return ApiError::Client("SerializationException",
                              "the request body is not valid JSON: " + parsed.status().message());
    }
    input = std::move(parsed).value();
  }
  if (!input.is_object()) {
    return ApiError::Client(
        "SerializationException",
        std::string("the request body must be a JSON object, found ") + input.type_name());
  }
  if (op.input != nullptr) {
    Status status = NormalizeTree(*op.input, input, BlobEncoding::kBase64Text, "");
    if (!status.ok()) return ApiError::Client("SerializationException", status.message());
  }
  return input;
}

Json ToWireJson(const Json& value) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    return Base64Encode(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = ToWireJson(it.value());
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& v : value) out.push_back(ToWireJson(v));
    return out;
  }
  return value;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

const Codec& Json10Codec() {
  static const JsonCodec codec(Protocol::kJson10);
  return codec;
}

const Codec& Json11Codec() {
  static const JsonCodec codec(Protocol::kJson11);
  return codec;
}

}  // namespace understudy::api
