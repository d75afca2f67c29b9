// NicCore: what every unit of the NIC shares: the clock and event queue, the configuration, the
// register words, the counter block, the DMA port, the frame pool and the trace sink. The units
// (register file, MAC, MSI-X table, interrupts, TX and RX pipelines) each hold a reference to it
// and to the few other units they call; `Nic` composes them (docs/hw.md, "Structure").
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "vnic/hw/dma_engine.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic/config.hpp"
#include "vnic/hw/trace.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::hw {

// An event argument or DMA tag as a small typed struct: 8 bytes, copied bit for bit into the
// event queue's or DMA engine's 64-bit word and back.
template <class T>
uint64_t pack_arg(const T& v) {
  static_assert(sizeof(T) == 8 && std::is_trivially_copyable_v<T>);
  return std::bit_cast<uint64_t>(v);
}
template <class T>
T unpack_arg(uint64_t w) {
  static_assert(sizeof(T) == 8 && std::is_trivially_copyable_v<T>);
  return std::bit_cast<T>(w);
}

// Which queue of a pair a callback or interrupt source is about.
enum class Dir : uint8_t { Rx = 0, Tx = 1 };

// Event argument of a per-queue callback.
struct QueueArg {
  uint8_t qp = 0;
  Dir dir = Dir::Rx;
  uint8_t reserved[6]{};
};

// What a posted write is for, carried as its DMA tag and handed back when it ends.
enum class WriteKind : uint8_t { RxData = 1, RxDesc = 2, TxDesc = 3, Msi = 4 };
struct WriteTag {
  WriteKind kind{};
  uint8_t qp = 0;     // queue pair, or vector for Msi
  uint16_t len = 0;   // RxDesc: bytes delivered; TxDesc: descriptors completed
  uint8_t flags = 0;  // RxDesc: kFlagBcast / kFlagMcast
  uint8_t reserved[3]{};
  static constexpr uint8_t kFlagBcast = 1, kFlagMcast = 2;
  uint64_t pack() const { return pack_arg(*this); }
  static WriteTag unpack(uint64_t t) { return unpack_arg<WriteTag>(t); }
};

class NicCore {
 public:
  static constexpr uint64_t kNoEvent = EventQueue::kNone;
  static constexpr uint64_t kNever = UINT64_MAX;

  NicCore(const char* name, EventQueue& queue, const NicConfig& config, DmaEngine& dma_port,
          model::FramePool& frames)
      : q(queue),
        cfg(config),
        dma(dma_port),
        pool(frames),
        name_(name),
        cycle_ps_(1000'000u / (config.core_mhz == 0 ? 1 : config.core_mhz)),
        regs_(model::regs::kBar0Size / 4, 0) {}

  EventQueue& q;
  const NicConfig& cfg;
  DmaEngine& dma;
  model::FramePool& pool;

  uint64_t now_ps() const { return q.now_ps(); }
  uint64_t cycles_ps(uint32_t n) const { return uint64_t{n} * cycle_ps_; }
  void cancel(uint64_t& ev) {
    if (ev != kNoEvent) q.cancel(ev);
    ev = kNoEvent;
  }

  // Register words, indexed by offset / 4 (the register file decides what an access does).
  uint32_t& word(const model::regs::Reg& r, unsigned i) { return regs_[r.offset_of(i) / 4]; }
  uint32_t word(const model::regs::Reg& r, unsigned i) const { return regs_[r.offset_of(i) / 4]; }
  const uint32_t* words() const { return regs_.data(); }
  bool device_enabled() const { return model::regs::ctrl::kEn.get(word(model::regs::kCtrl, 0)) != 0; }
  // A soft reset is in progress until then.
  uint64_t reset_done_ps = 0;
  bool in_reset() const { return now_ps() < reset_done_ps; }

  // The counter block (the DMA engine keeps its own; Nic::stat merges them).
  void bump(model::regs::Stat s, uint64_t n = 1) { stats[static_cast<unsigned>(s)] += n; }
  std::array<uint64_t, model::regs::kNumStats> stats{};

  // Trace events (nullptr sink: off, one predictable branch).
  TraceSink* trace = nullptr;
  uint64_t tx_id_base = 0;
  model::PacketTags* tags = nullptr;
  void emit(TraceKind k, unsigned lane, uint64_t t, uint64_t t_end, uint32_t a, uint64_t b, uint64_t packet,
            model::Step step) const {
    if (trace == nullptr) [[likely]] return;
    trace->trace(name_, TraceEvent{t, t_end, k, step, static_cast<uint16_t>(lane), a, b, packet});
  }
  void emit(TraceKind k, unsigned lane, uint64_t t, uint64_t t_end, uint32_t a, uint64_t b, uint64_t packet) const {
    if (trace == nullptr) [[likely]] return;  // before default_step: off costs one branch
    emit(k, lane, t, t_end, a, b, packet, model::default_step(k));
  }

 private:
  const char* name_;
  uint64_t cycle_ps_;
  std::vector<uint32_t> regs_;
};

}  // namespace vnic::hw
