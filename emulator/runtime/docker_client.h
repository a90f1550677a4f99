// DockerClient: a small Docker Engine API client over the engine's unix socket.
//
// Speaks HTTP/1.1 to dockerd (or Podman's compatible service) with libcurl
// (CURLOPT_UNIX_SOCKET_PATH). Calls block the calling thread: DockerRuntime makes
// the short ones (create, start, inspect, kill) on the loop thread and the long
// ones (following logs, waiting for an exit) on worker threads. Also the pure
// parts of the protocol, tested on their own: the 8-byte frame headers of a
// multiplexed stdout/stderr stream, and splitting output into lines.
// Any thread; one client may be used from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/status.h"

namespace understudy::runtime {

// The engine's socket path: DOCKER_HOST when it is unix://PATH, else
// /var/run/docker.sock. InvalidArgument for a DOCKER_HOST that is not a unix socket
// (tcp:// and ssh:// engines are not supported).
Result<std::string> DockerSocketFromEnvironment();

struct DockerResponse {
  long status = 0;   // HTTP status
  std::string body;  // the whole body
  // The engine's error text ({"message": "..."}), or the body when it is not JSON.
  std::string Message() const;
  Result<Json> JsonBody() const;
};

class DockerClient {
 public:
  explicit DockerClient(std::string socket_path);

  const std::string& socket_path() const { return socket_path_; }

  // One request; `body`, when not empty, is sent as application/json. Unavailable when
  // the engine does not answer (the message names the socket).
  Result<DockerResponse> Request(const std::string& method, const std::string& path,
                                 const std::string& body = "", long timeout_ms = 30000) const;
  // A request whose body is streamed to `on_data` as it arrives, until the engine ends
  // it, `stop` becomes true, or on_data returns false. Returns the HTTP status.
  Result<long> Stream(const std::string& method, const std::string& path,
                      const std::function<bool(std::string_view)>& on_data,
                      const std::atomic<bool>* stop) const;
  // Whether an engine answers /_ping within `timeout_ms`.
  bool Ping(long timeout_ms = 2000) const;

 private:
  std::string socket_path_;
};

// Splits the engine's multiplexed stream (containers without a TTY): frames of an
// 8-byte header [stream, 0, 0, 0, size as big-endian uint32] and `size` bytes of
// payload; stream 1 is stdout, 2 stderr (0, stdin, is reported as stdout).
class FrameDemuxer {
 public:
  // Feeds bytes as they arrive (frames may be split anywhere); calls `payload` for
  // each complete frame's payload, in order.
  void Feed(std::string_view data,
            const std::function<void(int stream, std::string_view payload)>& payload);
  // Bytes of an incomplete frame held back.
  size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

// Turns a stream's chunks into lines (without "\n"; a trailing "\r" is dropped too).
class LineSplitter {
 public:
  void Feed(std::string_view data, const std::function<void(const std::string&)>& line);
  // The unterminated rest, as a last line (when not empty).
  void Flush(const std::function<void(const std::string&)>& line);

 private:
  std::string partial_;
};

// Docker's signal name for a number ("SIGTERM"), or the number as text.
std::string DockerSignalName(int signal);
// A signal number from Docker's spelling of it ("SIGTERM", "TERM", "15"); 0 if unknown.
int DockerSignalNumber(const std::string& name);

// Percent-encodes `text` for a URL query.
std::string UrlEncode(std::string_view text);

}  // namespace understudy::runtime
