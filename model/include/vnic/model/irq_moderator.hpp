// IrqModerator: one interrupt moderator (a queue's RX or TX side) as a pure state machine, no
// SystemC and no clock of its own: the device tells it when completions land, when its deadline
// passed and when the interrupt went out, and it answers whether to fire and which deadline to
// arm. The modes, each a rule real NICs use (docs/hw.md, "Interrupt moderation"):
//
//  - FirstCompletionTimer (the model's default, and what RX_USECS/RX_FRAMES meant before the
//    modes existed): a timer armed by the first completion after the last interrupt; fire when
//    the pending completions reach `frames` (if non-zero) or `usecs` have passed since arming
//    (if non-zero), whichever is first; frames = 1, or both 0, fires on every completion.
//  - MinInterval (ixgbe/i40e ITR): at most one interrupt per `usecs`; a completion fires at
//    once if the last interrupt is at least `usecs` old, else at last interrupt + usecs.
//    `frames` is not used (ITR has no frame count).
//  - PacketTimer (e1000 RDTR/RADV): every completion restarts a packet timer of `usecs`
//    (RDTR); the first completion after an interrupt also arms an absolute timer of
//    `abs_usecs` (RADV, 0: none); fire at whichever comes first. `frames` is not used.
//
// Times are picoseconds on the device's clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace vnic::model {

class IrqModerator {
 public:
  enum class Mode : uint8_t { FirstCompletionTimer = 0, MinInterval = 1, PacketTimer = 2 };
  static constexpr uint64_t kNever = UINT64_MAX;
  static constexpr uint64_t kPsPerUs = 1'000'000;

  struct Params {
    Mode mode = Mode::FirstCompletionTimer;
    uint32_t usecs = 0;
    uint32_t frames = 0;
    uint32_t abs_usecs = 0;  // PacketTimer's absolute bound (RADV)
  };

  // What the device does next: fire (after its interrupt latency), and/or have its timer
  // callback run at `deadline` (kNever: no deadline armed). A deadline only ever moves when
  // complete() or timer() says so.
  struct Action {
    bool fire = false;
    uint64_t deadline = kNever;
  };

  void set(const Params& p) { p_ = p; }  // new values take effect from the next completion
  const Params& params() const { return p_; }
  uint32_t pending() const { return pending_; }
  uint64_t deadline() const { return deadline_; }

  // `n` completions landed at `now`.
  Action complete(uint32_t n, uint64_t now) {
    const bool first = pending_ == 0;
    pending_ += n;
    switch (p_.mode) {
      case Mode::FirstCompletionTimer: {
        const bool every = p_.frames == 1 || (p_.frames == 0 && p_.usecs == 0);
        if (every || (p_.frames > 1 && pending_ >= p_.frames)) return {true, deadline_};
        if (p_.usecs > 0 && deadline_ == kNever) deadline_ = now + uint64_t{p_.usecs} * kPsPerUs;
        return {false, deadline_};
      }
      case Mode::MinInterval: {
        const uint64_t gap = uint64_t{p_.usecs} * kPsPerUs;
        if (last_irq_ == kNever || now >= last_irq_ + gap) return {true, deadline_};
        if (deadline_ == kNever) deadline_ = last_irq_ + gap;
        return {false, deadline_};
      }
      case Mode::PacketTimer: {
        if (p_.usecs == 0 && p_.abs_usecs == 0) return {true, deadline_};
        if (first) abs_deadline_ = p_.abs_usecs > 0 ? now + uint64_t{p_.abs_usecs} * kPsPerUs : kNever;
        const uint64_t packet = p_.usecs > 0 ? now + uint64_t{p_.usecs} * kPsPerUs : kNever;
        deadline_ = std::min(packet, abs_deadline_);
        return {false, deadline_};
      }
    }
    return {true, deadline_};
  }

  // The timer callback ran at `now`: fire if the armed deadline has passed with work pending.
  Action timer(uint64_t now) {
    if (deadline_ == kNever || deadline_ > now) return {false, deadline_};  // disarmed, or moved on
    deadline_ = kNever;
    return {pending_ > 0, kNever};
  }

  // The interrupt went out at `now`: the pending work is the driver's now.
  void fired(uint64_t now) {
    pending_ = 0;
    deadline_ = kNever;
    abs_deadline_ = kNever;
    last_irq_ = now;
  }

  // The queue was disabled or reset: pending work and timers are dropped, settings kept.
  void reset() {
    pending_ = 0;
    deadline_ = kNever;
    abs_deadline_ = kNever;
    last_irq_ = kNever;
  }

 private:
  Params p_{};
  uint32_t pending_ = 0;
  uint64_t deadline_ = kNever;
  uint64_t abs_deadline_ = kNever;
  uint64_t last_irq_ = kNever;
};

}  // namespace vnic::model
