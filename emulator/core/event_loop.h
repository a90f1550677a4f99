// EventLoop: the one thread that owns all control-plane state.
//
// Built on a Boost.Asio io_context run by a single thread. Post() is the only
// thread-safe entry; everything else (state, timers, the HTTP front door's
// connections) lives on the loop thread, so state needs no locks and events are
// handled in the order they were posted.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace understudy {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queues `fn` to run on the loop thread after the work already queued. Any thread.
  void Post(std::function<void()> fn);

  // True on the thread inside Run() (or, before Run, the thread that built the loop).
  bool IsLoopThread() const;

  // Runs handlers until Stop(). The calling thread becomes the loop thread.
  void Run();
  // Makes Run() return after the current handler. Any thread.
  void Stop();
  bool stopped() const { return io_.stopped(); }

  // The io_context for I/O objects owned by loop-thread components.
  boost::asio::io_context& io() { return io_; }

  // Runs every handler that is ready now, and those they post, until none is
  // ready; returns how many ran. Tests drive the loop with it instead of Run().
  size_t RunUntilIdleForTest();

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<std::thread::id> loop_thread_;
};

}  // namespace understudy
