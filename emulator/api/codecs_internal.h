// Pieces the codecs share; internal to api/.
#pragma once

#include <string_view>

#include "api/codec.h"

namespace understudy::api {

const Codec& Json10Codec();
const Codec& Json11Codec();
const Codec& QueryCodec();
const Codec& Ec2Codec();
const Codec& RestJsonCodec();
const Codec& RpcV2CborCodec();

// Parses and normalises a JSON request body ("" means {}) for `op`.
ApiResult DecodeJsonBody(const Operation& op, std::string_view body);
// Canonical JSON to wire JSON: binary values become base64 text.
Json ToWireJson(const Json& value);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
// CBOR encoding without a shape (no timestamp tags), for tests.
std::string EncodeCborForTest(const Json& value);

}  // namespace understudy::api
