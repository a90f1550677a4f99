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

// Parses JSON from a request; every parser failure (syntax, number overflow) is an
// InvalidArgument carrying the parser's message.
Result<Json> ParseRequestJson(std::string_view text);
// True when the JSON `text` nests at most kMaxNestingDepth arrays and objects deep.
bool JsonNestingWithinLimit(std::string_view text);
// Parses and normalises a JSON request body ("" means {}) for `op`.
ApiResult DecodeJsonBody(const Operation& op, std::string_view body);
// Canonical JSON to wire JSON: binary values become base64 text.
Json ToWireJson(const Json& value);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);
// How deeply request bodies (JSON or CBOR) may nest. Deeper bodies are refused:
// recursive walks over them (normalising, dumping, copying) would overflow the stack.
inline constexpr int kMaxNestingDepth = 100;
// Decodes one CBOR item (tags dropped, byte strings as binary); InvalidArgument
// says what is wrong and at which byte.
Result<Json> DecodeCbor(std::string_view bytes);
// CBOR encoding without a shape (no timestamp tags), for tests.
std::string EncodeCborForTest(const Json& value);

}  // namespace understudy::api
