// DockerClient's protocol pieces: frame demultiplexing, line splitting, signal names,
// DOCKER_HOST parsing, and real requests against a fake engine on a unix socket.
#include "runtime/docker_client.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace understudy::runtime {
namespace {

std::string Frame(int stream, const std::string& payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  uint32_t size = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>(size >> 24);
  out[5] = static_cast<char>(size >> 16);
  out[6] = static_cast<char>(size >> 8);
  out[7] = static_cast<char>(size);
  return out + payload;
}

TEST(FrameDemuxerTest, SplitsFramesFedByteByByte) {
  std::string data = Frame(1, "hello\n") + Frame(2, "oops\n") + Frame(1, "") + Frame(1, "x");
  FrameDemuxer demux;
  std::vector<std::pair<int, std::string>> got;
  for (char c : data) {
    demux.Feed(std::string_view(&c, 1), [&](int stream, std::string_view payload) {
      got.emplace_back(stream, std::string(payload));
    });
  }
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{
                     {1, "hello\n"}, {2, "oops\n"}, {1, ""}, {1, "x"}}));
  EXPECT_EQ(demux.pending(), 0u);
}

TEST(FrameDemuxerTest, HoldsAnIncompleteFrameAndReadsLargeSizes) {
  std::string big(70000, 'a');
  std::string data = Frame(2, big);
  FrameDemuxer demux;
  int calls = 0;
  demux.Feed(std::string_view(data).substr(0, 100), [&](int, std::string_view) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(demux.pending(), 100u);
  demux.Feed(std::string_view(data).substr(100), [&](int stream, std::string_view payload) {
    ++calls;
    EXPECT_EQ(stream, 2);
    EXPECT_EQ(payload.size(), big.size());
  });
  EXPECT_EQ(calls, 1);
}

TEST(LineSplitterTest, LinesAcrossChunksCrLfAndTheRest) {
  LineSplitter lines;
  std::vector<std::string> got;
  auto add = [&](const std::string& line) { got.push_back(line); };
  lines.Feed("one\ntw", add);
  lines.Feed("o\r\n\nthr", add);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", ""}));
  lines.Flush(add);
  lines.Flush(add);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "", "thr"}));
}

TEST(DockerSignalTest, NamesAndNumbers) {
  EXPECT_EQ(DockerSignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(DockerSignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(DockerSignalName(40), "40");
  EXPECT_EQ(DockerSignalNumber("SIGINT"), SIGINT);
  EXPECT_EQ(DockerSignalNumber("QUIT"), SIGQUIT);
  EXPECT_EQ(DockerSignalNumber("9"), 9);
  EXPECT_EQ(DockerSignalNumber("SIGBOGUS"), 0);
}

TEST(DockerSocketTest, FromDockerHost) {
  unsetenv("DOCKER_HOST");
  EXPECT_EQ(*DockerSocketFromEnvironment(), "/var/run/docker.sock");
  setenv("DOCKER_HOST", "unix:///run/podman/podman.sock", 1);
  EXPECT_EQ(*DockerSocketFromEnvironment(), "/run/podman/podman.sock");
  setenv("DOCKER_HOST", "tcp://127.0.0.1:2375", 1);
  auto bad = DockerSocketFromEnvironment();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  unsetenv("DOCKER_HOST");
}

TEST(DockerResponseTest, EngineMessages) {
  DockerResponse json{404, "{\"message\":\"No such image: x:1\"}\n"};
  EXPECT_EQ(json.Message(), "No such image: x:1");
  DockerResponse text{500, "page not found\n"};
  EXPECT_EQ(text.Message(), "page not found");
  DockerResponse empty{502, ""};
  EXPECT_EQ(empty.Message(), "HTTP 502");
}

// A one-connection fake engine on a unix socket: answers with `reply` and records the request.
class FakeEngine {
 public:
  explicit FakeEngine(std::string reply) : reply_(std::move(reply)) {
    path_ = "/tmp/understudy-fake-engine-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      char buf[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
      }
      size_t at = 0;
      while (at < reply_.size()) {
        ssize_t n = write(c, reply_.data() + at, reply_.size() - at);
        if (n <= 0) break;
        at += static_cast<size_t>(n);
      }
      close(c);
    });
  }
  ~FakeEngine() {
    if (thread_.joinable()) thread_.join();
    close(fd_);
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string request() {
    thread_.join();
    return request_;
  }

 private:
  std::string reply_, path_, request_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(DockerClientTest, RequestOverTheUnixSocket) {
  FakeEngine engine(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 13\r\n"
      "Connection: close\r\n\r\n{\"Id\":\"abc\"}\n");
  DockerClient client(engine.path());
  auto response = client.Request("POST", "/containers/create?name=x", "{\"Image\":\"i\"}");
  ASSERT_TRUE(response.ok()) << response.status().message();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ((*response->JsonBody())["Id"], "abc");
  std::string request = engine.request();
  EXPECT_EQ(request.rfind("POST /containers/create?name=x HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Content-Type: application/json"), std::string::npos);
}

TEST(DockerClientTest, StreamsAMultiplexedBody) {
  std::string body = Frame(1, "a\nb") + Frame(2, "err\n") + Frame(1, "\n");
  FakeEngine engine(
      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
      "Connection: close\r\n\r\n" +
      body);
  DockerClient client(engine.path());
  FrameDemuxer demux;
  LineSplitter out, err;
  std::vector<std::string> lines;
  auto status = client.Stream(
      "GET", "/containers/x/logs?follow=1",
      [&](std::string_view data) {
        demux.Feed(data, [&](int stream, std::string_view payload) {
          (stream == 2 ? err : out).Feed(payload, [&](const std::string& line) {
            lines.push_back((stream == 2 ? "2:" : "1:") + line);
          });
        });
        return true;
      },
      nullptr);
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(*status, 200);
  EXPECT_EQ(lines, (std::vector<std::string>{"1:a", "2:err", "1:b"}));
}

TEST(DockerClientTest, NoEngineIsUnavailableAndNamesTheSocket) {
  DockerClient client("/tmp/understudy-no-engine-here.sock");
  EXPECT_FALSE(client.Ping(500));
  auto response = client.Request("GET", "/_ping");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("/tmp/understudy-no-engine-here.sock"),
            std::string::npos)
      << response.status().message();
}

}  // namespace
}  // namespace understudy::runtime
