#include "runtime/docker_client.h"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <curl/curl.h>

namespace understudy::runtime {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct StreamState {
  const std::function<bool(std::string_view)>* on_data = nullptr;
  std::string* body = nullptr;
  const std::atomic<bool>* stop = nullptr;
  bool aborted = false;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<StreamState*>(user);
  size_t n = size * count;
  if (state->body != nullptr) {
    state->body->append(data, n);
    return n;
  }
  if (!(*state->on_data)(std::string_view(data, n))) {
    state->aborted = true;
    return 0;
  }
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* state = static_cast<StreamState*>(user);
  if (state->stop != nullptr && state->stop->load()) {
    state->aborted = true;
    return 1;
  }
  return 0;
}

// Runs one transfer; the HTTP status or why it failed.
Result<long> Perform(const std::string& socket, const std::string& method, const std::string& path,
                     const std::string& body, long timeout_ms, StreamState& state) {
  GlobalInit();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("curl_easy_init failed");
  std::string url = "http://localhost" + path;
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  struct curl_slist* headers = nullptr;
  if (!body.empty() || method == "POST") {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  if (state.stop != nullptr) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &state);
  }
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK && !state.aborted) {
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
        code == CURLE_OPERATION_TIMEDOUT || code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR ||
        code == CURLE_SEND_ERROR || code == CURLE_PARTIAL_FILE) {
      return Status::Unavailable("the container engine at " + socket + " did not answer " + method +
                                 " " + path.substr(0, path.find('?')) + ": " +
                                 curl_easy_strerror(code));
    }
    return Status::Internal(method + " " + path + ": " + curl_easy_strerror(code));
  }
  return status;
}

}  // namespace

Result<std::string> DockerSocketFromEnvironment() {
  const char* host = std::getenv("DOCKER_HOST");
  if (host == nullptr || *host == '\0') return std::string("/var/run/docker.sock");
  std::string value = host;
  if (value.rfind("unix://", 0) == 0) return value.substr(7);
  return Status::InvalidArgument("DOCKER_HOST=" + value +
                                 ": only unix:// engine sockets are supported "
                                 "(e.g. unix:///var/run/docker.sock, or Podman's "
                                 "unix:///run/podman/podman.sock)");
}

std::string DockerResponse::Message() const {
  auto parsed = ParseJson(body);
  if (parsed.ok() && parsed->is_object() && (*parsed).contains("message") &&
      (*parsed)["message"].is_string()) {
    return (*parsed)["message"].get<std::string>();
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.empty() ? "HTTP " + std::to_string(status) : text;
}

Result<Json> DockerResponse::JsonBody() const { return ParseJson(body); }

DockerClient::DockerClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

Result<DockerResponse> DockerClient::Request(const std::string& method, const std::string& path,
                                             const std::string& body, long timeout_ms) const {
  DockerResponse response;
  StreamState state;
  state.body = &response.body;
  auto status = Perform(socket_path_, method, path, body, timeout_ms, state);
  if (!status.ok()) return status.status();
  response.status = *status;
  return response;
}

Result<long> DockerClient::Stream(const std::string& method, const std::string& path,
                                  const std::function<bool(std::string_view)>& on_data,
                                  const std::atomic<bool>* stop) const {
  StreamState state;
  state.on_data = &on_data;
  state.stop = stop;
  return Perform(socket_path_, method, path, "", 0, state);
}

bool DockerClient::Ping(long timeout_ms) const {
  auto response = Request("GET", "/_ping", "", timeout_ms);
  return response.ok() && response->status == 200;
}

void FrameDemuxer::Feed(std::string_view data,
                        const std::function<void(int stream, std::string_view payload)>& payload) {
  buffer_.append(data);
  size_t at = 0;
  while (buffer_.size() - at >= 8) {
    const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + at);
    uint32_t size = (uint32_t{header[4]} << 24) | (uint32_t{header[5]} << 16) |
                    (uint32_t{header[6]} << 8) | uint32_t{header[7]};
    if (buffer_.size() - at - 8 < size) break;
    int stream = header[0] == 2 ? 2 : 1;
    payload(stream, std::string_view(buffer_.data() + at + 8, size));
    at += 8 + size;
  }
  buffer_.erase(0, at);
}

void LineSplitter::Feed(std::string_view data,
                        const std::function<void(const std::string&)>& line) {
  partial_.append(data);
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string one = partial_.substr(start, nl - start);
    if (!one.empty() && one.back() == '\r') one.pop_back();
    line(one);
  }
  partial_.erase(0, start);
}

void LineSplitter::Flush(const std::function<void(const std::string&)>& line) {
  if (partial_.empty()) return;
  std::string rest = std::move(partial_);
  partial_.clear();
  if (!rest.empty() && rest.back() == '\r') rest.pop_back();
  line(rest);
}

namespace {
const std::pair<int, const char*> kSignals[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},    {SIGQUIT, "SIGQUIT"}, {SIGABRT, "SIGABRT"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},  {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"},
    {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},  {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"},
    {SIGTSTP, "SIGTSTP"}, {SIGWINCH, "SIGWINCH"}};
}  // namespace

std::string DockerSignalName(int signal) {
  for (const auto& [number, name] : kSignals) {
    if (number == signal) return name;
  }
  return std::to_string(signal);
}

int DockerSignalNumber(const std::string& name) {
  if (name.empty()) return 0;
  if (name.find_first_not_of("0123456789") == std::string::npos) return std::atoi(name.c_str());
  std::string full = name.rfind("SIG", 0) == 0 ? name : "SIG" + name;
  for (const auto& [number, known] : kSignals) {
    if (full == known) return number;
  }
  return 0;
}

std::string UrlEncode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace understudy::runtime
