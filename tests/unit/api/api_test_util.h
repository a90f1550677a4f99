// Helpers shared by the api unit tests: the embedded models, HTTP requests built
// the way the HTTP server builds them, and CBOR bodies.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/codec.h"
#include "api/http.h"
#include "api/model.h"
#include "core/check.h"
#include "core/json.h"

namespace understudy::api::test {

// One registry for the whole binary: models are parsed once, on first use.
inline ModelRegistry& Registry() {
  static ModelRegistry* registry = [] {
    auto loaded = ModelRegistry::LoadEmbedded();
    UNDERSTUDY_CHECK(loaded.ok());
    return std::move(loaded).value().release();
  }();
  return *registry;
}

inline const ServiceModel& ModelOf(std::string_view service) {
  const ServiceModel* model = Registry().Model(service);
  UNDERSTUDY_CHECK(model != nullptr);
  return *model;
}

inline const Operation& OperationOf(std::string_view service, std::string_view operation) {
  const Operation* op = ModelOf(service).FindOperation(operation);
  UNDERSTUDY_CHECK(op != nullptr);
  return *op;
}

// A request as HttpServer hands it over: `target` split into the raw path, the
// percent-decoded path and the decoded query pairs.
inline HttpRequest MakeRequest(std::string method, std::string target, HeaderList headers = {},
                               std::string body = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  std::string_view view = request.target;
  size_t q = view.find('?');
  request.raw_path = std::string(view.substr(0, q));
  if (!PercentDecode(request.raw_path, false, &request.path)) request.path = request.raw_path;
  if (q != std::string_view::npos && !ParseFormEncoded(view.substr(q + 1), &request.query)) {
    request.query.clear();
  }
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

// The CBOR encoding of `value` as a Smithy client would send it.
inline std::string Cbor(const Json& value) {
  std::vector<uint8_t> bytes = Json::to_cbor(value);
  return std::string(bytes.begin(), bytes.end());
}

// A small CBOR reader independent of the codec's, for checking response bodies:
// definite lengths only (what the encoder writes), and every tagged item becomes
// {"tag": N, "value": item} so tests can see that timestamps carry tag 1.
class CborInspector {
 public:
  static Json Decode(std::string_view bytes) {
    CborInspector reader(bytes);
    Json value = reader.Item();
    EXPECT_EQ(reader.pos_, bytes.size()) << "trailing bytes in the CBOR body";
    return value;
  }

 private:
  explicit CborInspector(std::string_view bytes) : bytes_(bytes) {}

  uint8_t Byte() {
    if (pos_ >= bytes_.size()) {
      ADD_FAILURE() << "CBOR body ends early";
      return 0xF6;
    }
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  uint64_t Argument(uint8_t info) {
    if (info < 24) return info;
    int size = 1 << (info - 24);  // 24..27: 1, 2, 4, 8 bytes
    uint64_t n = 0;
    for (int i = 0; i < size; ++i) n = (n << 8) | Byte();
    return n;
  }
  Json Item() {
    uint8_t head = Byte();
    uint8_t info = head & 31;
    switch (head >> 5) {
      case 0:
        return Json(Argument(info));
      case 1:
        return Json(-1 - static_cast<int64_t>(Argument(info)));
      case 2:
      case 3: {
        uint64_t n = Argument(info);
        std::string text(bytes_.substr(pos_, n));
        pos_ += n;
        return (head >> 5) == 2 ? Binary(text) : Json(text);
      }
      case 4: {
        Json array = Json::array();
        for (uint64_t n = Argument(info); n > 0; --n) array.push_back(Item());
        return array;
      }
      case 5: {
        Json map = Json::object();
        for (uint64_t n = Argument(info); n > 0; --n) {
          Json key = Item();
          map[key.get<std::string>()] = Item();
        }
        return map;
      }
      case 6: {
        uint64_t tag = Argument(info);
        return Json{{"tag", tag}, {"value", Item()}};
      }
      default:
        if (info == 20) return false;
        if (info == 21) return true;
        if (info == 27) {
          uint64_t bits = Argument(info);
          double d;
          std::memcpy(&d, &bits, sizeof d);
          return d;
        }
        if (info != 22) ADD_FAILURE() << "unexpected CBOR simple value " << int(info);
        return nullptr;
    }
  }

  static Json Binary(std::string_view bytes) {
    return Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }

  std::string_view bytes_;
  size_t pos_ = 0;
};

inline Json Binary(std::string_view bytes) {
  return Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

// "application/x-amz-json-1.1" and friends, for building request headers.
inline const char* ContentTypeOf(Protocol protocol) {
  switch (protocol) {
    case Protocol::kJson10:
      return "application/x-amz-json-1.0";
    case Protocol::kJson11:
      return "application/x-amz-json-1.1";
    case Protocol::kQuery:
    case Protocol::kEc2:
      return "application/x-www-form-urlencoded; charset=utf-8";
    case Protocol::kRestJson:
      return "application/json";
    case Protocol::kRpcV2Cbor:
      return "application/cbor";
  }
  return "";
}

}  // namespace understudy::api::test
