// Codecs: one per AWS wire protocol, between HTTP and the model-shaped JSON that
// operations read and write.
//
// Every protocol decodes a request into the same canonical form (the input
// shape as JSON: timestamps as epoch seconds, blobs as binary) and encodes the
// output shape and errors in its own wire form. Codecs are stateless; any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "api/api_error.h"
#include "api/http.h"
#include "api/model.h"

namespace understudy::api {

enum class Protocol { kJson10, kJson11, kQuery, kEc2, kRestJson, kRpcV2Cbor };
const char* ProtocolName(Protocol protocol);  // "json1.0", "json1.1", "query", "ec2", ...

// Values from the matched REST path template ({Name} and {Name+} labels).
using PathLabels = std::map<std::string, std::string, std::less<>>;

class Codec {
 public:
  virtual ~Codec() = default;
  virtual Protocol protocol() const = 0;

  // Decodes the operation's input. Malformed bodies, wrong types and unknown
  // fields of the wrong kind come back as the protocol's error (SerializationException,
  // MalformedQueryString, ...). Constraints are checked afterwards by Validate().
  virtual ApiResult DecodeInput(const ServiceModel& model, const Operation& op,
                                const HttpRequest& request, const PathLabels& labels) const = 0;
  virtual HttpResponse EncodeOutput(const ServiceModel& model, const Operation& op,
                                    const Json& output, const std::string& request_id) const = 0;
  // `info` names the service (namespaces, error prefixes); its model may be unparsed.
  virtual HttpResponse EncodeError(const ServiceInfo& info, const ApiError& error,
                                   const std::string& request_id) const = 0;
};

const Codec& CodecFor(Protocol protocol);

}  // namespace understudy::api
