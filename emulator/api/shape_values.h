// Converting wire values into the canonical JSON form of a shape, and back.
//
// Shared by the codecs: JSON-like trees (awsJson, restJson bodies, CBOR) are
// normalised in place; text values (query strings, URI labels, headers, form
// fields) are parsed by the target shape's type. Errors name the member path.
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/model.h"
#include "core/json.h"
#include "core/status.h"

namespace understudy::api {

enum class BlobEncoding { kBase64Text, kBinary };

// Normalises `value` (a decoded JSON or CBOR tree) against `shape`: timestamps to
// epoch seconds, blobs to binary, numbers checked. Nulls in structures are
// dropped (AWS treats them as absent). InvalidArgument names the path and what
// was expected.
Status NormalizeTree(const Shape& shape, Json& value, BlobEncoding blobs, const std::string& path);

// Parses a scalar from text for `shape` (string, numbers, boolean, timestamp, blob as base64).
Result<Json> ScalarFromText(const Shape& shape, std::string_view text, const std::string& path);
// Renders a canonical scalar as text: timestamps with `timestamp_format`
// ("iso8601" default, "unixTimestamp", "rfc822"), blobs as base64.
std::string ScalarToText(const Shape& shape, const Json& value,
                         std::string_view timestamp_format = "iso8601");

// Checks the model constraints (required, enum, length, range) of canonical
// `input`. Returns the AWS-style message ("1 validation error detected: Value
// null at 'clusterName' failed to satisfy constraint: Member must not be null"),
// or nothing when valid. When the only violation is a missing top-level member,
// `missing` (if given) receives its name, for protocols that word that case their
// own way (EC2's MissingParameter).
std::optional<std::string> Validate(const Shape& shape, const Json& input,
                                    std::string* missing = nullptr);

std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* out);
// The shape's JSON type name for messages: "string", "integer", "list", ...
const char* ShapeTypeName(ShapeType type);

}  // namespace understudy::api
