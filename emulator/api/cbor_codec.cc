// Smithy RPC v2 CBOR: POST /service/<Service>/operation/<Op>, CBOR in and out.
#include <cstring>

#include "api/codecs_internal.h"
#include "api/shape_values.h"

namespace understudy::api {
namespace {

void WriteHead(std::string& out, uint8_t major, uint64_t n) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFF) {
    out.push_back(static_cast<char>(m | 24));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(m | 25));
    for (int s = 8; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  } else if (n <= 0xFFFFFFFFULL) {
    out.push_back(static_cast<char>(m | 26));
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  } else {
    out.push_back(static_cast<char>(m | 27));
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  }
}

void WriteDouble(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  out.push_back(static_cast<char>(0xFB));
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(bits >> s));
}

// Writes `value`; `shape` (may be null) marks timestamps, which get tag 1.
void WriteValue(std::string& out, const Json& value, const Shape* shape) {
  if (shape != nullptr && shape->type == ShapeType::kTimestamp && value.is_number()) {
    WriteHead(out, 6, 1);
    WriteDouble(out, value.get<double>());
    return;
  }
  switch (value.type()) {
    case Json::value_t::null: out.push_back(static_cast<char>(0xF6)); return;
    case Json::value_t::boolean: out.push_back(static_cast<char>(value.get<bool>() ? 0xF5 : 0xF4)); return;
    case Json::value_t::number_unsigned: WriteHead(out, 0, value.get<uint64_t>()); return;
    case Json::value_t::number_integer: {
      int64_t n = value.get<int64_t>();
      if (n >= 0) WriteHead(out, 0, static_cast<uint64_t>(n));
      else WriteHead(out, 1, static_cast<uint64_t>(-(n + 1)));
      return;
    }
    case Json::value_t::number_float: WriteDouble(out, value.get<double>()); return;
    case Json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      WriteHead(out, 3, s.size());
      out += s;
      return;
    }
    case Json::value_t::binary: {
      const auto& b = value.get_binary();
      WriteHead(out, 2, b.size());
      out.append(reinterpret_cast<const char*>(b.data()), b.size());
      return;
    }
    case Json::value_t::array: {
      WriteHead(out, 4, value.size());
      const Shape* element = shape != nullptr && shape->type == ShapeType::kList ? shape->member.shape : nullptr;
      for (const auto& v : value) WriteValue(out, v, element);
      return;
    }
    case Json::value_t::object: {
      WriteHead(out, 5, value.size());
      for (auto it = value.begin(); it != value.end(); ++it) {
        WriteHead(out, 3, it.key().size());
        out += it.key();
        const Shape* child = nullptr;
        if (shape != nullptr && shape->type == ShapeType::kMap) {
          child = shape->value.shape;
        } else if (shape != nullptr) {
          if (const Member* m = shape->FindMember(it.key())) child = m->shape;
        }
        WriteValue(out, it.value(), child);
      }
      return;
    }
    default:
      out.push_back(static_cast<char>(0xF6));
  }
}

class RpcV2Cbor final : public Codec {
 public:
  // Codec
  Protocol protocol() const override { return Protocol::kRpcV2Cbor; }

  ApiResult DecodeInput(const ServiceModel&, const Operation& op, const HttpRequest& request,
                        const PathLabels&) const override {
    const std::string* type = request.Header("Content-Type");
    if (!request.body.empty() && (type == nullptr || !StartsWithIgnoreCase(*type, "application/cbor"))) {
      return ApiError::Client("SerializationException",
                              "Content-Type '" + (type ? *type : std::string()) +
                                  "' is not supported; expected application/cbor");
    }
    Json input = Json::object();
    if (!request.body.empty()) {
      try {
        input = Json::from_cbor(request.body.begin(), request.body.end(), true, true,
                                Json::cbor_tag_handler_t::ignore);
      } catch (const Json::exception& e) {
        return ApiError::Client("SerializationException",
                                std::string("the request body is not valid CBOR: ") + e.what());
      }
    }
    if (!input.is_object()) {
      return ApiError::Client("SerializationException",
                              std::string("the request body must be a CBOR map, found ") +
                                  input.type_name());
    }
    if (op.input != nullptr) {
      Status status = NormalizeTree(*op.input, input, BlobEncoding::kBinary, "");
      if (!status.ok()) return ApiError::Client("SerializationException", status.message());
    }
    return input;
  }

  HttpResponse EncodeOutput(const ServiceModel&, const Operation& op, const Json& output,
                            const std::string& request_id) const override {
    HttpResponse response;
    WriteValue(response.body, output.is_object() ? output : Json::object(), op.output);
    SetHeaders(response, request_id);
    return response;
  }

  HttpResponse EncodeError(const ServiceInfo&, const ApiError& error,
                           const std::string& request_id) const override {
    HttpResponse response;
    response.status = error.http_status;
    WriteValue(response.body, Json{{"__type", error.code}, {"message", error.message}}, nullptr);
    SetHeaders(response, request_id);
    return response;
  }

 private:
  static void SetHeaders(HttpResponse& response, const std::string& request_id) {
    response.SetHeader("Content-Type", "application/cbor");
    response.SetHeader("smithy-protocol", "rpc-v2-cbor");
    response.SetHeader("x-amzn-RequestId", request_id);
  }
};

}  // namespace

std::string EncodeCborForTest(const Json& value) {
  std::string out;
  WriteValue(out, value, nullptr);
  return out;
}

const Codec& RpcV2CborCodec() {
  static const RpcV2Cbor codec;
  return codec;
}

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kJson10: return "json1.0";
    case Protocol::kJson11: return "json1.1";
    case Protocol::kQuery: return "query";
    case Protocol::kEc2: return "ec2";
    case Protocol::kRestJson: return "rest-json";
    case Protocol::kRpcV2Cbor: return "rpc-v2-cbor";
  }
  return "unknown";
}

const Codec& CodecFor(Protocol protocol) {
  switch (protocol) {
    case Protocol::kJson10: return Json10Codec();
    case Protocol::kJson11: return Json11Codec();
    case Protocol::kQuery: return QueryCodec();
    case Protocol::kEc2: return Ec2Codec();
    case Protocol::kRestJson: return RestJsonCodec();
    case Protocol::kRpcV2Cbor: return RpcV2CborCodec();
  }
  return Json11Codec();
}

}  // namespace understudy::api
