// FakeCpu and FakeMemory: a minimal stack::Cpu (a time-ordered queue of softirqs and calls) and
// page allocator, so stack/ and driver/ code can be tested without SystemC.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <unordered_set>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/skb.hpp"

namespace vnic::stack::testing {

class FakeCpu : public Cpu {
 public:
  unsigned id() const override { return 0; }
  Instant now() const override { return now_; }
  void charge(Duration d) override { now_ += d; }
  const CpuCosts& costs() const override { return costs_; }
  void open_softirq(Softirq nr, Fn fn, void* ctx) override { softirq_[idx(nr)] = {fn, ctx}; }
  void raise_softirq(Softirq nr) override { pending_[idx(nr)] = true; }
  uint64_t call_at(Instant when, Fn fn, void* ctx, uint64_t arg) override {
    calls_.push({when, seq_, fn, ctx, arg});
    return seq_++;
  }
  void cancel(uint64_t handle) override { cancelled_.insert(handle); }

  CpuCosts& mutable_costs() { return costs_; }
  // Runs pending softirqs once (one __do_softirq pass); true if any ran.
  bool run_softirqs() {
    bool any = false;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      if (!pending_[i]) continue;
      pending_[i] = false;
      any = true;
      softirq_[i].fn(softirq_[i].ctx, 0);
    }
    return any;
  }
  bool softirq_pending(Softirq nr) const { return pending_[idx(nr)]; }
  // Runs everything until nothing is left (or `limit` steps): softirqs first, then timed calls.
  void run(int limit = 1'000'000) {
    while (limit-- > 0) {
      if (run_softirqs()) continue;
      if (calls_.empty()) return;
      Call c = calls_.top();
      calls_.pop();
      if (cancelled_.erase(c.seq) != 0) continue;
      if (c.when > now_) now_ = c.when;
      c.fn(c.ctx, c.arg);
    }
  }
  void set_now(Instant t) { now_ = t; }
  // When the earliest queued call is due (a cancelled one may still show); none if no call.
  std::optional<Instant> next_call_time() const {
    if (calls_.empty()) return std::nullopt;
    return calls_.top().when;
  }

 private:
  static std::size_t idx(Softirq nr) { return static_cast<std::size_t>(nr); }
  struct Handler {
    Fn fn = nullptr;
    void* ctx = nullptr;
  };
  struct Call {
    Instant when;
    uint64_t seq;
    Fn fn;
    void* ctx;
    uint64_t arg;
    bool operator>(const Call& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  Instant now_{};
  CpuCosts costs_{};
  std::array<Handler, 8> softirq_{};
  std::array<bool, 8> pending_{};
  std::priority_queue<Call, std::vector<Call>, std::greater<>> calls_;
  uint64_t seq_ = 0;
  std::unordered_set<uint64_t> cancelled_;  // a set: TCP re-arms (cancels) a timer on every ACK
};

class FakeMemory : public PageAllocator {
 public:
  Block alloc(uint64_t len, uint64_t) override {
    if (fail_after_ == 0) return {};
    if (fail_after_ > 0) --fail_after_;
    auto& v = blocks_[next_];
    v.resize(len);
    Block b{next_, v};
    next_ += (len + 4095) / 4096 * 4096 + 4096;
    return b;
  }
  void free(uint64_t addr) override { blocks_.erase(addr); }
  std::size_t live() const { return blocks_.size(); }
  void fail_after(int64_t n) { fail_after_ = n; }

 private:
  std::map<uint64_t, std::vector<uint8_t>> blocks_;
  uint64_t next_ = 0x1000'0000;
  int64_t fail_after_ = -1;
};

}  // namespace vnic::stack::testing
