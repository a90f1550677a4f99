#include "elb/data_plane.h"

#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/check.h"
#include "core/log.h"
#include "core/random.h"
#include "elb/alb_http.h"
#include "elb/rule_match.h"
#include "elb/target_choice.h"
#include "runtime/task_runtime.h"

namespace understudy::elb {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// Every socket, stream and coroutine names the io_context's own executor type: the
// type-erased any_io_executor cost a few percent of the request path's CPU in copies.
using Executor = asio::io_context::executor_type;
template <class T>
using awaitable = asio::awaitable<T, Executor>;
constexpr asio::use_awaitable_t<Executor> use_awaitable;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor>;
using boost::system::error_code;

constexpr uint64_t kMaxResponseBody = 1024ull * 1024 * 1024;
constexpr auto kConnectTimeout = std::chrono::seconds(10);  // then 504 (§1.8)
// Connections taken from a listener's backlog per wake-up, so one listener under a
// connect storm still lets the worker serve requests between batches.
constexpr int kAcceptBatch = 256;
constexpr auto kAcceptPauseOnError = std::chrono::milliseconds(100);

std::string TargetKeyText(std::string_view group, std::string_view id, uint16_t port) {
  std::string key(group);
  key += '|';
  key += id;
  key += ':';
  key += std::to_string(port);
  return key;
}

// The routing snapshot with the indexes and shared counters the request path uses.
struct Compiled {
  RoutingSnapshot snapshot;
  std::unordered_map<std::string, const Listener*> listeners;
  std::unordered_map<std::string, RoutableGroup> groups;
  // HTTPS listeners' TLS settings (certificate and key), by listener ARN.
  std::unordered_map<std::string, std::shared_ptr<asio::ssl::context>> tls;
};

// The socket under a plain socket, a tcp_stream or a TLS stream.
template <class S>
Socket& SocketOf(S& stream) {
  if constexpr (std::is_same_v<S, Socket>) {
    return stream;
  } else {
    return beast::get_lowest_layer(stream).socket();
  }
}

// What an ALB answers plain HTTP sent to an HTTPS listener with.
std::string PlainHttpToHttpsBody() {
  return "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>"
         "\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP "
         "request was sent to HTTPS port</center>\r\n</body>\r\n</html>\r\n";
}

// A server-side TLS context presenting `certificate_pem` (leaf first) with `key_pem`.
std::shared_ptr<asio::ssl::context> TlsContext(const std::string& certificate_pem,
                                               const std::string& key_pem) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
  error_code ec;
  context->use_certificate_chain(asio::buffer(certificate_pem), ec);
  if (!ec) context->use_private_key(asio::buffer(key_pem), asio::ssl::context::pem, ec);
  if (ec) return nullptr;
  return context;
}

// A message's head fields and body as FlatParser reads them, kept per connection so that
// their capacity is reused: every field is offsets into one string.
struct FlatMessage {
  struct Field {
    http::field name = http::field::unknown;
    uint32_t name_at = 0, name_size = 0, value_at = 0, value_size = 0;
  };
  std::string text;  // the method or reason, the target, then each field's name and value
  std::vector<Field> fields;
  std::string body;
};

// Reads one HTTP message into a FlatMessage: the start line, the fields and the body.
// Beast's message parser allocates a node per field and keeps them in a tree, which
// showed in the request path's profile.
template <bool isRequest>
class FlatParser : public http::basic_parser<isRequest> {
 public:
  using Field = FlatMessage::Field;

  explicit FlatParser(FlatMessage& message) : message_(message) {
    message_.text.clear();
    message_.fields.clear();
    message_.body.clear();
  }

  unsigned version() const { return version_; }
  // Requests.
  http::verb method() const { return method_; }
  std::string_view method_string() const { return Text(0, first_size_); }
  std::string_view target() const { return Text(first_size_, second_size_); }
  // Responses.
  int status() const { return status_; }
  std::string_view reason() const { return Text(0, first_size_); }

  const std::vector<Field>& fields() const { return message_.fields; }
  std::string_view Name(const Field& field) const { return Text(field.name_at, field.name_size); }
  std::string_view Value(const Field& field) const {
    return Text(field.value_at, field.value_size);
  }
  // The first field called `name`, if any.
  std::optional<std::string_view> Find(http::field name) const {
    for (const Field& field : message_.fields) {
      if (field.name == name) return Value(field);
    }
    return std::nullopt;
  }
  const std::string& body() const { return message_.body; }

 private:
  std::string_view Text(size_t at, size_t size) const {
    return std::string_view(message_.text).substr(at, size);
  }
  void on_request_impl(http::verb method, beast::string_view method_string,
                       beast::string_view target, int version, error_code&) override {
    method_ = method;
    version_ = static_cast<unsigned>(version);
    message_.text.append(method_string.data(), method_string.size());
    message_.text.append(target.data(), target.size());
    first_size_ = method_string.size();
    second_size_ = target.size();
  }
  void on_response_impl(int code, beast::string_view reason, int version, error_code&) override {
    status_ = code;
    version_ = static_cast<unsigned>(version);
    message_.text.append(reason.data(), reason.size());
    first_size_ = reason.size();
  }
  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    Field field;
    field.name = name;
    field.name_at = static_cast<uint32_t>(message_.text.size());
    field.name_size = static_cast<uint32_t>(name_string.size());
    message_.text.append(name_string.data(), name_string.size());
    field.value_at = static_cast<uint32_t>(message_.text.size());
    field.value_size = static_cast<uint32_t>(value.size());
    message_.text.append(value.data(), value.size());
    message_.fields.push_back(field);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length && *length <= kReserveLimit) message_.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view data, error_code&) override {
    message_.body.append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view data, error_code&) override {
    message_.body.append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(error_code&) override {}

  static constexpr std::uint64_t kReserveLimit = 1 << 20;
  FlatMessage& message_;
  http::verb method_ = http::verb::unknown;
  int status_ = 0;
  unsigned version_ = 11;
  size_t first_size_ = 0;
  size_t second_size_ = 0;
};
using FlatRequestParser = FlatParser<true>;
using FlatResponseParser = FlatParser<false>;

// Buffers a client connection's requests reuse, so that a request on a warm connection
// allocates none of them.
struct Scratch {
  FlatMessage request;        // the client's request as read
  std::string request_head;   // the request as the target sees it
  FlatMessage response;       // the target's answer as read
  std::string response_head;  // the answer's start line and fields
  // Traffic faults on this connection (docs/chaos.md): the answer's rate, and how long
  // the ALB waits before it closes the connection.
  uint64_t bytes_per_second = 0;
  std::chrono::milliseconds close_delay{0};
};

// An idle keep-alive connection to a target, with what it has already read.
struct Upstream {
  explicit Upstream(asio::io_context& io) : stream(io) {}
  TcpStream stream;
  // HTTPS target groups: TLS over `stream` (the target's certificate is not verified).
  std::unique_ptr<beast::ssl_stream<TcpStream&>> tls;
  beast::flat_buffer buffer;
};

// The TLS settings of connections to HTTPS target groups: as an ALB, any certificate.
asio::ssl::context& UpstreamTlsContext() {
  static asio::ssl::context context = [] {
    asio::ssl::context c(asio::ssl::context::tls_client);
    c.set_verify_mode(asio::ssl::verify_none);
    return c;
  }();
  return context;
}

using RealTime = std::chrono::steady_clock::time_point;

// The deadline of a client connection's read or write under way. The worker's watchdog
// checks every connection's a few times a second and cancels the socket's operations
// when one passes, setting `expired`: Beast's timer per operation (armed, cancelled and
// its handler run on every read and write) cost more than the rest of its stream.
struct Deadline {
  RealTime at = RealTime::max();  // none
  bool expired = false;
  void Set(std::chrono::seconds timeout) {
    at = RealElapsedNow() + timeout;
    expired = false;
  }
  void Clear() { at = RealTime::max(); }
};

// How often a worker's watchdog looks at deadlines: timeouts fire up to this late.
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(100);

// An exchange with a target under way on a worker: linked into the worker's list while
// the request is out and the answer read (a WebSocket tunnel's whole life), so that
// CutTarget can end it. Lives in the Handle coroutine's frame; only its worker's thread
// touches it. (A mutex-guarded std::function per request in the target's runtime cost
// three lock round trips shared by all workers, a map node, a closure and a shared flag.)
struct Exchange {
  TargetRuntime* runtime = nullptr;
  uint64_t epoch = 0;  // the runtime's cut_epoch when the exchange started
  TcpStream* stream = nullptr;
  bool cut = false;
  // The target must have answered by then (the idle timeout); the worker's watchdog
  // cancels the exchange when it passes and sets `timed_out` (504).
  RealTime deadline = RealTime::max();
  bool timed_out = false;
  bool linked = false;
  Exchange* prev = nullptr;
  Exchange* next = nullptr;
};

// The 24 hex digits of a trace id from two draws of the worker's stream: a draw per
// digit showed in the request path's profile.
void FillTraceHex(Random& random, char (&out)[24]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t bits = random.Next64();
  for (int i = 0; i < 16; ++i, bits >>= 4) out[i] = kDigits[bits & 0xf];
  bits = random.Next64();
  for (int i = 16; i < 24; ++i, bits >>= 4) out[i] = kDigits[bits & 0xf];
}

struct Worker {
  explicit Worker(uint64_t seed, int index)
      : io(1),
        work(asio::make_work_guard(io)),
        random(Random(seed).Fork("alb-worker-" + std::to_string(index))) {}
  // First, so it outlives `io`, whose destruction destroys the coroutines that unlink.
  Exchange* exchanges = nullptr;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  Random random;
  std::shared_ptr<const Compiled> cached;
  uint64_t cached_version = 0;
  std::shared_ptr<const std::vector<TrafficFault>> faults;
  uint64_t faults_version = 0;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Upstream>>> idle;
  // Open client connections by id: the listener they came in on, the socket, its deadline.
  struct Session {
    std::string listener_arn;
    Socket* socket = nullptr;
    Deadline* deadline = nullptr;
  };
  std::unordered_map<uint64_t, Session> sessions;
  uint64_t next_session = 1;

  void Link(Exchange& exchange) {
    exchange.prev = nullptr;
    exchange.next = exchanges;
    if (exchanges != nullptr) exchanges->prev = &exchange;
    exchanges = &exchange;
    exchange.linked = true;
  }
  void Unlink(Exchange& exchange) {
    if (!exchange.linked) return;
    if (exchange.prev != nullptr) exchange.prev->next = exchange.next;
    if (exchange.next != nullptr) exchange.next->prev = exchange.prev;
    if (exchanges == &exchange) exchanges = exchange.next;
    exchange.linked = false;
  }
};

// Appends access-log lines; one file per load balancer and day.
class AccessLogs {
 public:
  ~AccessLogs() {
    for (auto& [path, file] : files_) std::fclose(file);
  }
  void Write(const std::string& directory, const LoadBalancerSettings& lb, const std::string& day,
             const std::string& line) {
    std::lock_guard lock(mu_);
    std::string path = directory + "/app." + lb.name + "." + lb.id + "_" + day + ".log";
    auto it = files_.find(path);
    if (it == files_.end()) {
      std::error_code ec;
      std::filesystem::create_directories(directory, ec);
      FILE* file = std::fopen(path.c_str(), "a");
      if (file == nullptr) return;
      it = files_.emplace(path, file).first;
    }
    std::fputs(line.c_str(), it->second);
    std::fputc('\n', it->second);
    std::fflush(it->second);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, FILE*> files_;
};

using Response = http::response<http::string_body>;

Response AlbResponse(int status, unsigned version, bool keep_alive) {
  Response response{static_cast<http::status>(status), version};
  response.set(http::field::server, "awselb/2.0");
  response.set(http::field::content_type, "text/html");
  response.body() = AlbErrorBody(status);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

// Beast (Boost 1.74) speaks boost::string_view.
std::string_view Sv(beast::string_view text) { return {text.data(), text.size()}; }

void AppendVersion(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void AppendFields(const http::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out += Sv(field.name_string());
    out += ": ";
    out += Sv(field.value());
    out += "\r\n";
  }
  out += "\r\n";
}

// A response head as Beast's serializer puts it on the wire: status line, fields, CRLF.
void AppendHead(const http::response_header<>& head, std::string& out) {
  AppendVersion(head.version(), out);
  unsigned code = head.result_int();
  out += ' ';
  out += static_cast<char>('0' + code / 100);
  out += static_cast<char>('0' + code / 10 % 10);
  out += static_cast<char>('0' + code % 10);
  out += ' ';
  beast::string_view reason = head.reason();
  if (reason.empty()) reason = http::obsolete_reason(static_cast<http::status>(code));
  out += Sv(reason);
  out += "\r\n";
  AppendFields(head, out);
}

// Writes a message as two buffers, its head and its body: the bytes Beast's serializer
// sends, without its walk over one buffer per header field on every write, which took
// about a fifth of the request path's CPU. Chunked messages still go through Beast.
// `head` is scratch space the caller may reuse for the next message.
template <class Stream, bool isRequest>
awaitable<error_code> WriteMessage(Stream& stream,
                                   http::message<isRequest, http::string_body>& message,
                                   std::string& head) {
  error_code ec;
  if (message.chunked()) {
    co_await http::async_write(stream, message, asio::redirect_error(use_awaitable, ec));
    co_return ec;
  }
  head.clear();
  AppendHead(message.base(), head);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(message.body())};
  co_await asio::async_write(stream, buffers, asio::redirect_error(use_awaitable, ec));
  co_return ec;
}

// `value` in decimal, written to `buffer`.
std::string_view NumberText(uint64_t value, char (&buffer)[24]) {
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return {buffer, static_cast<size_t>(end - buffer)};
}

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

bool IsHopByHop(std::string_view name) {
  return IEquals(name, "Connection") || IEquals(name, "Keep-Alive") ||
         IEquals(name, "Proxy-Connection") || IEquals(name, "TE") || IEquals(name, "Trailer") ||
         IEquals(name, "Transfer-Encoding") || IEquals(name, "Upgrade");
}

class DataPlaneImpl : public DataPlane {
 public:
  explicit DataPlaneImpl(DataPlaneOptions options) : options_(std::move(options)) {
    UNDERSTUDY_CHECK(options_.now);
    int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(options_.seed, i));
    }
    auto empty = std::make_shared<Compiled>();
    current_ = empty;
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      asio::co_spawn(w->io.get_executor(), Watchdog(*w), asio::detached);
      w->thread = std::thread([w] { w->io.run(); });
    }
  }

  ~DataPlaneImpl() override { Stop(); }

  Result<uint16_t> OpenListener(const std::string& arn,
                                const std::vector<uint16_t>& preferred) override {
    CloseListener(arn);
    std::vector<uint16_t> ports = preferred;
    ports.push_back(0);
    Worker& acceptor_worker = *workers_[0];
    for (uint16_t port : ports) {
      auto acceptor = std::make_shared<Acceptor>(acceptor_worker.io);
      error_code ec;
      tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
      acceptor->open(endpoint.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->bind(endpoint, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) continue;
      uint16_t bound = acceptor->local_endpoint().port();
      {
        std::lock_guard lock(listeners_mu_);
        listeners_[arn] = acceptor;
      }
      asio::co_spawn(acceptor_worker.io.get_executor(), Accept(acceptor, arn), asio::detached);
      return bound;
    }
    return Status::Unavailable("no port on 127.0.0.1 could be bound for listener " + arn);
  }

  void CloseListener(const std::string& arn) override {
    std::shared_ptr<Acceptor> acceptor;
    {
      std::lock_guard lock(listeners_mu_);
      auto it = listeners_.find(arn);
      if (it == listeners_.end()) return;
      acceptor = it->second;
      listeners_.erase(it);
    }
    // The acceptor belongs to worker 0's thread; the port is free once this returns.
    if (stopped_) {
      error_code ignored;
      acceptor->close(ignored);
    } else {
      std::promise<void> closed;
      asio::post(workers_[0]->io, [acceptor, &closed] {
        error_code ignored;
        acceptor->close(ignored);
        closed.set_value();
      });
      closed.get_future().wait();
    }
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      asio::post(w->io, [w, arn] {
        for (auto& [id, session] : w->sessions) {
          if (session.listener_arn != arn) continue;
          error_code ignored;
          session.socket->close(ignored);
        }
      });
    }
  }

  void Publish(RoutingSnapshot snapshot) override {
    auto compiled = std::make_shared<Compiled>();
    compiled->snapshot = std::move(snapshot);
    std::lock_guard lock(publish_mu_);
    for (const Listener& listener : compiled->snapshot.listeners) {
      compiled->listeners[listener.arn] = &listener;
      if (listener.protocol != "HTTPS" || listener.certificate_pem.empty()) continue;
      // Contexts are kept while their certificate is unchanged: building one parses PEM.
      auto& cached = tls_contexts_[listener.arn];
      if (!cached.second || cached.first != listener.certificate_pem) {
        cached = {listener.certificate_pem,
                  TlsContext(listener.certificate_pem, listener.private_key_pem)};
        if (!cached.second) Log(LogLevel::kError, "listener " + listener.arn + ": bad certificate");
      }
      if (cached.second) compiled->tls[listener.arn] = cached.second;
    }
    for (const auto& [arn, group] : compiled->snapshot.target_groups) {
      RoutableGroup& routable = compiled->groups[arn];
      routable.group = &group;
      auto& group_runtime = group_runtimes_[arn];
      if (!group_runtime) group_runtime = std::make_shared<GroupRuntime>();
      routable.runtime = group_runtime;
      routable.group_token = StickyToken(options_.seed, arn, "", 0);
      for (size_t i = 0; i < group.targets.size(); ++i) {
        const Target& target = group.targets[i];
        auto& runtime = target_runtimes_[TargetKeyText(arn, target.id, target.port)];
        if (!runtime) runtime = std::make_shared<TargetRuntime>();
        routable.runtimes.push_back(runtime);
        routable.pool_keys.push_back(target.connect_address + ":" + std::to_string(target.port) +
                                     "@" + std::to_string(target.netns_pid) +
                                     (group.protocol == "HTTPS" ? "/tls" : ""));
        routable.tokens.push_back(StickyToken(options_.seed, arn, target.id, target.port));
        if (target.health == Target::Health::kHealthy) {
          routable.healthy.push_back(i);
          if (target.slow_start_factor < 1.0) routable.has_slow_start = true;
        } else if (target.health == Target::Health::kUnhealthy) {
          routable.fail_open.push_back(i);
        }
      }
    }
    uint64_t version = compiled->snapshot.version;
    {
      std::lock_guard current_lock(current_mu_);
      current_ = std::move(compiled);
    }
    version_.store(version == 0 ? version_.load() + 1 : version, std::memory_order_release);
  }

  void SetTrafficFaults(std::vector<TrafficFault> faults) override {
    bool active = !faults.empty();
    {
      std::lock_guard lock(faults_mu_);
      faults_ = std::make_shared<const std::vector<TrafficFault>>(std::move(faults));
      faults_version_.fetch_add(1, std::memory_order_acq_rel);
    }
    faults_active_.store(active, std::memory_order_release);
  }

  void CutTarget(const std::string& target_group_arn, const std::string& id,
                 uint16_t port) override {
    std::shared_ptr<TargetRuntime> runtime;
    {
      std::lock_guard lock(publish_mu_);
      auto it = target_runtimes_.find(TargetKeyText(target_group_arn, id, port));
      if (it == target_runtimes_.end()) return;
      runtime = it->second;
    }
    // Exchanges that started before this point are cut; later ones are not.
    uint64_t epoch = runtime->cut_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
    for (auto& worker : workers_) {
      Worker* w = worker.get();
      asio::post(w->io, [w, runtime, epoch] {
        for (Exchange* e = w->exchanges; e != nullptr; e = e->next) {
          if (e->runtime != runtime.get() || e->epoch >= epoch) continue;
          e->cut = true;
          error_code ignored;
          e->stream->socket().close(ignored);
        }
      });
    }
  }

  TargetCounters Counters(const std::string& target_group_arn, const std::string& id,
                          uint16_t port) const override {
    std::lock_guard lock(publish_mu_);
    auto it = target_runtimes_.find(TargetKeyText(target_group_arn, id, port));
    if (it == target_runtimes_.end()) return {};
    const TargetRuntime& r = *it->second;
    return {r.requests.load(),         r.in_flight.load(),  r.responses.load(),
            r.response_time_us.load(), r.target_4xx.load(), r.target_5xx.load()};
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    {
      std::lock_guard lock(listeners_mu_);
      listeners_.clear();
    }
    for (auto& worker : workers_) {
      worker->work.reset();
      worker->io.stop();
    }
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
  }

 private:
  // The snapshot this worker routes with, refreshed when a newer one was published.
  std::shared_ptr<const Compiled> Current(Worker& w) {
    uint64_t version = version_.load(std::memory_order_acquire);
    if (!w.cached || w.cached_version != version) {
      std::lock_guard lock(current_mu_);
      w.cached = current_;
      w.cached_version = version;
    }
    return w.cached;
  }

  // Cancels the operations of connections and exchanges whose deadline has passed.
  static awaitable<void> Watchdog(Worker& w) {
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>
        timer(w.io);
    for (;;) {
      timer.expires_after(kWatchdogPeriod);
      error_code ec;
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      RealTime now = RealElapsedNow();
      for (auto& [id, session] : w.sessions) {
        if (session.deadline == nullptr || session.deadline->at > now) continue;
        session.deadline->expired = true;
        session.deadline->at = RealTime::max();
        session.socket->cancel(ec);
      }
      for (Exchange* e = w.exchanges; e != nullptr; e = e->next) {
        if (e->deadline > now) continue;
        e->timed_out = true;
        e->deadline = RealTime::max();
        e->stream->socket().cancel(ec);
      }
    }
  }

  // The traffic faults this worker applies, refreshed when new ones were set.
  const std::vector<TrafficFault>& CurrentFaults(Worker& w) {
    uint64_t version = faults_version_.load(std::memory_order_acquire);
    if (!w.faults || w.faults_version != version) {
      std::lock_guard lock(faults_mu_);
      w.faults = faults_;
      w.faults_version = version;
    }
    static const std::vector<TrafficFault> kNone;
    return w.faults ? *w.faults : kNone;
  }

  // Accepts in batches: one wait for readability, then the whole backlog without going
  // back through the handler queue. An accept per pass through a busy worker's queue
  // let a burst of 2 000 connects wait seconds to be accepted (the p99 tail).
  awaitable<void> Accept(std::shared_ptr<Acceptor> acceptor, std::string arn) {
    size_t next = 0;
    error_code ec;
    acceptor->non_blocking(true, ec);
    for (;;) {
      co_await acceptor->async_wait(Acceptor::wait_read, asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      for (int accepted = 0; accepted < kAcceptBatch; ++accepted) {
        Worker& w = *workers_[next % workers_.size()];
        Socket socket(w.io);
        acceptor->accept(socket, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) break;
        if (ec == asio::error::connection_aborted) continue;  // gone before it was accepted
        if (ec) {
          if (!acceptor->is_open()) co_return;
          // Out of descriptors or buffers: the backlog stays readable, so pause rather
          // than spin, as nginx does, and let closing connections free some.
          asio::basic_waitable_timer<std::chrono::steady_clock,
                                     asio::wait_traits<std::chrono::steady_clock>, Executor>
              pause(acceptor->get_executor());
          pause.expires_after(kAcceptPauseOnError);
          co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
          break;
        }
        ++next;
        socket.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(w.io.get_executor(), Session(w, std::move(socket), arn), asio::detached);
      }
    }
  }

  awaitable<void> Session(Worker& w, Socket socket, std::string arn) {
    error_code ec;
    tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) co_return;
    uint64_t session_id = w.next_session++;
    TcpStream client(std::move(socket));
    Deadline deadline;
    w.sessions[session_id] = {arn, &client.socket(), &deadline};
    beast::flat_buffer buffer;
    std::shared_ptr<const Compiled> compiled = Current(w);
    auto listener_it = compiled->listeners.find(arn);
    if (listener_it != compiled->listeners.end() && listener_it->second->protocol == "HTTPS") {
      // TLS, unless the client speaks plain HTTP to the HTTPS port (400, as an ALB says).
      client.expires_after(std::chrono::seconds(IdleTimeout(*compiled, *listener_it->second)));
      size_t n = co_await client.async_read_some(buffer.prepare(4096),
                                                 asio::redirect_error(use_awaitable, ec));
      buffer.commit(n);
      auto tls = compiled->tls.find(arn);
      if (!ec && n > 0 && static_cast<const char*>(buffer.data().data())[0] != 0x16) {
        Response response = AlbResponse(400, 11, false);
        response.body() = PlainHttpToHttpsBody();
        response.prepare_payload();
        co_await http::async_write(client, response, asio::redirect_error(use_awaitable, ec));
      } else if (!ec && tls != compiled->tls.end()) {
        beast::ssl_stream<TcpStream> secure(std::move(client), *tls->second);
        w.sessions[session_id].socket = &beast::get_lowest_layer(secure).socket();
        size_t used = co_await secure.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                      asio::redirect_error(use_awaitable, ec));
        if (!ec) {
          buffer.consume(used);
          compiled.reset();
          beast::get_lowest_layer(secure).expires_never();  // the watchdog's from here on
          co_await Serve(w, secure, buffer, deadline, peer, arn);
        }
        beast::get_lowest_layer(secure).socket().shutdown(Socket::shutdown_both, ec);
        beast::get_lowest_layer(secure).close();
        w.sessions.erase(session_id);
        co_return;
      }
    } else {
      compiled.reset();
      co_await Serve(w, client, buffer, deadline, peer, arn);
    }
    w.sessions.erase(session_id);
    client.socket().shutdown(Socket::shutdown_both, ec);
    client.close();
  }

  static int IdleTimeout(const Compiled& compiled, const Listener& listener) {
    auto lb = compiled.snapshot.load_balancers.find(listener.load_balancer_arn);
    return lb == compiled.snapshot.load_balancers.end() ? 60 : lb->second.idle_timeout_seconds;
  }

  // Reads and answers requests on one client connection until it closes.
  template <class Stream>
  awaitable<void> Serve(Worker& w, Stream& client, beast::flat_buffer& buffer, Deadline& deadline,
                        const tcp::endpoint& peer, const std::string& arn) {
    error_code ec;
    auto opened = RealElapsedNow();
    // Formatted once a connection: inet_ntop per request showed in profiles.
    const std::string peer_ip = peer.address().to_string();
    Scratch scratch;
    for (;;) {
      // The snapshot stays alive for this request even if a newer one is published.
      std::shared_ptr<const Compiled> compiled = Current(w);
      auto listener_it = compiled->listeners.find(arn);
      if (listener_it == compiled->listeners.end()) break;
      const Listener& listener = *listener_it->second;
      auto lb_it = compiled->snapshot.load_balancers.find(listener.load_balancer_arn);
      static const LoadBalancerSettings kDefaults;
      const LoadBalancerSettings& lb =
          lb_it == compiled->snapshot.load_balancers.end() ? kDefaults : lb_it->second;
      int client_keep_alive_seconds = lb.client_keep_alive_seconds;
      deadline.Set(std::chrono::seconds(lb.idle_timeout_seconds));
      FlatRequestParser parser(scratch.request);
      ApplyRequestLimits(parser);
      co_await http::async_read(client, buffer, parser, asio::redirect_error(use_awaitable, ec));
      deadline.Clear();
      TimePoint received_at = options_.now();
      if (ec) {
        bool partial = parser.got_some() || buffer.size() > 0;
        if (!partial) break;  // idle keep-alive connection closed or timed out
        int status = 400;
        if (ec == beast::error::timeout || deadline.expired) status = 408;
        if (ec == http::error::body_limit) status = 413;
        if (ec == http::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::connection_reset) {
          status = 460;  // the client left mid-request; logged, never seen
        }
        if (status != 460) {
          beast::get_lowest_layer(client).expires_after(std::chrono::seconds(5));
          Response response = AlbResponse(status, 11, false);
          co_await http::async_write(client, response, asio::redirect_error(use_awaitable, ec));
        }
        LogAlbOnly(lb, peer, status, "-", received_at, 0);
        break;
      }
      // Re-read: the snapshot may have changed while the request arrived.
      compiled = Current(w);
      listener_it = compiled->listeners.find(arn);
      if (listener_it == compiled->listeners.end()) break;
      bool keep_alive = co_await Handle(w, client, buffer, scratch, deadline, parser, peer, peer_ip,
                                        *listener_it->second, *compiled, received_at);
      if (!keep_alive) break;
      if (RealElapsedNow() - opened > std::chrono::seconds(client_keep_alive_seconds)) break;
    }
    if (scratch.close_delay.count() > 0) {  // a slow-close fault: the close comes late
      asio::steady_timer timer(w.io);
      timer.expires_after(scratch.close_delay);
      co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  // Answers one request; false when the client connection must close.
  template <class Stream>
  awaitable<bool> Handle(Worker& w, Stream& client, beast::flat_buffer& client_buffer,
                         Scratch& scratch, Deadline& deadline, const FlatRequestParser& request,
                         const tcp::endpoint& peer, const std::string& peer_ip,
                         const Listener& listener, const Compiled& compiled,
                         TimePoint received_at) {
    auto lb_it = compiled.snapshot.load_balancers.find(listener.load_balancer_arn);
    static const LoadBalancerSettings kDefaults;
    const LoadBalancerSettings& lb =
        lb_it == compiled.snapshot.load_balancers.end() ? kDefaults : lb_it->second;
    unsigned version = request.version() == 10 ? 10 : 11;
    bool client_keep_alive = request.keep_alive();
    error_code ec;

    RequestHead head;
    head.method = request.method_string();
    head.target = request.target();
    head.version = version;
    RequestView view;
    view.method = head.method;
    view.target = head.target;
    view.listener_protocol = listener.protocol;
    view.listener_port = listener.port;
    for (const auto& field : request.fields()) {
      head.headers.emplace_back(request.Name(field), request.Value(field));
      if (view.host.empty() && field.name == http::field::host) view.host = request.Value(field);
    }
    view.headers = head.headers;
    asio::ip::address peer_address = peer.address();
    if (peer_address.is_v4()) {
      auto bytes = peer_address.to_v4().to_bytes();
      std::copy(bytes.begin(), bytes.end(), view.peer.begin());
    } else {
      view.peer_v6 = true;
      view.peer = peer_address.to_v6().to_bytes();
    }

    // The access-log entry's text is built only when the load balancer logs: formatting
    // it cost about a tenth of the request path's CPU for nothing otherwise.
    const bool logging = !lb.access_log_directory.empty();
    AccessLogEntry log;
    if (listener.protocol == "HTTPS") log.type = "https";
    if (logging) {
      log.elb = "app/" + lb.name + "/" + lb.id;
      log.client = peer_ip + ":" + std::to_string(peer.port());
      log.request = AccessLogRequest(head.method, listener.protocol, view.host, listener.port,
                                     head.target, version);
      log.user_agent = std::string(request.Find(http::field::user_agent).value_or("-"));
      log.request_creation_time = AccessLogTime(received_at);
    }
    log.received_bytes = request.body().size();
    // The trace id's random part, drawn for every request (written where it is needed).
    const int64_t trace_epoch =
        std::chrono::duration_cast<std::chrono::seconds>(received_at.time_since_epoch()).count();
    char trace_hex[24];
    FillTraceHex(w.random, trace_hex);

    auto finish = [&](Response& response) -> awaitable<bool> {
      bool keep = client_keep_alive && response.keep_alive();
      response.keep_alive(keep);
      deadline.Set(std::chrono::seconds(lb.idle_timeout_seconds));
      ec = co_await WriteMessage(client, response, scratch.response_head);
      deadline.Clear();
      log.elb_status_code = static_cast<int>(response.result_int());
      log.sent_bytes = response.body().size();
      WriteLog(lb, log);
      co_return keep && !ec;
    };

    if (std::optional<int> reject = RejectRequest(head)) {
      Response response = AlbResponse(*reject, version, *reject == 405 || *reject == 463);
      log.error_reason = "-";
      co_return co_await finish(response);
    }

    RuleChoice choice = SelectRule(listener, view);
    log.matched_rule_priority = choice.priority;
    const Action& action = *choice.action;
    if (action.type == Action::Type::kFixedResponse) {
      log.actions_executed = "fixed-response";
      Response response{static_cast<http::status>(action.fixed_status), version};
      response.set(http::field::server, "awselb/2.0");
      if (!action.fixed_content_type.empty()) {
        response.set(http::field::content_type, action.fixed_content_type + "; charset=utf-8");
      }
      response.body() = action.fixed_body;
      response.prepare_payload();
      co_return co_await finish(response);
    }
    if (action.type == Action::Type::kRedirect) {
      log.actions_executed = "redirect";
      Response response = AlbResponse(action.redirect_status, version, true);
      std::string location = RedirectLocation(action, view);
      response.set(http::field::location, location);
      log.redirect_url = location;
      co_return co_await finish(response);
    }

    // forward: a target group, then a target.
    log.actions_executed = "forward";
    size_t group_index = 0;
    std::optional<std::string> group_cookie;
    if (action.groups.size() > 1 || action.group_stickiness) {
      std::optional<size_t> sticky_group;
      if (action.group_stickiness) {
        if (auto cookie = FindCookie(head.headers, "AWSALBTG")) {
          for (size_t i = 0; i < action.groups.size(); ++i) {
            auto it = compiled.groups.find(action.groups[i].target_group_arn);
            if (it != compiled.groups.end() && it->second.group_token == *cookie &&
                action.groups[i].weight > 0) {
              sticky_group = i;
            }
          }
        }
      }
      std::optional<size_t> chosen =
          sticky_group ? sticky_group : ChooseWeightedGroup(action.groups, w.random);
      if (!chosen) {
        Response response = AlbResponse(503, version, true);
        co_return co_await finish(response);
      }
      group_index = *chosen;
      if (action.group_stickiness) {
        auto it = compiled.groups.find(action.groups[group_index].target_group_arn);
        if (it != compiled.groups.end()) group_cookie = it->second.group_token;
      }
    }
    if (action.groups.empty()) {
      Response response = AlbResponse(503, version, true);
      co_return co_await finish(response);
    }
    auto group_it = compiled.groups.find(action.groups[group_index].target_group_arn);
    if (group_it == compiled.groups.end()) {
      Response response = AlbResponse(503, version, true);
      co_return co_await finish(response);
    }
    const RoutableGroup& group = group_it->second;
    if (logging) log.target_group_arn = group.group->arn;
    // Sticky target: the cookie names a target still taking requests.
    std::optional<size_t> sticky;
    std::string cookie_name;
    if (group.group->stickiness) {
      cookie_name = group.group->stickiness_type == "app_cookie" ? "AWSALBAPP-0" : "AWSALB";
      if (auto cookie = FindCookie(head.headers, cookie_name)) {
        for (size_t i : group.Candidates()) {
          if (group.tokens[i] == *cookie) sticky = i;
        }
      }
    }
    std::optional<size_t> target_index = ChooseTarget(group, sticky, w.random);
    if (!target_index) {
      Response response = AlbResponse(503, version, true);
      co_return co_await finish(response);
    }
    const Target& target = group.group->targets[*target_index];
    std::shared_ptr<TargetRuntime> runtime = group.runtimes[*target_index];
    if (logging) {
      log.target = target.connect_address + ":" + std::to_string(target.port);
      if (target.netns_pid == 0 || target.id.find('.') != std::string::npos) {
        log.target =
            (target.id.find('.') != std::string::npos ? target.id : target.connect_address) + ":" +
            std::to_string(target.port);
      }
    }

    // Injected traffic faults (docs/chaos.md): nothing but one atomic load when none.
    scratch.bytes_per_second = 0;
    if (faults_active_.load(std::memory_order_relaxed)) {
      auto faults = CurrentFaults(w);  // a copy of the pointer's list outlives a swap
      for (const TrafficFault& f : faults) {
        if ((!f.listener_arn.empty() && f.listener_arn != listener.arn) ||
            (!f.target_group_arn.empty() && f.target_group_arn != group.group->arn) ||
            (!f.target_id.empty() && f.target_id != target.id) ||
            (f.port != 0 && f.port != target.port))
          continue;
        if (f.probability < 1.0 && w.random.Unit() >= f.probability) continue;
        if (f.kind == TrafficFault::Kind::kErrorStatus) {
          log.error_reason = "-";
          Response response = AlbResponse(f.status, version, true);
          co_return co_await finish(response);
        }
        if (f.kind == TrafficFault::Kind::kBandwidth) {
          scratch.bytes_per_second = f.bytes_per_second;
          continue;
        }
        if (f.kind == TrafficFault::Kind::kSlowClose) {
          scratch.close_delay = std::max(scratch.close_delay, f.close_delay);
          continue;
        }
        if (f.kind == TrafficFault::Kind::kReset) {
          auto& socket = beast::get_lowest_layer(client).socket();
          error_code ignored;
          socket.set_option(asio::socket_base::linger(true, 0), ignored);
          socket.close(ignored);
          co_return false;
        }
        auto wait = f.kind == TrafficFault::Kind::kTimeout ? f.timeout : f.latency;
        if (f.kind == TrafficFault::Kind::kLatency && f.jitter.count() > 0)
          wait += std::chrono::milliseconds(w.random.Below(f.jitter.count() + 1));
        asio::steady_timer timer(w.io);
        timer.expires_after(wait);
        error_code waited;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, waited));
        if (f.kind == TrafficFault::Kind::kTimeout) co_return false;
      }
    }

    // The request as the target sees it.
    std::optional<std::string_view> forwarded_for, trace;
    for (const auto& [name, value] : head.headers) {
      if (!forwarded_for && IEquals(name, "X-Forwarded-For")) forwarded_for = value;
      if (!trace && IEquals(name, "X-Amzn-Trace-Id")) trace = value;
    }
    std::optional<std::string> xff =
        ForwardedFor(forwarded_for, peer_ip, peer.port(), lb.xff_mode, lb.xff_client_port);
    std::string host =
        lb.preserve_host_header ? std::string(view.host) : ForwardedHost(view.host, listener.port);
    bool upgrade = false;
    if (auto up = request.Find(http::field::upgrade)) upgrade = IEquals(*up, "websocket");
    // Written straight into the connection's scratch head: building a Beast message cost
    // an allocation per field and a walk over them all again to serialize it.
    std::string& out = scratch.request_head;
    out.clear();
    out += request.method_string();
    out += ' ';
    out += request.target();
    out += " HTTP/1.1\r\n";
    auto add_field = [&out](std::string_view name, std::string_view value) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    };
    for (const auto& field : request.fields()) {
      std::string_view name = request.Name(field);
      if (IsHopByHop(name) || IEquals(name, "Host") || IEquals(name, "X-Forwarded-For") ||
          IEquals(name, "X-Forwarded-Proto") || IEquals(name, "X-Forwarded-Port") ||
          IEquals(name, "X-Amzn-Trace-Id") || IEquals(name, "Content-Length")) {
        continue;
      }
      if (lb.drop_invalid_header_fields && !IsValidHeaderName(name)) continue;
      add_field(name, request.Value(field));
    }
    add_field("Host", host);
    if (xff) add_field("X-Forwarded-For", *xff);
    add_field("X-Forwarded-Proto", listener.protocol == "HTTPS" ? "https" : "http");
    char number[24];
    add_field("X-Forwarded-Port", NumberText(listener.port, number));
    std::string_view hex24(trace_hex, sizeof trace_hex);
    if (!trace || trace->find_first_not_of(" \t") == std::string_view::npos) {
      out += "X-Amzn-Trace-Id: Root=";
      size_t id_at = out.size();
      AppendTraceId(trace_epoch, hex24, out);
      if (logging) log.trace_id = "Root=" + out.substr(id_at);
      out += "\r\n";
    } else {
      std::string trace_header = TraceHeader(trace, TraceId(trace_epoch, hex24));
      if (logging) log.trace_id = trace_header;
      add_field("X-Amzn-Trace-Id", trace_header);
    }
    if constexpr (!std::is_same_v<Stream, TcpStream>) {
      if (lb.tls_version_and_cipher_headers) {
        SSL* ssl = client.native_handle();
        add_field("x-amzn-tls-version", SSL_get_version(ssl));
        add_field("x-amzn-tls-cipher-suite", SSL_get_cipher_name(ssl));
      }
    }
    if (upgrade) {
      add_field("Connection", "Upgrade");
      add_field("Upgrade", request.Find(http::field::upgrade).value_or(""));
    }
    // The body framed as Beast's prepare_payload frames it: a length when there is a body,
    // when the client sent a length, or for a method that carries one; never chunks.
    const std::string& body = request.body();
    const http::verb method = request.method();
    if (!body.empty() || request.content_length().has_value() ||
        (request.chunked() && (method == http::verb::options || method == http::verb::put ||
                               method == http::verb::post))) {
      add_field("Content-Length", NumberText(body.size(), number));
    }
    out += "\r\n";

    runtime->requests.fetch_add(1, std::memory_order_relaxed);
    runtime->in_flight.fetch_add(1, std::memory_order_relaxed);
    Exchange exchange;
    exchange.runtime = runtime.get();
    struct InFlightGuard {
      std::shared_ptr<TargetRuntime> runtime;
      Worker& w;
      Exchange& exchange;
      ~InFlightGuard() {
        runtime->in_flight.fetch_sub(1, std::memory_order_relaxed);
        w.Unlink(exchange);
      }
    } guard{runtime, w, exchange};

    auto target_started = RealElapsedNow();
    const bool https_targets = group.group->protocol == "HTTPS";
    const std::string& pool_key = group.pool_keys[*target_index];
    std::optional<FlatResponseParser> reader;
    int failure = 0;  // an ALB status when the target could not answer
    std::unique_ptr<Upstream> upstream;
    // A reused keep-alive connection the target already closed gets one fresh retry.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      upstream.reset();
      auto& idle = w.idle[pool_key];
      if (!idle.empty()) {
        upstream = std::move(idle.back());
        idle.pop_back();
        reused = true;
      } else {
        upstream = std::make_unique<Upstream>(w.io);
        failure = co_await Connect(*upstream, target, https_targets);
        if (failure != 0) break;
      }
      // The deregistration delay ending cuts the exchange (502).
      exchange.stream = &upstream->stream;
      exchange.cut = false;
      exchange.epoch = runtime->cut_epoch.load(std::memory_order_acquire);
      w.Link(exchange);
      exchange.deadline = RealElapsedNow() + std::chrono::seconds(lb.idle_timeout_seconds);
      exchange.timed_out = false;
      // (if/else, not ?: — GCC 12 miscompiles co_await in a conditional expression)
      std::array<asio::const_buffer, 2> request_buffers{asio::buffer(out), asio::buffer(body)};
      if (upstream->tls) {
        co_await asio::async_write(*upstream->tls, request_buffers,
                                   asio::redirect_error(use_awaitable, ec));
      } else {
        co_await asio::async_write(upstream->stream, request_buffers,
                                   asio::redirect_error(use_awaitable, ec));
      }
      if (upgrade && !ec) {
        exchange.deadline = RealTime::max();  // the tunnel keeps its own idle timeout
        std::shared_ptr<Upstream> kept(std::move(upstream));
        if (kept->tls) {
          co_return co_await Tunnel(w, client, client_buffer, *kept->tls, kept, log, lb);
        }
        co_return co_await Tunnel(w, client, client_buffer, kept->stream, kept, log, lb);
      }
      reader.emplace(scratch.response);
      reader->header_limit(kMaxResponseHeaderBlock);
      reader->body_limit(kMaxResponseBody);
      if (method == http::verb::head) reader->skip(true);
      if (!ec) {
        if (upstream->tls) {
          co_await http::async_read(*upstream->tls, upstream->buffer, *reader,
                                    asio::redirect_error(use_awaitable, ec));
        } else {
          co_await http::async_read(upstream->stream, upstream->buffer, *reader,
                                    asio::redirect_error(use_awaitable, ec));
        }
      }
      w.Unlink(exchange);
      if (!ec) break;
      bool stale = reused && !exchange.cut && !reader->got_some() &&
                   (ec == http::error::end_of_stream || ec == asio::error::eof ||
                    ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      if (stale) continue;
      failure = (ec == beast::error::timeout || exchange.timed_out) && !exchange.cut ? 504 : 502;
      log.error_reason = exchange.cut ? "TargetDeregistered" : "-";
      break;
    }
    double target_seconds =
        std::chrono::duration<double>(RealElapsedNow() - target_started).count();
    if (failure != 0) {
      Response error = AlbResponse(failure, version, true);
      co_return co_await finish(error);
    }
    log.target_processing_time = target_seconds;
    log.response_processing_time = 0;
    runtime->responses.fetch_add(1, std::memory_order_relaxed);
    runtime->response_time_us.fetch_add(static_cast<uint64_t>(target_seconds * 1e6),
                                        std::memory_order_relaxed);
    const int status = reader->status();
    if (status >= 500) {
      runtime->target_5xx.fetch_add(1, std::memory_order_relaxed);
    } else if (status >= 400) {
      runtime->target_4xx.fetch_add(1, std::memory_order_relaxed);
    }
    if (logging) log.target_status_code = std::to_string(status);
    const bool reusable = reader->keep_alive() && !reader->need_eof();
    // The answer as the client sees it, written straight into the connection's scratch
    // head: the target's status and fields, minus hop-by-hop ones (the ALB's business)
    // and the length, which is the ALB's own; then the ALB's cookies, Connection and
    // Content-Length as Beast's prepare_payload frames them.
    std::string& answer = scratch.response_head;
    answer.clear();
    AppendVersion(version, answer);
    answer += ' ';
    answer += NumberText(static_cast<uint64_t>(status), number);
    answer += ' ';
    std::string_view reason = reader->reason();
    if (reason.empty()) reason = Sv(http::obsolete_reason(static_cast<http::status>(status)));
    answer += reason;
    answer += "\r\n";
    const bool head_request = method == http::verb::head;
    const bool app_cookie = group.group->stickiness && group.group->stickiness_type == "app_cookie";
    bool app_cookie_seen = false;
    for (const auto& field : reader->fields()) {
      std::string_view name = reader->Name(field);
      std::string_view value = reader->Value(field);
      if (IsHopByHop(name)) continue;
      if (!head_request && field.name == http::field::content_length) continue;
      if (app_cookie && field.name == http::field::set_cookie &&
          value.size() > group.group->app_cookie_name.size() &&
          value.substr(0, group.group->app_cookie_name.size()) == group.group->app_cookie_name &&
          value[group.group->app_cookie_name.size()] == '=') {
        app_cookie_seen = true;
      }
      answer += name;
      answer += ": ";
      answer += value;
      answer += "\r\n";
    }
    auto now_seconds = [this] {
      return std::chrono::duration_cast<std::chrono::seconds>(options_.now().time_since_epoch())
          .count();
    };
    if (group.group->stickiness && (!app_cookie || app_cookie_seen)) {
      // lb_cookie always; app_cookie: the ALB's own cookie follows the application's.
      std::string expires = HttpDate(now_seconds() + group.group->stickiness_seconds);
      const std::string& token = group.tokens[*target_index];
      answer +=
          "Set-Cookie: " + cookie_name + "=" + token + "; Expires=" + expires + "; Path=/\r\n";
      if (cookie_name == "AWSALB") {
        answer += "Set-Cookie: AWSALBCORS=" + token + "; Expires=" + expires +
                  "; Path=/; SameSite=None; Secure\r\n";
      }
    }
    if (group_cookie) {
      std::string expires = HttpDate(now_seconds() + action.group_stickiness_seconds);
      answer += "Set-Cookie: AWSALBTG=" + *group_cookie + "; Expires=" + expires + "; Path=/\r\n";
      answer += "Set-Cookie: AWSALBTGCORS=" + *group_cookie + "; Expires=" + expires +
                "; Path=/; SameSite=None; Secure\r\n";
    }
    // Keep-alive towards the client: HTTP/1.1 clients that asked for it (the target's own
    // Connection header is hop-by-hop and does not count).
    const bool keep = client_keep_alive && version == 11;
    if (!keep && version == 11) answer += "Connection: close\r\n";
    const bool bodiless_status = status / 100 == 1 || status == 204 || status == 304;
    const std::string& answer_body = scratch.response.body;
    if (!head_request && !bodiless_status) {
      answer += "Content-Length: ";
      answer += NumberText(answer_body.size(), number);
      answer += "\r\n";
    }
    answer += "\r\n";
    reader.reset();
    if (reusable) {
      auto& idle = w.idle[pool_key];
      idle.push_back(std::move(upstream));
    }
    deadline.Set(std::chrono::seconds(lb.idle_timeout_seconds));
    std::array<asio::const_buffer, 2> answer_buffers{
        asio::buffer(answer),
        asio::buffer(head_request || bodiless_status ? std::string_view() : answer_body)};
    if (scratch.bytes_per_second == 0) {
      co_await asio::async_write(client, answer_buffers, asio::redirect_error(use_awaitable, ec));
    } else {
      ec = co_await WriteThrottled(w, client, answer_buffers, scratch.bytes_per_second, deadline,
                                   std::chrono::seconds(lb.idle_timeout_seconds));
    }
    deadline.Clear();
    log.elb_status_code = status;
    log.sent_bytes = answer_body.size();
    WriteLog(lb, log);
    co_return keep && !ec;
  }

  // Writes `buffers` at no more than `bytes_per_second` (a bandwidth fault): slices of
  // a twentieth of a second's worth, each followed by the pause that keeps the average.
  template <class Stream, class Buffers>
  static awaitable<error_code> WriteThrottled(Worker& w, Stream& client, const Buffers& buffers,
                                              uint64_t bytes_per_second, Deadline& deadline,
                                              std::chrono::seconds idle_timeout) {
    const size_t slice = std::max<size_t>(1, bytes_per_second / 20);
    const auto pause = std::chrono::microseconds(slice * 1000000 / bytes_per_second);
    error_code ec;
    asio::steady_timer timer(w.io);
    for (asio::const_buffer buffer : buffers) {
      while (buffer.size() > 0 && !ec) {
        size_t n = std::min(slice, buffer.size());
        deadline.Set(idle_timeout);  // idle means no bytes moving, and these are moving
        co_await asio::async_write(client, asio::buffer(buffer.data(), n),
                                   asio::redirect_error(use_awaitable, ec));
        buffer += n;
        if (ec) break;
        timer.expires_after(pause);
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
      }
    }
    co_return ec;
  }

  // Connects to the target; 0, or the ALB status for the failure (502 refused, 504 timeout).
  awaitable<int> Connect(Upstream& upstream, const Target& target, bool https) {
    error_code ec;
    auto address = asio::ip::make_address(target.connect_address, ec);
    if (ec) co_return 502;
    if (target.netns_pid > 0) {
      auto fd = runtime::TcpSocketInNetworkNamespace(target.netns_pid);
      if (!fd.ok()) co_return 502;
      upstream.stream.socket().assign(tcp::v4(), *fd, ec);
      if (ec) co_return 502;
    }
    upstream.stream.expires_after(kConnectTimeout);
    co_await upstream.stream.async_connect(tcp::endpoint(address, target.port),
                                           asio::redirect_error(use_awaitable, ec));
    if (ec == beast::error::timeout) co_return 504;
    if (ec) co_return 502;
    upstream.stream.socket().set_option(tcp::no_delay(true), ec);
    if (https) {
      // A TLS handshake that fails or times out (10 s) is a 502 (§1.8).
      upstream.tls =
          std::make_unique<beast::ssl_stream<TcpStream&>>(upstream.stream, UpstreamTlsContext());
      co_await upstream.tls->async_handshake(asio::ssl::stream_base::client,
                                             asio::redirect_error(use_awaitable, ec));
      if (ec) co_return 502;
    }
    upstream.stream.expires_never();  // the watchdog's from here on
    co_return 0;
  }

  // After the request went out with Upgrade: relays the 101 and then bytes both ways.
  // `up` is the upstream connection's stream (plain or TLS); `kept` owns it.
  template <class Stream, class UpStream>
  awaitable<bool> Tunnel(Worker& w, Stream& client, beast::flat_buffer& client_buffer, UpStream& up,
                         std::shared_ptr<Upstream> kept, AccessLogEntry& log,
                         const LoadBalancerSettings& lb) {
    // The exchange stays linked as long as the tunnel (Handle's guard unlinks it), so a
    // deregistration delay ending closes it.
    error_code ec;
    http::response_parser<http::empty_body> reader;
    reader.header_limit(kMaxResponseHeaderBlock);
    kept->stream.expires_after(std::chrono::seconds(lb.idle_timeout_seconds));
    co_await http::async_read_header(up, kept->buffer, reader,
                                     asio::redirect_error(use_awaitable, ec));
    if (ec) {
      Response error = AlbResponse(ec == beast::error::timeout ? 504 : 502, 11, false);
      co_await http::async_write(client, error, asio::redirect_error(use_awaitable, ec));
      log.elb_status_code = static_cast<int>(error.result_int());
      WriteLog(lb, log);
      co_return false;
    }
    auto head = reader.release();
    log.target_status_code = std::to_string(head.result_int());
    log.elb_status_code = static_cast<int>(head.result_int());
    if (head.result() != http::status::switching_protocols) {
      // Not upgraded: relay the answer as a plain response and close.
      Response plain{head.result(), 11};
      for (const auto& field : head) plain.insert(field.name_string(), field.value());
      plain.keep_alive(false);
      plain.prepare_payload();
      co_await http::async_write(client, plain, asio::redirect_error(use_awaitable, ec));
      WriteLog(lb, log);
      co_return false;
    }
    http::response_serializer<http::empty_body> serializer(head);
    co_await http::async_write_header(client, serializer, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    log.type = log.type == "https" ? "wss" : "ws";
    WriteLog(lb, log);
    // Bytes already read past either head go first.
    if (kept->buffer.size() > 0) {
      co_await asio::async_write(client, kept->buffer.data(),
                                 asio::redirect_error(use_awaitable, ec));
      kept->buffer.consume(kept->buffer.size());
    }
    if (client_buffer.size() > 0) {
      co_await asio::async_write(up, client_buffer.data(), asio::redirect_error(use_awaitable, ec));
      client_buffer.consume(client_buffer.size());
    }
    beast::get_lowest_layer(client).expires_never();
    kept->stream.expires_never();
    auto done = std::make_shared<bool>(false);
    asio::co_spawn(w.io.get_executor(), Pipe(up, client, kept, done), asio::detached);
    co_await Pipe(client, up, kept, done);
    co_return false;
  }

  // Copies bytes from `from` to `to` until either side ends, then closes both.
  template <class From, class To>
  static awaitable<void> Pipe(From& from, To& to, std::shared_ptr<Upstream> keep,
                              std::shared_ptr<bool> done) {
    (void)keep;  // the upstream connection lives until both directions end
    std::array<char, 16384> chunk;
    error_code ec;
    while (!*done) {
      size_t n = co_await from.async_read_some(asio::buffer(chunk),
                                               asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      co_await asio::async_write(to, asio::buffer(chunk.data(), n),
                                 asio::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    *done = true;
    SocketOf(from).close(ec);
    SocketOf(to).close(ec);
  }

  void WriteLog(const LoadBalancerSettings& lb, AccessLogEntry& log) {
    if (lb.access_log_directory.empty()) return;
    TimePoint now = options_.now();
    log.time = AccessLogTime(now);
    std::string day = log.time.substr(0, 4) + log.time.substr(5, 2) + log.time.substr(8, 2);
    access_logs_.Write(lb.access_log_directory, lb, day, AccessLogLine(log));
  }

  void LogAlbOnly(const LoadBalancerSettings& lb, const tcp::endpoint& peer, int status,
                  const std::string& request, TimePoint received_at, uint64_t received) {
    if (lb.access_log_directory.empty()) return;
    AccessLogEntry log;
    log.elb = "app/" + lb.name + "/" + lb.id;
    log.client = peer.address().to_string() + ":" + std::to_string(peer.port());
    log.elb_status_code = status;
    log.request = request;
    log.user_agent = "-";
    log.received_bytes = received;
    log.request_creation_time = AccessLogTime(received_at);
    WriteLog(lb, log);
  }

  DataPlaneOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopped_{false};

  std::mutex listeners_mu_;
  std::map<std::string, std::shared_ptr<Acceptor>> listeners_;

  mutable std::mutex publish_mu_;  // the runtime registries below
  std::map<std::string, std::shared_ptr<TargetRuntime>> target_runtimes_;
  std::map<std::string, std::shared_ptr<GroupRuntime>> group_runtimes_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<asio::ssl::context>>> tls_contexts_;

  std::mutex current_mu_;
  std::shared_ptr<const Compiled> current_;
  // Traffic faults: a flag the request path reads first, the list it copies on change.
  std::atomic<bool> faults_active_{false};
  std::atomic<uint64_t> faults_version_{0};
  std::mutex faults_mu_;
  std::shared_ptr<const std::vector<TrafficFault>> faults_;
  std::atomic<uint64_t> version_{0};

  AccessLogs access_logs_;
};

}  // namespace

Result<std::unique_ptr<DataPlane>> DataPlane::Start(DataPlaneOptions options) {
  return std::unique_ptr<DataPlane>(new DataPlaneImpl(std::move(options)));
}

}  // namespace understudy::elb
