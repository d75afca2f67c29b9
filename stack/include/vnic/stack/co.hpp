// Co<T>: a lazily started coroutine for the sleepable (process-context) kernel code the model runs
// as tasks on a simulated CPU: probe, open, stop, reset recovery. co_await sleep(cpu, d) is msleep;
// a Co<T> is awaited by its caller (symmetric transfer) or spawned into a TaskScope.
#pragma once

#include <coroutine>
#include <deque>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "vnic/stack/cpu.hpp"

namespace vnic::stack {

template <class T = void>
class Co;
class TaskScope;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;
  TaskScope* scope = nullptr;  // set for a spawned (top-level) task
  std::suspend_always initial_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { std::terminate(); }  // kernel code throws nothing
};

void scope_finished(TaskScope* scope, std::coroutine_handle<> h) noexcept;

template <class P>
struct FinalAwaiter {
  bool await_ready() noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    PromiseBase& p = h.promise();
    if (p.continuation) return p.continuation;
    if (p.scope) scope_finished(p.scope, h);  // destroys the frame
    return std::noop_coroutine();
  }
  void await_resume() noexcept {}
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Co<T> get_return_object() noexcept;
  FinalAwaiter<Promise> final_suspend() noexcept { return {}; }
  void return_value(T v) { value = std::move(v); }
};

template <>
struct Promise<void> : PromiseBase {
  Co<void> get_return_object() noexcept;
  FinalAwaiter<Promise> final_suspend() noexcept { return {}; }
  void return_void() noexcept {}
};

}  // namespace detail

template <class T>
class [[nodiscard]] Co {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Co(Handle h) noexcept : h_(h) {}
  Co(Co&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Co& operator=(Co&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Co(const Co&) = delete;
  Co& operator=(const Co&) = delete;
  ~Co() {
    if (h_) h_.destroy();
  }

  // Awaiting starts the coroutine; the caller resumes when it finishes.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() {
    if constexpr (!std::is_void_v<T>) return std::move(*h_.promise().value);
  }

  Handle release() noexcept { return std::exchange(h_, {}); }

 private:
  Handle h_;
};

namespace detail {
template <class T>
Co<T> Promise<T>::get_return_object() noexcept {
  return Co<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Co<void> Promise<void>::get_return_object() noexcept {
  return Co<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

// Owns top-level tasks: spawn() starts one now; a task that finishes frees itself; the scope
// destroys the tasks still suspended when it goes (e.g. a simulation that stopped mid-probe).
class TaskScope {
 public:
  TaskScope() = default;
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;
  ~TaskScope() {
    for (auto h : live_) h.destroy();
  }
  void spawn(Co<void> c) {
    auto h = c.release();
    h.promise().scope = this;
    live_.push_back(h);
    h.resume();
  }
  std::size_t running() const { return live_.size(); }

 private:
  friend void detail::scope_finished(TaskScope*, std::coroutine_handle<>) noexcept;
  std::vector<std::coroutine_handle<>> live_;
};

namespace detail {
inline void scope_finished(TaskScope* scope, std::coroutine_handle<> h) noexcept {
  auto& v = scope->live_;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == h) {
      v[i] = v.back();
      v.pop_back();
      break;
    }
  }
  h.destroy();
}
inline void resume_handle(void* ctx, uint64_t) { std::coroutine_handle<>::from_address(ctx).resume(); }
}  // namespace detail

// A mutex for sleepable tasks (the model's rtnl_lock): co_await m.lock(), then a Guard unlocks
// at scope exit. A waiter is resumed from the CPU's queue, not from inside unlock().
class AsyncMutex {
 public:
  explicit AsyncMutex(Cpu& cpu) : cpu_(cpu) {}
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;
  struct LockAwaiter {
    AsyncMutex& m;
    bool await_ready() noexcept {
      if (m.locked_) return false;
      m.locked_ = true;
      return true;
    }
    void await_suspend(std::coroutine_handle<> h) { m.waiters_.push_back(h); }
    void await_resume() const noexcept {}
  };
  LockAwaiter lock() { return LockAwaiter{*this}; }
  // Hands the lock to the next waiter (it stays locked) or frees it.
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    const std::coroutine_handle<> h = waiters_.front();
    waiters_.pop_front();
    cpu_.call_at(cpu_.now(), &detail::resume_handle, h.address());
  }
  bool locked() const { return locked_; }
  struct Guard {
    AsyncMutex* m;
    explicit Guard(AsyncMutex& mu) : m(&mu) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { m->unlock(); }
  };

 private:
  Cpu& cpu_;
  bool locked_ = false;
  std::deque<std::coroutine_handle<>> waiters_;
};

// co_await sleep(cpu, d): the task gives up the CPU and resumes d later (msleep/usleep_range).
struct SleepAwaiter {
  Cpu& cpu;
  Duration d;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { cpu.call_at(cpu.now() + d, &detail::resume_handle, h.address()); }
  void await_resume() const noexcept {}
};
inline SleepAwaiter sleep(Cpu& cpu, Duration d) { return SleepAwaiter{cpu, d}; }

}  // namespace vnic::stack
