#include "core/event_loop.h"

#include <boost/asio/post.hpp>

namespace understudy {

EventLoop::EventLoop() : work_(io_.get_executor()), loop_thread_(std::this_thread::get_id()) {}

EventLoop::~EventLoop() = default;

void EventLoop::Post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

bool EventLoop::IsLoopThread() const { return loop_thread_.load() == std::this_thread::get_id(); }

void EventLoop::Run() {
  loop_thread_ = std::this_thread::get_id();
  io_.restart();
  io_.run();
}

void EventLoop::Stop() { io_.stop(); }

size_t EventLoop::RunUntilIdleForTest() {
  loop_thread_ = std::this_thread::get_id();
  if (io_.stopped()) io_.restart();
  size_t total = 0;
  for (;;) {
    size_t ran = io_.poll();
    total += ran;
    if (ran == 0) break;
  }
  return total;
}

}  // namespace understudy
