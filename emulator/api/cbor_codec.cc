// Smithy RPC v2 CBOR: POST /service/<Service>/operation/<Op>, CBOR in and out.
#include <cmath>
#include <cstring>
#include <limits>

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
    case Json::value_t::null:
      out.push_back(static_cast<char>(0xF6));
      return;
    case Json::value_t::boolean:
      out.push_back(static_cast<char>(value.get<bool>() ? 0xF5 : 0xF4));
      return;
    case Json::value_t::number_unsigned:
      WriteHead(out, 0, value.get<uint64_t>());
      return;
    case Json::value_t::number_integer: {
      int64_t n = value.get<int64_t>();
      if (n >= 0)
        WriteHead(out, 0, static_cast<uint64_t>(n));
      else
        WriteHead(out, 1, static_cast<uint64_t>(-(n + 1)));
      return;
    }
    case Json::value_t::number_float:
      WriteDouble(out, value.get<double>());
      return;
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
      const Shape* element =
          shape != nullptr && shape->type == ShapeType::kList ? shape->member.shape : nullptr;
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

// Reads one CBOR data item (RFC 8949) into JSON. nlohmann::json::from_cbor is not
// used: it rejects tags 0-5, so the tag-1 timestamps every Smithy client sends
// failed, and it recurses once per nesting level, so a deep body overflowed the
// stack. Here maps need text keys, byte strings become binary, text must be
// UTF-8, tags are dropped (a tag-1 timestamp keeps its number, which is the
// canonical form), and nesting stops at kMaxNestingDepth.
class CborReader {
 public:
  explicit CborReader(std::string_view data) : data_(data) {}

  Result<Json> ReadDocument() {
    US_ASSIGN_OR_RETURN(Json value, ReadItem(0));
    if (pos_ != data_.size()) return Error("unexpected bytes after the CBOR value");
    return value;
  }

 private:
  static constexpr uint8_t kBreak = 0xFF;

  Status Error(const std::string& what) const {
    return Status::InvalidArgument(what + " at byte " + std::to_string(pos_));
  }
  Status Truncated() const { return Error("unexpected end of input"); }

  size_t remaining() const { return data_.size() - pos_; }

  // The argument of an initial byte with additional information `info`.
  Result<uint64_t> ReadArgument(uint8_t info) {
    if (info < 24) return static_cast<uint64_t>(info);
    size_t size = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (size == 0) return Error("reserved additional information " + std::to_string(info));
    if (remaining() < size) return Truncated();
    uint64_t n = 0;
    for (size_t i = 0; i < size; ++i) n = (n << 8) | static_cast<uint8_t>(data_[pos_++]);
    return n;
  }

  // A definite or indefinite (chunked) byte or text string of major type `major`.
  Result<std::string> ReadString(uint8_t major, uint8_t info) {
    std::string out;
    if (info != 31) {
      US_ASSIGN_OR_RETURN(uint64_t length, ReadArgument(info));
      if (length > remaining()) return Truncated();
      out.assign(data_.substr(pos_, static_cast<size_t>(length)));
      pos_ += static_cast<size_t>(length);
    } else {
      for (;;) {
        if (remaining() == 0) return Truncated();
        uint8_t head = static_cast<uint8_t>(data_[pos_++]);
        if (head == kBreak) break;
        if ((head >> 5) != major || (head & 31) == 31) {
          return Error("an indefinite-length string holds a chunk of another type");
        }
        US_ASSIGN_OR_RETURN(uint64_t length, ReadArgument(head & 31));
        if (length > remaining()) return Truncated();
        out.append(data_.substr(pos_, static_cast<size_t>(length)));
        pos_ += static_cast<size_t>(length);
      }
    }
    if (major == 3 && !IsValidUtf8(out)) return Error("a CBOR text string is not valid UTF-8");
    return out;
  }

  // True (and consumes it) when the next byte is the "break" of an indefinite container.
  Result<bool> AtBreak() {
    if (remaining() == 0) return Truncated();
    if (static_cast<uint8_t>(data_[pos_]) != kBreak) return false;
    ++pos_;
    return true;
  }

  static double HalfToDouble(uint16_t half) {
    int exponent = (half >> 10) & 0x1F;
    int mantissa = half & 0x3FF;
    double value;
    if (exponent == 0) {
      value = std::ldexp(mantissa, -24);
    } else if (exponent != 31) {
      value = std::ldexp(mantissa + 1024, exponent - 25);
    } else {
      value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::quiet_NaN();
    }
    return (half & 0x8000) ? -value : value;
  }

  Result<Json> ReadItem(int depth) {
    if (depth > kMaxNestingDepth) {
      return Error("the CBOR value nests deeper than " + std::to_string(kMaxNestingDepth) +
                   " levels");
    }
    if (remaining() == 0) return Truncated();
    uint8_t head = static_cast<uint8_t>(data_[pos_++]);
    uint8_t major = head >> 5;
    uint8_t info = head & 31;
    switch (major) {
      case 0: {
        US_ASSIGN_OR_RETURN(uint64_t n, ReadArgument(info));
        return Json(n);
      }
      case 1: {
        US_ASSIGN_OR_RETURN(uint64_t n, ReadArgument(info));
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Error("a negative integer is out of range");
        }
        return Json(-1 - static_cast<int64_t>(n));
      }
      case 2: {
        US_ASSIGN_OR_RETURN(std::string bytes, ReadString(major, info));
        return Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
      }
      case 3: {
        US_ASSIGN_OR_RETURN(std::string text, ReadString(major, info));
        return Json(std::move(text));
      }
      case 4: {
        Json array = Json::array();
        if (info == 31) {
          for (;;) {
            US_ASSIGN_OR_RETURN(bool done, AtBreak());
            if (done) break;
            US_ASSIGN_OR_RETURN(Json item, ReadItem(depth + 1));
            array.push_back(std::move(item));
          }
          return array;
        }
        US_ASSIGN_OR_RETURN(uint64_t count, ReadArgument(info));
        if (count > remaining()) return Truncated();  // every item takes a byte at least
        for (uint64_t i = 0; i < count; ++i) {
          US_ASSIGN_OR_RETURN(Json item, ReadItem(depth + 1));
          array.push_back(std::move(item));
        }
        return array;
      }
      case 5: {
        Json map = Json::object();
        bool indefinite = info == 31;
        uint64_t count = 0;
        if (!indefinite) {
          US_ASSIGN_OR_RETURN(count, ReadArgument(info));
          if (count > remaining() / 2) return Truncated();
        }
        for (uint64_t i = 0; indefinite || i < count; ++i) {
          if (indefinite) {
            US_ASSIGN_OR_RETURN(bool done, AtBreak());
            if (done) break;
          }
          if (remaining() == 0) return Truncated();
          if ((static_cast<uint8_t>(data_[pos_]) >> 5) != 3) {
            return Error("a CBOR map key is not a text string");
          }
          US_ASSIGN_OR_RETURN(Json key, ReadItem(depth + 1));
          US_ASSIGN_OR_RETURN(Json value, ReadItem(depth + 1));
          map[key.get<std::string>()] = std::move(value);
        }
        return map;
      }
      case 6: {
        // Tags carry no meaning for the canonical form: tag 1 (epoch seconds) is the
        // number itself; others (bignums, decimal fractions...) are not in AWS models.
        US_RETURN_IF_ERROR(ReadArgument(info).status());
        return ReadItem(depth + 1);
      }
      default: {  // 7: simple values and floats
        switch (info) {
          case 20:
            return Json(false);
          case 21:
            return Json(true);
          case 22:
          case 23:
            return Json(nullptr);  // null, undefined
          case 25: {
            US_ASSIGN_OR_RETURN(uint64_t bits, ReadArgument(info));
            return Json(HalfToDouble(static_cast<uint16_t>(bits)));
          }
          case 26: {
            US_ASSIGN_OR_RETURN(uint64_t bits, ReadArgument(info));
            uint32_t narrow = static_cast<uint32_t>(bits);
            float f;
            std::memcpy(&f, &narrow, sizeof f);
            return Json(static_cast<double>(f));
          }
          case 27: {
            US_ASSIGN_OR_RETURN(uint64_t bits, ReadArgument(info));
            double d;
            std::memcpy(&d, &bits, sizeof d);
            return Json(d);
          }
          case 31:
            return Error("unexpected break");
          default:
            return Error("unsupported simple value " + std::to_string(info));
        }
      }
    }
  }

  std::string_view data_;
  size_t pos_ = 0;
};

class RpcV2Cbor final : public Codec {
 public:
  // Codec
  Protocol protocol() const override { return Protocol::kRpcV2Cbor; }

  ApiResult DecodeInput(const ServiceModel&, const Operation& op, const HttpRequest& request,
                        const PathLabels&) const override {
    const std::string* type = request.Header("Content-Type");
    if (!request.body.empty() &&
        (type == nullptr || !StartsWithIgnoreCase(*type, "application/cbor"))) {
      return ApiError::Client("SerializationException",
                              "Content-Type '" + (type ? *type : std::string()) +
                                  "' is not supported; expected application/cbor");
    }
    Json input = Json::object();
    if (!request.body.empty()) {
      auto decoded = DecodeCbor(request.body);
      if (!decoded.ok()) {
        return ApiError::Client("SerializationException", "the request body is not valid CBOR: " +
                                                              decoded.status().message());
      }
      input = std::move(decoded).value();
    }
    if (!input.is_object()) {
      return ApiError::Client(
          "SerializationException",
          std::string("the request body must be a CBOR map, found ") + input.type_name());
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

Result<Json> DecodeCbor(std::string_view bytes) { return CborReader(bytes).ReadDocument(); }

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
    case Protocol::kJson10:
      return "json1.0";
    case Protocol::kJson11:
      return "json1.1";
    case Protocol::kQuery:
      return "query";
    case Protocol::kEc2:
      return "ec2";
    case Protocol::kRestJson:
      return "rest-json";
    case Protocol::kRpcV2Cbor:
      return "rpc-v2-cbor";
  }
  return "unknown";
}

const Codec& CodecFor(Protocol protocol) {
  switch (protocol) {
    case Protocol::kJson10:
      return Json10Codec();
    case Protocol::kJson11:
      return Json11Codec();
    case Protocol::kQuery:
      return QueryCodec();
    case Protocol::kEc2:
      return Ec2Codec();
    case Protocol::kRestJson:
      return RestJsonCodec();
    case Protocol::kRpcV2Cbor:
      return RpcV2CborCodec();
  }
  return Json11Codec();
}

}  // namespace understudy::api
