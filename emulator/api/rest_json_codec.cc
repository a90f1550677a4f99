// restJson1: the operation's HTTP binding (method, path labels, query, headers), JSON bodies.
#include "api/codecs_internal.h"
#include "api/shape_values.h"

namespace understudy::api {
namespace {

std::string LowerAscii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

class RestJson final : public Codec {
 public:
  // Codec
  Protocol protocol() const override { return Protocol::kRestJson; }

  ApiResult DecodeInput(const ServiceModel&, const Operation& op, const HttpRequest& request,
                        const PathLabels& labels) const override {
    Json input = Json::object();
    if (op.input == nullptr) return input;
    const Shape& shape = *op.input;
    auto bad = [](const Status& s) { return ApiError::Client("ValidationException", s.message()); };
    // Body: a payload member takes the whole body; otherwise body members come from JSON.
    const Member* payload = shape.payload.empty() ? nullptr : shape.FindMember(shape.payload);
    if (payload != nullptr) {
      if (!request.body.empty()) {
        if (payload->shape->type == ShapeType::kBlob) {
          input[payload->name] =
              Json::binary(std::vector<uint8_t>(request.body.begin(), request.body.end()));
        } else if (payload->shape->type == ShapeType::kString) {
          if (!IsValidUtf8(request.body)) {
            return ApiError::Client("SerializationException",
                                    "the request body is not valid UTF-8");
          }
          input[payload->name] = request.body;
        } else {
          ApiResult body = DecodeBody(*payload->shape, request);
          if (!body.ok()) return body;
          input[payload->name] = body.output();
        }
      }
    } else if (!request.body.empty()) {
      ApiResult body = DecodeBody(shape, request);
      if (!body.ok()) return body;
      // Only body-located members are read from the body.
      for (auto it = body.output().begin(); it != body.output().end(); ++it) {
        const Member* m = shape.FindMember(it.key());
        if (m != nullptr && m->location == Location::kBody) input[it.key()] = it.value();
      }
    }
    for (const Member& member : shape.members) {
      switch (member.location) {
        case Location::kUri: {
          auto it = labels.find(member.XmlName());
          if (it == labels.end()) break;
          auto value = ScalarFromText(*member.shape, it->second, member.name);
          if (!value.ok()) return bad(value.status());
          input[member.name] = *value;
          break;
        }
        case Location::kQuery: {
          if (member.shape->type == ShapeType::kMap) {
            Json map = Json::object();
            for (const auto& [k, v] : request.query) {
              if (IsBoundQueryKey(shape, k)) continue;
              if (!IsValidUtf8(k) || !IsValidUtf8(v)) return NotUtf8("a query parameter", member);
              map[k] = v;
            }
            if (!map.empty()) input[member.name] = map;
            break;
          }
          if (member.shape->type == ShapeType::kList) {
            Json list = Json::array();
            for (const auto& [k, v] : request.query) {
              if (k != member.XmlName()) continue;
              auto value = ScalarFromText(*member.shape->member.shape, v, member.name);
              if (!value.ok()) return bad(value.status());
              list.push_back(*value);
            }
            if (!list.empty()) input[member.name] = list;
            break;
          }
          if (const std::string* v = request.QueryParam(member.XmlName())) {
            auto value = ScalarFromText(*member.shape, *v, member.name);
            if (!value.ok()) return bad(value.status());
            input[member.name] = *value;
          }
          break;
        }
        case Location::kHeader: {
          const std::string* v = request.Header(member.XmlName());
          if (v == nullptr) break;
          if (member.json_value) {
            std::string decoded;
            auto parsed = Base64Decode(*v, &decoded) && JsonNestingWithinLimit(decoded)
                              ? ParseRequestJson(decoded)
                              : Result<Json>(Status::InvalidArgument(""));
            if (!parsed.ok()) {
              return ApiError::Client("ValidationException",
                                      "header " + member.XmlName() + " is not base64-encoded JSON");
            }
            input[member.name] = *parsed;
            break;
          }
          auto value = ScalarFromText(*member.shape, *v, member.name);
          if (!value.ok()) return bad(value.status());
          input[member.name] = *value;
          break;
        }
        case Location::kHeaders: {
          Json map = Json::object();
          std::string prefix = LowerAscii(member.XmlName());
          for (const auto& [k, v] : request.headers) {
            std::string lower = LowerAscii(k);
            if (lower.compare(0, prefix.size(), prefix) != 0) continue;
            if (!IsValidUtf8(lower) || !IsValidUtf8(v)) return NotUtf8("a header", member);
            map[lower.substr(prefix.size())] = v;
          }
          if (!map.empty()) input[member.name] = map;
          break;
        }
        default:
          break;
      }
    }
    return input;
  }

  HttpResponse EncodeOutput(const ServiceModel&, const Operation& op, const Json& output,
                            const std::string& request_id) const override {
    HttpResponse response;
    response.status = op.response_code;
    response.SetHeader("x-amzn-RequestId", request_id);
    Json body = Json::object();
    const Shape* shape = op.output;
    const Member* payload =
        shape == nullptr || shape->payload.empty() ? nullptr : shape->FindMember(shape->payload);
    if (shape != nullptr && output.is_object()) {
      for (const Member& member : shape->members) {
        auto it = output.find(member.name);
        if (it == output.end() || it->is_null()) continue;
        switch (member.location) {
          case Location::kHeader:
            response.SetHeader(
                member.XmlName(),
                ScalarToText(*member.shape, *it,
                             member.timestamp_format.empty() ? "rfc822" : member.timestamp_format));
            break;
          case Location::kHeaders:
            for (auto h = it->begin(); h != it->end(); ++h) {
              response.SetHeader(member.XmlName() + h.key(),
                                 h->is_string() ? h->get<std::string>() : h->dump());
            }
            break;
          case Location::kStatusCode:
            if (it->is_number_integer()) response.status = it->get<int>();
            break;
          default:
            if (&member != payload) body[member.name] = ToWireJson(*it);
        }
      }
    }
    if (payload != nullptr) {
      auto it = output.find(payload->name);
      if (it != output.end()) {
        if (it->is_binary()) {
          response.body.assign(it->get_binary().begin(), it->get_binary().end());
          response.SetHeader("Content-Type", "application/octet-stream");
        } else if (it->is_string()) {
          response.body = it->get<std::string>();
          response.SetHeader("Content-Type", "text/plain");
        } else {
          response.body = ToWireJson(*it).dump(-1, ' ', false, Json::error_handler_t::replace);
          response.SetHeader("Content-Type", "application/json");
        }
      }
      return response;
    }
    response.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
    response.SetHeader("Content-Type", "application/json");
    return response;
  }

  HttpResponse EncodeError(const ServiceInfo&, const ApiError& error,
                           const std::string& request_id) const override {
    HttpResponse response;
    response.status = error.http_status;
    response.SetHeader("Content-Type", "application/json");
    response.SetHeader("X-Amzn-ErrorType", error.code);
    response.SetHeader("x-amzn-RequestId", request_id);
    response.body = Json{{"message", error.message}, {"__type", error.code}}.dump(
        -1, ' ', false, Json::error_handler_t::replace);
    return response;
  }

 private:
  static ApiError NotUtf8(const std::string& what, const Member& member) {
    return ApiError::Client("ValidationException",
                            what + " of '" + member.name + "' is not valid UTF-8");
  }

  static bool IsBoundQueryKey(const Shape& shape, const std::string& key) {
    for (const Member& m : shape.members) {
      if (m.location == Location::kQuery && m.shape->type != ShapeType::kMap &&
          m.XmlName() == key) {
        return true;
      }
    }
    return false;
  }

  static ApiResult DecodeBody(const Shape& shape, const HttpRequest& request) {
    const std::string* type = request.Header("Content-Type");
    if (type != nullptr && !StartsWithIgnoreCase(*type, "application/json") &&
        !StartsWithIgnoreCase(*type, "application/x-amz-json") &&
        !StartsWithIgnoreCase(*type, "binary/octet-stream")) {
      return ApiError::Client("SerializationException", "Content-Type '" + *type +
                                                            "' is not supported; expected "
                                                            "application/json");
    }
    Operation op;
    op.input = &shape;
    return DecodeJsonBody(op, request.body);
  }
};

}  // namespace

const Codec& RestJsonCodec() {
  static const RestJson codec;
  return codec;
}

}  // namespace understudy::api
