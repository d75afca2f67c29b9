// NicFuzzHarness: the platform (event queue, host memory with the IOMMU-like check, the NIC, an
// interconnect that watches every device access, a medium that counts frames), the op
// interpreter, and the checks.
#include "nic_fuzz_harness.hpp"

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "nic_fuzz_ops.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/model/bytes.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/host_ring.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/tb/host_memory.hpp"

namespace vnic::fuzz {

namespace regs = model::regs;
namespace pci = model::pci;
using regs::Stat;
using tb::DmaDir;

namespace {

constexpr std::string_view kCheckNames[] = {
    "dma-outside-mapping", "dma-without-bme",   "writeback-unposted-slot", "dma-after-reset",
    "rx-done-without-data", "ring-config",      "head-outside-ring",       "tail-outside-ring",
    "head-over-unposted",  "pending-events",    "counter-decreased",       "rx-conservation",
    "tx-conservation",     "tx-frame-malformed", "callback-rate",          "zero-time-storm",
};
static_assert(std::size(kCheckNames) == kNumChecks);

constexpr std::string_view kOpNames[] = {
    "bring-up", "write-reg", "write-raw", "read",    "msix-target", "config", "tx-desc", "rx-desc",
    "desc-raw", "post-tx",   "post-rx",   "map",     "frame",       "link",   "time",    "bus",
};
static_assert(std::size(kOpNames) == static_cast<std::size_t>(Op::kCount));

constexpr uint64_t kUsPs = 1'000'000;
constexpr unsigned kNumQp = 2;            // the NIC under test has two queue pairs
constexpr uint64_t kTaintSpan = 16384;    // the longest buffer a descriptor can describe
constexpr std::size_t kMaxAbandoned = 4096;
const model::MacAddr kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};
const model::MacAddr kMulticast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};

// The input, read one operand at a time; reading past the end marks it short.
class Reader {
 public:
  Reader(const uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool more() const { return pos_ < n_; }
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  uint8_t u8() {
    if (pos_ >= n_) {
      ok_ = false;
      return 0;
    }
    return d_[pos_++];
  }
  // One statement per read: the operands of | are not sequenced.
  uint16_t u16() {
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | u8() << 8);
  }
  uint32_t u32() {
    const uint32_t lo = u16();
    return lo | uint32_t{u16()} << 16;
  }
  uint64_t u64() {
    const uint64_t lo = u32();
    return lo | uint64_t{u32()} << 32;
  }

 private:
  const uint8_t* d_;
  std::size_t n_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const regs::Reg& qreg(bool tx, const regs::Reg& rx_reg, const regs::Reg& tx_reg) { return tx ? tx_reg : rx_reg; }

}  // namespace

std::string_view check_name(Check c) { return kCheckNames[static_cast<std::size_t>(c)]; }
std::string_view op_name(Op op) { return kOpNames[static_cast<std::size_t>(op)]; }

class NicFuzzHarness::Platform {
 public:
  Platform();
  int run(const uint8_t* data, std::size_t size);
  bool skip(std::string_view names);
  void set_trace(bool on) { trace_ = on; }
  const InputReport& last() const { return last_; }
  const HarnessStats& stats() const { return stats_; }

 private:
  // ---------------------------------------------------------------- the interconnect
  // Between the NIC and the host: the CPU's MMIO and the device's DMA both pass here. Device
  // accesses go to the MSI window (interrupt messages), to the NIC's own BAR0 (refused, or
  // forwarded peer-to-peer, as the input chooses) or to host memory; the platform sees each one.
  class Bus : public sc_core::sc_module {
   public:
    tlm_utils::simple_target_socket<Bus> from_device;
    tlm_utils::simple_initiator_socket<Bus> to_memory;
    tlm_utils::simple_initiator_socket<Bus> to_nic;
    BusMode mode = BusMode::Refuse;

    Bus(sc_core::sc_module_name name, Platform& p)
        : sc_core::sc_module(name), from_device("from_device"), to_memory("to_memory"), to_nic("to_nic"), p_(p) {
      from_device.register_b_transport(this, &Bus::b_transport);
      from_device.register_get_direct_mem_ptr(this, &Bus::get_dmi);
      to_memory.register_invalidate_direct_mem_ptr(this, &Bus::invalidate);
    }
    // The CPU's access to BAR0 (an offset).
    tlm::tlm_response_status cpu(tlm::tlm_command cmd, uint64_t off, uint8_t* data, unsigned len) {
      // One payload, reused (constructing one allocates); a nested access gets its own.
      tlm::tlm_generic_payload local;
      tlm::tlm_generic_payload& gp = cpu_busy_ ? local : gp_;
      const bool outer = !cpu_busy_;
      cpu_busy_ = true;
      gp.set_command(cmd);
      gp.set_address(off);
      gp.set_data_ptr(data);
      gp.set_data_length(len);
      gp.set_streaming_width(len);
      gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      gp.set_byte_enable_ptr(nullptr);
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      to_nic->b_transport(gp, delay);
      if (outer) cpu_busy_ = false;
      return gp.get_response_status();
    }
    // A register word as stored, without side effects (the harness's own look at the device).
    uint32_t peek(uint32_t off) {
      std::array<uint8_t, 4> b{};
      dbg_.set_command(tlm::TLM_READ_COMMAND);
      dbg_.set_address(off);
      dbg_.set_data_ptr(b.data());
      dbg_.set_data_length(4);
      return to_nic->transport_dbg(dbg_) == 4 ? model::load_le<uint32_t>(b, 0) : 0;
    }

   private:
    void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) { p_.device_access(p, delay); }
    // No DMI: every device access must pass here to be checked.
    bool get_dmi(tlm::tlm_generic_payload&, tlm::tlm_dmi&) { return false; }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { from_device->invalidate_direct_mem_ptr(start, end); }
    Platform& p_;
    tlm::tlm_generic_payload gp_;
    tlm::tlm_generic_payload dbg_;
    bool cpu_busy_ = false;
  };

  // ---------------------------------------------------------------- the wire
  class Medium : public hw::EthMedium {
   public:
    explicit Medium(Platform& p) : p_(p) {}
    void attach(unsigned, hw::EthEndpoint*) override {}
    bool transmit(unsigned, model::Frame&& f, uint64_t) override {
      if (!up_) return false;
      p_.on_wire(f);
      f.release();
      return true;
    }
    bool up() const override { return up_; }
    model::BitRate rate() const override { return rate_; }
    void set(bool up, model::BitRate rate) {
      up_ = up;
      rate_ = rate;
    }

   private:
    Platform& p_;
    bool up_ = true;
    model::BitRate rate_ = model::BitRate::gbps(10);
  };

  // ---------------------------------------------------------------- what the harness tracks
  // One queue as the device shows it: its last enable (ring, slots posted since) and HEAD.
  struct QueueTrack {
    bool en = false;       // the ENABLE bit as last seen
    bool running = false;  // STATUS.RUNNING as last seen
    bool epoch = false;    // enabled at least once: base, size and posted are of the last enable
    bool active = false;   // ... and not disabled (or reset) since
    uint64_t base = 0;
    uint32_t size = 0;
    uint32_t tail = 0;  // TAIL as last seen while running: slots up to here are posted
    uint32_t head = 0;
    std::vector<bool> posted;
  };
  // The driver's side of a ring: where it writes descriptors, and its tail.
  struct DriverRing {
    uint8_t area = 0;
    uint32_t size = 8;
    uint32_t tail = 0;
    uint8_t next_buf = 0;
  };
  struct Mapping {
    uint64_t addr = 0;
    uint64_t len = 0;
    DmaDir dir = DmaDir::Bidirectional;
    bool live = false;
  };
  struct Issued {
    uint64_t addr;
    uint64_t len;
  };
  enum class Landing : uint8_t { Issued, Abandoned, Unprobed };

  // The interconnect's view of one device access.
  void device_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void memory_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void bar_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  void on_wire(const model::Frame& f);

  // Ops.
  bool exec(Op op, Reader& in);
  bool op_bring_up(Reader& in);
  bool op_write_reg(Reader& in);
  bool op_post_tx(Reader& in);
  bool op_post_rx(Reader& in);
  bool op_frame(Reader& in);
  BufSpec read_buf(Reader& in);
  uint64_t buf_addr(const BufSpec& b) const;
  void put_desc(uint8_t area, uint32_t slot, const std::array<uint8_t, 16>& bytes);
  void put_tx(uint8_t area, uint32_t slot, uint64_t addr, uint16_t len, uint8_t cmd);
  void put_rx(uint8_t area, uint32_t slot, uint64_t addr);

  // The CPU side.
  tlm::tlm_response_status mmio(tlm::tlm_command cmd, uint32_t off, uint8_t* data, unsigned len);
  void mmio_write(uint32_t off, uint32_t v);
  uint32_t mmio_read(uint32_t off);
  void after_write(uint64_t off, const uint8_t* data, unsigned len);
  bool mse() const { return (nic_.cfg_read32(pci::kCommandStatus) & pci::kCmdMemorySpace) != 0; }
  bool bme() const { return (nic_.cfg_read32(pci::kCommandStatus) & pci::kCmdBusMaster) != 0; }

  // Time.
  void advance(uint64_t ps);

  // Checks.
  void fail(Check c, const std::string& what);
  void check_state();
  void sample_queues();
  void sample_queue(unsigned qp, bool tx);
  void new_epoch(QueueTrack& t, unsigned qp, bool tx);
  void post(QueueTrack& t, uint32_t from, uint32_t to);
  void check_mapping(uint64_t a, uint64_t len, tlm::tlm_command cmd);
  void check_ring_write(uint64_t a, uint64_t len, bool at_issue);
  void check_rx_done(uint64_t a, const uint8_t* data);
  bool in_any_ring(uint64_t a, uint64_t len) const;
  const QueueTrack* posted_slot(uint64_t a, bool need_active, bool rx_only) const;
  bool tainted(uint64_t a, uint64_t len) const;
  Landing match_landing(uint64_t a, uint64_t len);
  void record_landed(uint64_t a, uint64_t len);
  bool take_landed(uint64_t a, uint64_t len);
  std::string where(uint64_t a) const;
  uint64_t rx_total() const;

  void power_on();

  hw::EventQueue q_{"q"};
  tb::HostMemory mem_{"mem", layout::kMemBase, layout::kMemSize};
  hw::Nic nic_;
  Bus bus_{"bus", *this};
  Medium medium_{*this};

  // Layout (the same for every input).
  std::array<uint64_t, layout::kRingAreas> ring_area_{};
  std::array<uint64_t, layout::kTxBufs> tx_buf_{};
  std::array<uint64_t, layout::kRxBufs> rx_buf_{};
  std::array<uint64_t, layout::kBigRxBufs> big_rx_{};
  uint64_t read_only_ = 0, write_only_ = 0, unmapped_ = 0;
  std::array<Mapping, layout::kNumMaps> maps_{};

  // Per input.
  std::array<std::array<QueueTrack, 2>, kNumQp> track_{};  // [qp][tx]
  std::array<std::array<DriverRing, 2>, kNumQp> drv_{};
  std::vector<std::pair<uint64_t, uint64_t>> rings_;      // every ring enabled this input: base, bytes
  std::deque<Issued> issued_;                             // probed writes not yet landed
  std::deque<Issued> abandoned_;                          // ... issued before a soft reset
  std::set<uint64_t> taint_;                              // buffer addresses the device was given
  std::map<uint64_t, uint64_t> landed_;                   // landed write ranges: start -> end
  std::vector<uint64_t> last_stats_;
  uint64_t budget_ps_ = 0;
  uint64_t start_ps_ = 0;
  uint64_t fired_at_start_ = 0;
  uint64_t injected_ = 0;
  uint64_t on_wire_ = 0;
  uint64_t msi_ = 0;
  uint64_t instant_ps_ = UINT64_MAX;
  uint64_t instant_accesses_ = 0;
  uint64_t guest_events_ = 0;  // since the last 1 us window began (see advance())
  bool sampling_ = false;
  unsigned op_index_ = 0;
  Op op_ = Op::BringUp;
  bool draining_ = false;

  std::array<bool, kNumChecks> skip_{};
  bool trace_ = false;
  InputReport last_;
  HarnessStats stats_;
};

// ---------------------------------------------------------------------------------- set-up

namespace {
hw::NicConfig nic_config() {
  hw::NicConfig c;
  c.num_qp = kNumQp;
  return c;
}
}  // namespace

NicFuzzHarness::Platform::Platform() : nic_("nic", q_, nic_config()) {
  bus_.to_nic.bind(nic_.mmio);
  nic_.dma().socket.bind(bus_.from_device);
  bus_.to_memory.bind(mem_.socket);
  nic_.attach(&medium_, 0);
  // Enumeration: BAR0 is assigned once and survives power_on_reset (as the BAR of a slot would).
  nic_.cfg_write32(pci::kBar0Lo, static_cast<uint32_t>(layout::kBar0));
  nic_.cfg_write32(pci::kBar0Hi, static_cast<uint32_t>(layout::kBar0 >> 32));
  last_stats_.assign(regs::kNumStats, 0);
  stats_.pending_bound = nic_.max_pending_events();
  stats_.callbacks_bound = nic_.max_callbacks_per_us();
}

bool NicFuzzHarness::Platform::skip(std::string_view names) {
  std::array<bool, kNumChecks> s = skip_;
  while (!names.empty()) {
    const std::size_t comma = names.find(',');
    const std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    if (name.empty()) continue;
    const auto it = std::find(std::begin(kCheckNames), std::end(kCheckNames), name);
    if (it == std::end(kCheckNames)) return false;
    s[static_cast<std::size_t>(it - std::begin(kCheckNames))] = true;
  }
  skip_ = s;
  return true;
}

void NicFuzzHarness::Platform::power_on() {
  // Everything back to power-on, so an input's outcome cannot depend on the inputs before it.
  q_.clear();
  nic_.power_on_reset();
  mem_.reset();
  mem_.set_iommu(true);
  medium_.set(true, model::BitRate::gbps(10));
  nic_.attach(&medium_, 0);  // the NIC takes the link state from the medium again
  bus_.mode = BusMode::Refuse;
  // Start on a microsecond boundary: the callback-rate windows then line up alike in every run.
  const uint64_t now = hw::to_ps(sc_core::sc_time_stamp());
  if (now % kUsPs != 0) sc_core::sc_start(hw::from_ps(kUsPs - now % kUsPs));
  start_ps_ = hw::to_ps(sc_core::sc_time_stamp());
  fired_at_start_ = q_.fired();

  // The layout: rings, buffers, and what the host maps for the device.
  using namespace layout;
  uint8_t m = 0;
  auto area = [&](uint64_t len, uint64_t align, DmaDir dir, bool mapped) {
    const uint64_t a = mem_.alloc(len, align);
    maps_[m++] = Mapping{a, len, dir, mapped};
    if (mapped) mem_.map(a, len, dir);
    return a;
  };
  for (auto& r : ring_area_) r = area(uint64_t{kRingAreaSlots} * model::kDescSize, 4096, DmaDir::Bidirectional, true);
  for (auto& b : tx_buf_) b = area(kTxBufSize, 64, DmaDir::ToDevice, true);
  for (auto& b : rx_buf_) b = area(kRxBufSize, 64, DmaDir::FromDevice, true);
  for (auto& b : big_rx_) b = area(kBigRxBufSize, 64, DmaDir::FromDevice, true);
  read_only_ = area(kOddBufSize, 64, DmaDir::ToDevice, true);
  write_only_ = area(kOddBufSize, 64, DmaDir::FromDevice, true);
  unmapped_ = area(kOddBufSize, 64, DmaDir::Bidirectional, false);

  for (auto& qp : track_) qp = {};
  for (auto& qp : drv_) qp = {};
  rings_.clear();
  issued_.clear();
  abandoned_.clear();
  taint_.clear();
  landed_.clear();
  for (unsigned i = 0; i < regs::kNumStats; ++i) last_stats_[i] = nic_.stat(static_cast<Stat>(i));
  budget_ps_ = kTimeBudgetPs;
  injected_ = on_wire_ = msi_ = 0;
  instant_ps_ = UINT64_MAX;
  instant_accesses_ = 0;
  guest_events_ = 0;
  draining_ = false;
}

// ---------------------------------------------------------------------------------- checks

void NicFuzzHarness::Platform::fail(Check c, const std::string& what) {
  const auto i = static_cast<std::size_t>(c);
  if (skip_[i]) {
    ++stats_.skipped[i];
    return;
  }
  const double t_us = static_cast<double>(q_.now_ps() - start_ps_) / 1e6;
  std::fprintf(stderr, "vnic-fuzz: check %s failed %s %u (%s), %.3f us into the input:\n  %s\n",
               std::string(check_name(c)).c_str(), draining_ ? "after the last op, op" : "at op", op_index_,
               std::string(op_name(op_)).c_str(), t_us, what.c_str());
  std::fflush(stderr);
  std::abort();
}

uint64_t NicFuzzHarness::Platform::rx_total() const {
  uint64_t n = nic_.stat(Stat::rx_packets);
  for (Stat s : regs::kRxDropStats) n += nic_.stat(s);
  return n;
}

void NicFuzzHarness::Platform::check_state() {
  sample_queues();
  const std::size_t pending = q_.pending();
  stats_.max_pending = std::max(stats_.max_pending, pending);
  if (pending > nic_.max_pending_events()) {
    fail(Check::PendingEvents, fmt::format("{} callbacks scheduled; Nic::max_pending_events() is {}", pending,
                                           nic_.max_pending_events()));
  }
  stats_.max_frames_in_use = std::max(stats_.max_frames_in_use, nic_.frame_pool().in_use());
  stats_.max_pending_writes = std::max(stats_.max_pending_writes, nic_.dma().pending_writes());
  for (unsigned i = 0; i < regs::kNumStats; ++i) {
    const uint64_t v = nic_.stat(static_cast<Stat>(i));
    if (v < last_stats_[i]) {
      fail(Check::CounterDecreased, fmt::format("{} went from {} to {}", regs::kStatInfo[i].name, last_stats_[i], v));
    }
    last_stats_[i] = v;
  }
  // Every frame from the wire is counted once, as delivered or in one drop counter: never more
  // counts than frames (fewer only while some are still in flight; the end checks equality).
  if (rx_total() > injected_) {
    fail(Check::RxConservation,
         fmt::format("{} frames came in, but rx_packets + RX drops = {}", injected_, rx_total()));
  }
  if (nic_.stat(Stat::tx_packets) != on_wire_) {
    fail(Check::TxConservation,
         fmt::format("tx_packets = {}, but the medium got {} frames", nic_.stat(Stat::tx_packets), on_wire_));
  }
}

void NicFuzzHarness::Platform::sample_queues() {
  if (sampling_) return;  // a forwarded write inside a sample's own read
  sampling_ = true;
  for (unsigned qp = 0; qp < kNumQp; ++qp) {
    sample_queue(qp, false);
    sample_queue(qp, true);
  }
  sampling_ = false;
}

void NicFuzzHarness::Platform::sample_queue(unsigned qp, bool tx) {
  QueueTrack& t = track_[qp][tx ? 1 : 0];
  const char* dir = tx ? "TX" : "RX";
  const bool en = (bus_.peek(qreg(tx, regs::kRxqCtrl, regs::kTxqCtrl).offset_of(qp)) & 1u) != 0;
  if (t.en && !en) t.active = false;  // disabled by the driver, or by a reset: the ring is the driver's again
  t.en = en;
  if (!mse()) return;  // STATUS and HEAD can only be read through the BAR
  const uint32_t st = mmio_read(qreg(tx, regs::kRxqStatus, regs::kTxqStatus).offset_of(qp));
  const bool running = regs::q_status::kRunning.get(st) != 0;
  if (running && !t.running) new_epoch(t, qp, tx);
  t.running = running;
  if (!t.epoch) return;
  if (running) {
    const uint32_t tail = bus_.peek(qreg(tx, regs::kRxqTail, regs::kTxqTail).offset_of(qp));
    if (tail >= t.size) {
      fail(Check::TailOutsideRing,
           fmt::format("{} queue {} runs a ring of {} with TAIL = {}", dir, qp, t.size, tail));
    } else if (tail != t.tail) {
      // [HEAD, TAIL) is the device's (docs/descriptors.md): a tail that moves forward hands it
      // the slots in between; one that moves back into that range hands it nothing.
      const uint32_t head = mmio_read(qreg(tx, regs::kRxqHead, regs::kTxqHead).offset_of(qp)) % t.size;
      const model::RingIndex ring(t.size);
      if (ring.used(head, tail) >= ring.used(head, t.tail)) post(t, t.tail, tail);
      t.tail = tail;
    }
  }
  if (!t.active) return;
  const uint32_t head = mmio_read(qreg(tx, regs::kRxqHead, regs::kTxqHead).offset_of(qp));
  if (head >= t.size) {
    fail(Check::HeadOutsideRing, fmt::format("{} queue {}: HEAD = {} in a ring of {}", dir, qp, head, t.size));
    return;
  }
  for (uint32_t s = t.head; s != head; s = (s + 1) % t.size) {
    if (!t.posted[s]) {
      fail(Check::HeadOverUnposted,
           fmt::format("{} queue {}: HEAD moved from {} to {} over slot {}, which the driver never posted since "
                       "the enable (ring of {} at {:#x})",
                       dir, qp, t.head, head, s, t.size, t.base));
      break;
    }
  }
  t.head = head;
}

void NicFuzzHarness::Platform::new_epoch(QueueTrack& t, unsigned qp, bool tx) {
  const uint64_t base = uint64_t{bus_.peek(qreg(tx, regs::kRxqBaseHi, regs::kTxqBaseHi).offset_of(qp))} << 32 |
                        bus_.peek(qreg(tx, regs::kRxqBaseLo, regs::kTxqBaseLo).offset_of(qp));
  const uint32_t size = bus_.peek(qreg(tx, regs::kRxqSize, regs::kTxqSize).offset_of(qp));
  const uint32_t tail = bus_.peek(qreg(tx, regs::kRxqTail, regs::kTxqTail).offset_of(qp));
  t.epoch = true;
  t.active = true;
  t.base = base;
  t.head = 0;
  if (!model::RingIndex::is_valid_size(size, regs::kMinRingSize, regs::kMaxRingSize) || base % 16 != 0) {
    fail(Check::RingConfig, fmt::format("{} queue {} runs on a ring of {} at {:#x}", tx ? "TX" : "RX", qp, size, base));
    t.epoch = t.active = false;  // (when the check is skipped) no slot of it counts as posted
    return;
  }
  t.size = size;
  t.posted.assign(size, false);
  // What TAIL says at the enable is posted (a tail beyond the ring posts nothing).
  t.tail = 0;
  if (tail < size) post(t, 0, tail);
  t.tail = tail < size ? tail : 0;
  rings_.emplace_back(base, uint64_t{size} * model::kDescSize);
}

void NicFuzzHarness::Platform::post(QueueTrack& t, uint32_t from, uint32_t to) {
  for (uint32_t s = from; s != to; s = (s + 1) % t.size) t.posted[s] = true;
}

bool NicFuzzHarness::Platform::in_any_ring(uint64_t a, uint64_t len) const {
  for (const auto& [base, bytes] : rings_) {
    if (a < base + bytes && base < a + len) return true;
  }
  return false;
}

const NicFuzzHarness::Platform::QueueTrack* NicFuzzHarness::Platform::posted_slot(uint64_t a, bool need_active,
                                                                               bool rx_only) const {
  for (const auto& qp : track_) {
    for (unsigned d = 0; d < 2; ++d) {
      const QueueTrack& t = qp[d];
      if (!t.epoch || (need_active && !t.active) || (rx_only && d == 1) || a < t.base) continue;
      const uint64_t off = a - t.base;
      if (off % model::kDescSize == 0 && off / model::kDescSize < t.size && t.posted[off / model::kDescSize]) return &t;
    }
  }
  return nullptr;
}

bool NicFuzzHarness::Platform::tainted(uint64_t a, uint64_t len) const {
  // A buffer the device was given may lie over a ring: data written there is not a write-back.
  auto it = taint_.lower_bound(a >= kTaintSpan - 1 ? a - (kTaintSpan - 1) : 0);
  return it != taint_.end() && *it <= a + len - 1;
}

std::string NicFuzzHarness::Platform::where(uint64_t a) const {
  std::string s;
  for (unsigned qp = 0; qp < kNumQp; ++qp) {
    for (unsigned d = 0; d < 2; ++d) {
      const QueueTrack& t = track_[qp][d];
      if (!t.epoch || a < t.base || a - t.base >= uint64_t{t.size} * model::kDescSize) continue;
      const uint64_t slot = (a - t.base) / model::kDescSize;
      s += fmt::format(" [{} queue {}: ring of {} at {:#x}, slot {}, {}, queue {}]", d ? "TX" : "RX", qp, t.size,
                       t.base, slot, t.posted[slot] ? "posted" : "never posted since the enable",
                       t.active ? "enabled" : "disabled since");
    }
  }
  return s.empty() ? std::string(" [a ring enabled earlier in this input]") : s;
}

void NicFuzzHarness::Platform::check_ring_write(uint64_t a, uint64_t len, bool at_issue) {
  if (!in_any_ring(a, len) || tainted(a, len)) return;
  // Issued: the queue must still be enabled; landed: the slot posted since its last enable.
  if (len == model::kDescSize && posted_slot(a, at_issue, false) != nullptr) return;
  fail(Check::WritebackUnposted, fmt::format("a {}-byte write {} at {:#x}{}", len,
                                             at_issue ? "was issued" : "landed", a, where(a)));
}

void NicFuzzHarness::Platform::check_rx_done(uint64_t a, const uint8_t* data) {
  if (tainted(a, model::kDescSize) || posted_slot(a, false, true) == nullptr) return;
  const model::RxDesc d = model::decode_rx(std::span<const uint8_t, model::kDescSize>(data, model::kDescSize));
  if (!d.done() || d.length == 0) return;
  if (!take_landed(d.buf_addr, d.length)) {
    fail(Check::RxDoneWithoutData,
         fmt::format("an RX descriptor landed at {:#x} with DD and {} B at {:#x}, but that data never landed{}", a,
                     d.length, d.buf_addr, where(a)));
  }
}

void NicFuzzHarness::Platform::record_landed(uint64_t a, uint64_t len) {
  uint64_t start = a, end = a + len;
  auto it = landed_.upper_bound(start);
  if (it != landed_.begin() && std::prev(it)->second >= start) --it;
  while (it != landed_.end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    it = landed_.erase(it);
  }
  landed_.emplace(start, end);
}

bool NicFuzzHarness::Platform::take_landed(uint64_t a, uint64_t len) {
  auto it = landed_.upper_bound(a);
  if (it == landed_.begin()) return false;
  --it;
  const uint64_t start = it->first, end = it->second;
  if (end < a + len) return false;
  // Consumed: the next descriptor for this buffer needs its own data.
  landed_.erase(it);
  if (start < a) landed_.emplace(start, a);
  if (a + len < end) landed_.emplace(a + len, end);
  return true;
}

NicFuzzHarness::Platform::Landing NicFuzzHarness::Platform::match_landing(uint64_t a, uint64_t len) {
  // Writes land in issue order; probes the engine made for writes it then dropped never do.
  for (auto it = issued_.begin(); it != issued_.end(); ++it) {
    if (it->addr == a && it->len == len) {
      issued_.erase(issued_.begin(), it + 1);
      return Landing::Issued;
    }
  }
  for (auto it = abandoned_.begin(); it != abandoned_.end(); ++it) {
    if (it->addr == a && it->len == len) {
      abandoned_.erase(it);
      return Landing::Abandoned;
    }
  }
  return Landing::Unprobed;
}

void NicFuzzHarness::Platform::check_mapping(uint64_t a, uint64_t len, tlm::tlm_command cmd) {
  // Host memory let the access through: it must lie in one of the host's live mappings, in a
  // direction the mapping allows (a write probe only needs the address to be mapped).
  const uint8_t need = cmd == tlm::TLM_READ_COMMAND    ? static_cast<uint8_t>(DmaDir::ToDevice)
                       : cmd == tlm::TLM_WRITE_COMMAND ? static_cast<uint8_t>(DmaDir::FromDevice)
                                                       : 0;
  for (const Mapping& m : maps_) {
    if (m.live && a >= m.addr && a - m.addr < m.len && len <= m.len - (a - m.addr) &&
        (static_cast<uint8_t>(m.dir) & need) == need) {
      return;
    }
  }
  fail(Check::DmaOutsideMapping,
       fmt::format("a device {} of {} B at {:#x} was let through outside the host's mappings",
                   cmd == tlm::TLM_READ_COMMAND ? "read" : cmd == tlm::TLM_WRITE_COMMAND ? "write" : "write probe", len,
                   a));
}

// ---------------------------------------------------------------------------------- the interconnect

void NicFuzzHarness::Platform::device_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const uint64_t a = p.get_address();
  const uint64_t len = p.get_data_length();
  const tlm::tlm_command cmd = p.get_command();
  p.set_dmi_allowed(false);
  const uint64_t now = q_.now_ps();
  if (now != instant_ps_) {
    instant_ps_ = now;
    instant_accesses_ = 0;
  }
  if (++instant_accesses_ > kMaxAccessesPerInstant) {
    fail(Check::ZeroTimeStorm, fmt::format("{} device accesses at one instant", instant_accesses_));
  }
  // Reads and write probes are issued now; a write arrives when it lands, and a posted write
  // that left while bus mastering was on may land after it was turned off.
  if (cmd != tlm::TLM_WRITE_COMMAND && !bme()) {
    fail(Check::DmaWithoutBme, fmt::format("a device {} of {} B at {:#x} with Bus Master Enable off",
                                           cmd == tlm::TLM_READ_COMMAND ? "read" : "write probe", len, a));
  }
  if (cmd == tlm::TLM_WRITE_COMMAND && match_landing(a, len) == Landing::Abandoned) {
    fail(Check::DmaAfterReset,
         fmt::format("a {}-byte write at {:#x} issued before a soft reset landed after it", len, a));
  }
  const uint64_t bar0 = nic_.bar0();
  if (a >= bar0 && a - bar0 < regs::kBar0Size) {
    bar_access(p, delay);
  } else if (a >= layout::kMsiBase && a - layout::kMsiBase < layout::kMsiSize) {
    // The MSI window takes 4-byte writes (interrupt messages) only, and says so to a probe.
    const bool ok = len == 4 && cmd != tlm::TLM_READ_COMMAND;
    p.set_response_status(ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    if (ok && cmd == tlm::TLM_IGNORE_COMMAND) issued_.push_back({a, len});
    if (ok && cmd == tlm::TLM_WRITE_COMMAND) ++msi_;
  } else {
    memory_access(p, delay);
  }
}

void NicFuzzHarness::Platform::bar_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  const uint64_t a = p.get_address();
  const unsigned len = p.get_data_length();
  const tlm::tlm_command cmd = p.get_command();
  if (bus_.mode == BusMode::Refuse) {
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (cmd == tlm::TLM_IGNORE_COMMAND && bus_.mode == BusMode::Forward) {
    p.set_response_status(tlm::TLM_OK_RESPONSE);  // the switch routes the address: it decodes
    issued_.push_back({a, len});
    return;
  }
  // Peer-to-peer: the device's own access, synchronously, into its own BAR.
  tlm::tlm_generic_payload fp;
  fp.set_command(cmd);
  fp.set_address(a - nic_.bar0());
  fp.set_data_ptr(p.get_data_ptr());
  fp.set_data_length(len);
  fp.set_streaming_width(p.get_streaming_width());
  fp.set_byte_enable_ptr(p.get_byte_enable_ptr());
  fp.set_byte_enable_length(p.get_byte_enable_length());
  fp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  bus_.to_nic->b_transport(fp, delay);
  p.set_response_status(fp.get_response_status());
  if (!fp.is_response_ok()) return;
  if (cmd == tlm::TLM_IGNORE_COMMAND) issued_.push_back({a, len});
  if (cmd == tlm::TLM_WRITE_COMMAND) after_write(a - nic_.bar0(), p.get_data_ptr(), len);
}

void NicFuzzHarness::Platform::memory_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  bus_.to_memory->b_transport(p, delay);
  if (!p.is_response_ok()) return;
  const uint64_t a = p.get_address();
  const uint64_t len = p.get_data_length();
  const tlm::tlm_command cmd = p.get_command();
  check_mapping(a, len, cmd);
  switch (cmd) {
    case tlm::TLM_READ_COMMAND:
      // What looks like a descriptor fetch: remember the buffers it names (see tainted()).
      if (a % model::kDescSize == 0 && len % model::kDescSize == 0 && len <= 512) {
        const std::span<const uint8_t> d(p.get_data_ptr(), len);
        for (std::size_t off = 0; off < len; off += model::kDescSize) taint_.insert(model::load_le<uint64_t>(d, off));
      }
      break;
    case tlm::TLM_IGNORE_COMMAND:
      issued_.push_back({a, len});
      check_ring_write(a, len, true);
      break;
    case tlm::TLM_WRITE_COMMAND:
      check_ring_write(a, len, false);
      if (len == model::kDescSize) check_rx_done(a, p.get_data_ptr());
      record_landed(a, len);
      break;
  }
}

void NicFuzzHarness::Platform::on_wire(const model::Frame& f) {
  ++on_wire_;
  if (f.size() < regs::kMinFrame || f.size() > regs::kMaxFrameLimit || !model::fcs_ok(f.bytes())) {
    fail(Check::TxFrameMalformed, fmt::format("a frame of {} B with a {} FCS left on the wire", f.size(),
                                              f.size() >= 4 && model::fcs_ok(f.bytes()) ? "good" : "bad"));
  }
}

// ---------------------------------------------------------------------------------- the CPU side

tlm::tlm_response_status NicFuzzHarness::Platform::mmio(tlm::tlm_command cmd, uint32_t off, uint8_t* data,
                                                        unsigned len) {
  return bus_.cpu(cmd, off, data, len);
}

void NicFuzzHarness::Platform::mmio_write(uint32_t off, uint32_t v) {
  ++guest_events_;
  std::array<uint8_t, 4> b{};
  model::store_le<uint32_t>(b, 0, v);
  if (mmio(tlm::TLM_WRITE_COMMAND, off, b.data(), 4) == tlm::TLM_OK_RESPONSE) after_write(off, b.data(), 4);
}

uint32_t NicFuzzHarness::Platform::mmio_read(uint32_t off) {
  std::array<uint8_t, 4> b{};
  mmio(tlm::TLM_READ_COMMAND, off, b.data(), 4);
  return model::load_le<uint32_t>(b, 0);
}

void NicFuzzHarness::Platform::after_write(uint64_t off, const uint8_t* data, unsigned len) {
  // An accepted write (by the CPU or forwarded from the device): what it changed.
  if (len == 4 && off == regs::kCtrl.offset && (data[0] & 0x2u) != 0) {
    // A soft reset: nothing issued before it may land after it.
    abandoned_.insert(abandoned_.end(), issued_.begin(), issued_.end());
    issued_.clear();
    while (abandoned_.size() > kMaxAbandoned) abandoned_.pop_front();
  }
  if (off >= regs::kMsixTableBase && off < regs::kMsixTableBase + regs::kMaxVectors * 16u) {
    // An interrupt message may be aimed into a ring: its 4 bytes are then not a write-back.
    const unsigned v = static_cast<unsigned>(off - regs::kMsixTableBase) / 16;
    taint_.insert(uint64_t{bus_.peek(regs::kMsixAddrHi.offset_of(v))} << 32 | bus_.peek(regs::kMsixAddrLo.offset_of(v)));
  }
  // A queue's enable, ring and tail change only through its own registers or CTRL.
  if (off == regs::kCtrl.offset) {
    sample_queues();
  } else if (off >= regs::kQpBase && off < regs::kQpBase + kNumQp * regs::kQpStride && !sampling_) {
    const unsigned qp = static_cast<unsigned>(off - regs::kQpBase) / regs::kQpStride;
    sampling_ = true;
    sample_queue(qp, (off - regs::kQpBase) % regs::kQpStride >= regs::kTxqBaseLo.offset - regs::kQpBase);
    sampling_ = false;
  }
}

// ---------------------------------------------------------------------------------- time

void NicFuzzHarness::Platform::advance(uint64_t ps) {
  while (ps > 0) {
    // Nothing due for a while: jump there (whole microseconds, so the windows below keep their
    // alignment); nothing can happen in between.
    const uint64_t idle = q_.pending() == 0 ? UINT64_MAX : hw::to_ps(sc_core::sc_time_to_pending_activity());
    if (idle > ps) {
      sc_core::sc_start(hw::from_ps(ps));
      return;
    }
    if (idle >= kUsPs) {
      const uint64_t skip = idle - idle % kUsPs;
      sc_core::sc_start(hw::from_ps(skip));
      ps -= skip;
      continue;
    }
    // Busy: a microsecond at a time, checking after each. The guest acts only between ops, so
    // what the op before did happened at the start of this window.
    const uint64_t step = std::min(ps, kUsPs);
    const uint64_t before = q_.fired();
    const uint64_t events = guest_events_;
    guest_events_ = 0;
    sc_core::sc_start(hw::from_ps(step));
    ps -= step;
    const uint64_t n = q_.fired() - before;
    stats_.max_callbacks_per_us = std::max(stats_.max_callbacks_per_us, n);
    if (events == 0) stats_.max_callbacks_per_quiet_us = std::max(stats_.max_callbacks_per_quiet_us, n);
    const uint64_t bound = nic_.max_callbacks_per_us() + events * kCallbacksPerGuestEvent;
    if (n > bound) {
      fail(Check::CallbackRate,
           fmt::format("{} callbacks in a simulated microsecond that began with {} guest events (bound {})", n,
                       events, bound));
    }
    check_state();
  }
}

// ---------------------------------------------------------------------------------- ops

BufSpec NicFuzzHarness::Platform::read_buf(Reader& in) {
  BufSpec b;
  b.kind = static_cast<BufKind>(in.u8() % static_cast<uint8_t>(BufKind::kCount));
  b.index = in.u8();
  b.offset = in.u16();
  if (b.kind == BufKind::Raw) b.raw = in.u64();
  return b;
}

uint64_t NicFuzzHarness::Platform::buf_addr(const BufSpec& b) const {
  using namespace layout;
  switch (b.kind) {
    case BufKind::Tx: return tx_buf_[b.index % kTxBufs] + b.offset % kTxBufSize;
    case BufKind::Rx: return rx_buf_[b.index % kRxBufs] + b.offset % kRxBufSize;
    case BufKind::BigRx: return big_rx_[b.index % kBigRxBufs] + b.offset % kBigRxBufSize;
    case BufKind::ReadOnly: return read_only_ + b.offset % kOddBufSize;
    case BufKind::WriteOnly: return write_only_ + b.offset % kOddBufSize;
    case BufKind::Unmapped: return unmapped_ + b.offset % kOddBufSize;
    case BufKind::Msi: return kMsiBase + b.offset;
    case BufKind::Bar: return nic_.bar0() + b.offset % regs::kBar0Size;
    case BufKind::Outside: return (b.index & 1) ? kMemBase + kMemSize + b.offset : kMemBase - 0x10000 + b.offset;
    case BufKind::Ring:
      return ring_area_[b.index % kRingAreas] + uint64_t{b.offset % kRingAreaSlots} * model::kDescSize;
    case BufKind::Raw:
    case BufKind::kCount: break;
  }
  return b.raw;
}

void NicFuzzHarness::Platform::put_desc(uint8_t area, uint32_t slot, const std::array<uint8_t, 16>& bytes) {
  auto v = mem_.view(ring_area_[area % layout::kRingAreas] + uint64_t{slot % layout::kRingAreaSlots} * model::kDescSize,
                     model::kDescSize);
  std::copy(bytes.begin(), bytes.end(), v.begin());
}

void NicFuzzHarness::Platform::put_tx(uint8_t area, uint32_t slot, uint64_t addr, uint16_t len, uint8_t cmd) {
  model::TxDesc d;
  d.buf_addr = addr;
  d.length = len;
  d.cmd = cmd;
  std::array<uint8_t, 16> b{};
  model::encode(d, b);
  put_desc(area, slot, b);
}

void NicFuzzHarness::Platform::put_rx(uint8_t area, uint32_t slot, uint64_t addr) {
  model::RxDesc d;
  d.buf_addr = addr;
  std::array<uint8_t, 16> b{};
  model::encode(d, b);
  put_desc(area, slot, b);
}

bool NicFuzzHarness::Platform::op_bring_up(Reader& in) {
  namespace bu = bring_up;
  const uint8_t sizes = in.u8();
  const uint8_t flags = in.u8();
  if (!in.ok()) return false;
  const uint32_t tx_size = kRingSizes[sizes & 7];
  const uint32_t rx_size = kRingSizes[(sizes >> 3) & 7];
  const unsigned nqp = (flags & bu::kTwoQueuePairs) ? 2 : 1;
  const bool jumbo = (flags & bu::kJumbo) != 0;
  if (flags & bu::kResetFirst) {
    mmio_write(regs::kCtrl.offset, regs::ctrl::kRst.mask());
    const uint64_t wait = std::min<uint64_t>(budget_ps_, uint64_t{nic_.config().reset_ns} * 1000 + 100'000);
    budget_ps_ -= wait;
    advance(wait);
  }
  nic_.cfg_write32(pci::kCommandStatus, pci::kCmdMemorySpace | pci::kCmdBusMaster | pci::kCmdIntxDisable);
  for (unsigned v = 0; v <= nic_.misc_vector(); ++v) {
    mmio_write(regs::kMsixAddrLo.offset_of(v), static_cast<uint32_t>(layout::kMsiBase));
    mmio_write(regs::kMsixAddrHi.offset_of(v), 0);
    mmio_write(regs::kMsixData.offset_of(v), v);
    mmio_write(regs::kMsixVctrl.offset_of(v), 0);
  }
  nic_.cfg_write32(pci::kCapMsix, pci::kMsixEnable);
  // ethtool -C presets: every frame; rx/tx-usecs 8; 4 frames or 20 us; 50 us.
  static constexpr std::array<std::array<uint32_t, 2>, 4> kCoalesce = {{{0, 1}, {8, 0}, {20, 4}, {50, 0}}};
  const auto& co = kCoalesce[(flags >> bu::kCoalesceShift) & 3];
  for (uint8_t qp = 0; qp < nqp; ++qp) {
    const uint64_t txa = ring_area_[layout::tx_area(qp)], rxa = ring_area_[layout::rx_area(qp)];
    mmio_write(regs::kTxqBaseLo.offset_of(qp), static_cast<uint32_t>(txa));
    mmio_write(regs::kTxqBaseHi.offset_of(qp), static_cast<uint32_t>(txa >> 32));
    mmio_write(regs::kTxqSize.offset_of(qp), tx_size);
    mmio_write(regs::kRxqBaseLo.offset_of(qp), static_cast<uint32_t>(rxa));
    mmio_write(regs::kRxqBaseHi.offset_of(qp), static_cast<uint32_t>(rxa >> 32));
    mmio_write(regs::kRxqSize.offset_of(qp), rx_size);
    mmio_write(regs::kRxqBufSize.offset_of(qp), jumbo ? layout::kBigRxBufSize : layout::kRxBufSize);
    mmio_write(regs::kRxUsecs.offset_of(qp), co[0]);
    mmio_write(regs::kRxFrames.offset_of(qp), co[1]);
    mmio_write(regs::kTxUsecs.offset_of(qp), co[0]);
    mmio_write(regs::kTxFrames.offset_of(qp), co[1]);
    drv_[qp][1] = DriverRing{layout::tx_area(qp), tx_size, 0, 0};
    DriverRing& r = drv_[qp][0];
    r = DriverRing{layout::rx_area(qp), rx_size, 0, 0};
    if (!(flags & bu::kNoRxBuffers)) {
      for (uint32_t i = 0; i + 1 < rx_size; ++i) {
        put_rx(r.area, i, jumbo ? big_rx_[i % layout::kBigRxBufs] : rx_buf_[i % layout::kRxBufs]);
      }
      r.tail = rx_size - 1;
      mmio_write(regs::kRxqTail.offset_of(qp), r.tail);
    }
    mmio_write(regs::kRxqCtrl.offset_of(qp), 1);
    mmio_write(regs::kTxqCtrl.offset_of(qp), 1);
  }
  uint32_t rx_ctrl = regs::rx_ctrl::kBcast.mask();  // broadcast
  if (flags & bu::kPromiscuous) rx_ctrl |= regs::rx_ctrl::kPromisc.mask();
  if (flags & bu::kRxAllFcs) rx_ctrl |= regs::rx_ctrl::kRxFcs.mask() | regs::rx_ctrl::kRxAll.mask();
  mmio_write(regs::kRxCtrl.offset, rx_ctrl);
  if (jumbo) mmio_write(regs::kMaxFrame.offset, regs::kMaxFrameLimit);
  mmio_write(regs::kCtrl.offset, regs::ctrl::kEn.mask());
  return true;
}

bool NicFuzzHarness::Platform::op_write_reg(Reader& in) {
  const uint8_t ri = in.u8();
  const uint8_t el = in.u8();
  const auto mode = static_cast<ValueMode>(in.u8() % static_cast<uint8_t>(ValueMode::kCount));
  uint32_t v = in.u32();
  if (!in.ok()) return false;
  const regs::Reg& r = *menu::kRegs[ri % menu::kNumRegs];
  const unsigned i = r.count > 1 ? el % r.count : 0;
  const bool per_queue = r.offset >= regs::kQpBase && r.offset < regs::kQpBase + regs::kQpStride;
  const bool tx = per_queue && (r.offset - regs::kQpBase) >= regs::kTxqBaseLo.offset - regs::kQpBase;
  DriverRing* d = per_queue && i < kNumQp ? &drv_[i][tx ? 1 : 0] : nullptr;
  if (mode == ValueMode::Meaning) {
    if (&r == &regs::kTxqBaseLo || &r == &regs::kRxqBaseLo || &r == &regs::kTxqBaseHi || &r == &regs::kRxqBaseHi) {
      const uint8_t area = static_cast<uint8_t>(v % layout::kRingAreas);
      const bool hi = &r == &regs::kTxqBaseHi || &r == &regs::kRxqBaseHi;
      v = static_cast<uint32_t>(hi ? ring_area_[area] >> 32 : ring_area_[area]);
      if (d != nullptr) d->area = area;
    } else if (&r == &regs::kTxqSize || &r == &regs::kRxqSize) {
      v = regs::kMinRingSize << (v % 10);
    } else if ((&r == &regs::kTxqTail || &r == &regs::kRxqTail) && d != nullptr) {
      v %= d->size;
    } else if (&r == &regs::kCtrl) {
      v &= 3;
    }
  }
  mmio_write(r.offset_of(i), v);
  if (d != nullptr && (&r == &regs::kTxqSize || &r == &regs::kRxqSize) &&
      model::RingIndex::is_valid_size(v, regs::kMinRingSize, regs::kMaxRingSize)) {
    d->size = v;
    d->tail %= v;
  }
  if (d != nullptr && (&r == &regs::kTxqTail || &r == &regs::kRxqTail) && v < d->size) d->tail = v;
  return true;
}

bool NicFuzzHarness::Platform::op_post_tx(Reader& in) {
  namespace pt = post_tx;
  const unsigned qp = in.u8() % kNumQp;
  const unsigned n = in.u8() % 64 + 1;
  const uint16_t len = in.u16();
  const uint8_t flags = in.u8();
  if (!in.ok()) return false;
  DriverRing& d = drv_[qp][1];
  const unsigned per = (flags & 3u) + 1;
  const BufKind kind = pt::kBufs[flags >> pt::kBufShift];
  for (unsigned k = 0; k < n; ++k) {
    const bool last = (flags & pt::kOneChain) ? k + 1 == n : ((k + 1) % per == 0 || k + 1 == n);
    uint8_t cmd = 0;
    if (last && !(flags & pt::kNoEop)) cmd |= model::TxDesc::kCmdEop;
    if (last && !(flags & pt::kNoRs)) cmd |= model::TxDesc::kCmdRs;
    const uint64_t addr = buf_addr(BufSpec{kind, d.next_buf++, 0, 0});
    put_tx(d.area, d.tail, addr, len, cmd);
    d.tail = (d.tail + 1) % d.size;
  }
  mmio_write(regs::kTxqTail.offset_of(qp), d.tail);
  return true;
}

bool NicFuzzHarness::Platform::op_post_rx(Reader& in) {
  const unsigned qp = in.u8() % kNumQp;
  const unsigned n = in.u8() % 64 + 1;
  BufSpec b = read_buf(in);
  if (!in.ok()) return false;
  DriverRing& d = drv_[qp][0];
  for (unsigned k = 0; k < n; ++k) {
    put_rx(d.area, d.tail, buf_addr(b));
    ++b.index;
    d.tail = (d.tail + 1) % d.size;
  }
  mmio_write(regs::kRxqTail.offset_of(qp), d.tail);
  return true;
}

bool NicFuzzHarness::Platform::op_frame(Reader& in) {
  const auto kind = static_cast<FrameKind>(in.u8() % static_cast<uint8_t>(FrameKind::kCount));
  const uint16_t lv = in.u16();
  const unsigned count = in.u8() % 32 + 1;
  if (!in.ok()) return false;
  if (!medium_.up()) return true;  // a link that is down delivers nothing
  std::size_t len = 0;
  switch (kind) {
    case FrameKind::Runt: len = fit_length(lv, 1, regs::kMinFrame - 1); break;
    case FrameKind::Giant: len = fit_length(lv, regs::kDefaultMaxFrame + 1, 16000); break;
    case FrameKind::Random: len = fit_length(lv, 1, 16000); break;
    default: len = fit_length(lv, regs::kMinFrame, regs::kMaxFrameLimit); break;
  }
  const model::MacAddr self = model::MacAddr::from_words(bus_.peek(regs::kMacLo.offset), bus_.peek(regs::kMacHi.offset));
  for (unsigned k = 0; k < count; ++k) {
    model::Frame f = nic_.frame_pool().alloc(len);
    uint8_t* b = f.data();
    uint64_t seed = uint64_t{lv} << 8 | k;
    if (kind == FrameKind::Random) {
      for (std::size_t i = 0; i < len; ++i) b[i] = static_cast<uint8_t>(splitmix(seed));
    } else {
      const model::MacAddr dst = kind == FrameKind::Broadcast   ? model::MacAddr::broadcast()
                                 : kind == FrameKind::Multicast ? kMulticast
                                 : kind == FrameKind::OtherHost ? kPeerMac
                                                                : self;
      std::array<uint8_t, 14> hdr{};
      std::copy(dst.b.begin(), dst.b.end(), hdr.begin());
      std::copy(kPeerMac.b.begin(), kPeerMac.b.end(), hdr.begin() + 6);
      hdr[12] = 0x08;  // IPv4
      for (std::size_t i = 0; i < len; ++i) b[i] = i < hdr.size() ? hdr[i] : static_cast<uint8_t>(i * 7 + k);
      if (len >= model::kFcsLen) model::write_fcs(f.bytes());
      if (kind == FrameKind::BadFcs) b[len - 1] ^= 0x5A;
    }
    ++injected_;
    ++guest_events_;
    nic_.eth_receive(std::move(f));
  }
  return true;
}

bool NicFuzzHarness::Platform::exec(Op op, Reader& in) {
  switch (op) {
    case Op::BringUp: return op_bring_up(in);
    case Op::WriteReg: return op_write_reg(in);
    case Op::WriteRaw: {
      const uint16_t off = in.u16();
      const uint8_t len = kRawLengths[in.u8() % kRawLengths.size()];
      const uint32_t v = in.u32();
      if (!in.ok()) return false;
      std::array<uint8_t, 8> b{};
      model::store_le<uint32_t>(b, 0, v);
      model::store_le<uint32_t>(b, 4, v);
      ++guest_events_;
      if (mmio(tlm::TLM_WRITE_COMMAND, off, b.data(), len) == tlm::TLM_OK_RESPONSE) after_write(off, b.data(), len);
      return true;
    }
    case Op::Read: {
      const uint16_t off = in.u16();
      const uint8_t len = kRawLengths[in.u8() % kRawLengths.size()];
      if (!in.ok()) return false;
      std::array<uint8_t, 8> b{};
      ++guest_events_;
      mmio(tlm::TLM_READ_COMMAND, off, b.data(), len);
      return true;
    }
    case Op::MsixTarget: {
      const unsigned vec = in.u8() % regs::kMaxVectors;
      const auto to = static_cast<MsixTo>(in.u8() % static_cast<uint8_t>(MsixTo::kCount));
      const uint32_t v = in.u32();
      if (!in.ok()) return false;
      uint64_t addr = v;
      switch (to) {
        case MsixTo::MsiWindow: addr = layout::kMsiBase; break;
        case MsixTo::BarOffset: addr = nic_.bar0() + ((v % regs::kBar0Size) & ~3u); break;
        case MsixTo::BarHole: addr = nic_.bar0() + 0xFFC; break;
        case MsixTo::RxBuffer: addr = rx_buf_[v % layout::kRxBufs]; break;
        case MsixTo::RingSlot:
          addr = ring_area_[v % layout::kRingAreas] + uint64_t{(v >> 8) % layout::kRingAreaSlots} * model::kDescSize;
          break;
        case MsixTo::Raw:
        case MsixTo::kCount: break;
      }
      mmio_write(regs::kMsixAddrLo.offset_of(vec), static_cast<uint32_t>(addr));
      mmio_write(regs::kMsixAddrHi.offset_of(vec), static_cast<uint32_t>(addr >> 32));
      return true;
    }
    case Op::Config: {
      const uint8_t which = in.u8();
      const uint32_t v = in.u32();
      if (!in.ok()) return false;
      ++guest_events_;
      nic_.cfg_write32(which % 2 ? pci::kCapMsix : pci::kCommandStatus, v);
      return true;
    }
    case Op::TxDesc: {
      const uint8_t area = in.u8();
      const uint16_t slot = in.u16();
      const BufSpec b = read_buf(in);
      const uint16_t len = in.u16();
      const uint8_t cmd = in.u8();
      if (!in.ok()) return false;
      put_tx(area, slot, buf_addr(b), len, cmd);
      return true;
    }
    case Op::RxDesc: {
      const uint8_t area = in.u8();
      const uint16_t slot = in.u16();
      const BufSpec b = read_buf(in);
      if (!in.ok()) return false;
      put_rx(area, slot, buf_addr(b));
      return true;
    }
    case Op::DescRaw: {
      const uint8_t area = in.u8();
      const uint16_t slot = in.u16();
      std::array<uint8_t, 16> d{};
      for (uint8_t& x : d) x = in.u8();
      if (!in.ok()) return false;
      put_desc(area, slot, d);
      return true;
    }
    case Op::PostTx: return op_post_tx(in);
    case Op::PostRx: return op_post_rx(in);
    case Op::Map: {
      const uint8_t id = in.u8() % layout::kNumMaps;
      const uint8_t action = in.u8() % 4;
      if (!in.ok()) return false;
      Mapping& m = maps_[id];
      if (action == 0) {
        mem_.unmap(m.addr);
        m.live = false;
      } else {
        m.dir = static_cast<DmaDir>(action);
        m.live = true;
        mem_.map(m.addr, m.len, m.dir);
      }
      return true;
    }
    case Op::Frame: return op_frame(in);
    case Op::Link: {
      const uint8_t b = in.u8();
      if (!in.ok()) return false;
      static constexpr std::array<uint64_t, 4> kGbps = {1, 10, 25, 100};
      const bool up = (b & 1u) != 0;
      const model::BitRate rate = model::BitRate::gbps(kGbps[(b >> 1) & 3]);
      if (up != medium_.up() || (up && rate != medium_.rate())) {  // a PHY reports changes only
        medium_.set(up, rate);
        ++guest_events_;
        nic_.eth_link_changed(up, rate);
      }
      return true;
    }
    case Op::Time: {
      const uint8_t b = in.u8();
      if (!in.ok()) return false;
      const uint64_t ps = std::min(budget_ps_, kTimeSteps[b & 15] * ((b >> 4) + 1u));
      budget_ps_ -= ps;
      advance(ps);
      return true;
    }
    case Op::Bus: {
      const uint8_t b = in.u8();
      if (!in.ok()) return false;
      bus_.mode = static_cast<BusMode>(b % static_cast<uint8_t>(BusMode::kCount));
      return true;
    }
    case Op::kCount: break;
  }
  return false;
}

int NicFuzzHarness::Platform::run(const uint8_t* data, std::size_t size) {
  power_on();
  Reader in(data, size);
  unsigned ops = 0;
  while (ops < kMaxOps && in.more()) {
    op_index_ = ops;
    op_ = static_cast<Op>(in.u8() % static_cast<uint8_t>(Op::kCount));
    const std::size_t at = in.pos();
    if (!exec(op_, in)) break;  // the input ends inside this op's operands
    if (trace_) {
      std::string operands;
      for (std::size_t i = at; i < in.pos(); ++i) operands += fmt::format(" {:02x}", data[i]);
      std::fprintf(stderr, "  op %3u %-11s%s  (t=%.3f us)\n", ops, std::string(op_name(op_)).c_str(),
                   operands.c_str(), static_cast<double>(q_.now_ps() - start_ps_) / 1e6);
    }
    ++ops;
    check_state();
  }
  // Let the NIC finish what it has in flight, then the books must balance.
  draining_ = true;
  advance(kDrainPs);
  const bool quiet = q_.pending() == 0;
  if (quiet && rx_total() != injected_) {
    fail(Check::RxConservation, fmt::format("{} frames came in; rx_packets + RX drops = {} once the NIC was quiet",
                                            injected_, rx_total()));
  }
  if (trace_) {
    std::string counters;
    for (unsigned i = 0; i < regs::kNumStats; ++i) {
      const uint64_t v = nic_.stat(static_cast<Stat>(i));
      const std::string_view name = regs::kStatInfo[i].name;
      if (v != 0 && !name.starts_with("dma_rd") && !name.starts_with("dma_wr")) {
        counters += fmt::format(" {}={}", name, v);
      }
    }
    std::fprintf(stderr, "  end:%s; host iommu_faults=%llu\n", counters.c_str(),
                 static_cast<unsigned long long>(mem_.stats().iommu_faults));
  }
  uint64_t digest = 0xCBF29CE484222325ull;  // FNV-1a over 64-bit words
  auto mix = [&digest](uint64_t v) { digest = (digest ^ v) * 0x100000001B3ull; };
  for (unsigned i = 0; i < regs::kNumStats; ++i) mix(nic_.stat(static_cast<Stat>(i)));
  const tb::HostMemoryStats& ms = mem_.stats();
  for (uint64_t v : {ms.reads, ms.writes, ms.refused, ms.iommu_faults, ms.iommu_last_fault}) mix(v);
  for (uint64_t v : {q_.fired() - fired_at_start_, injected_, on_wire_, msi_, uint64_t{ops}}) mix(v);
  last_ = InputReport{ops, q_.now_ps() - start_ps_, injected_, on_wire_, msi_, quiet, digest};
  ++stats_.inputs;
  stats_.ops += ops;
  if (!quiet) ++stats_.not_quiet;
  return 0;
}

// ---------------------------------------------------------------------------------- facade

NicFuzzHarness::NicFuzzHarness() : p_(std::make_unique<Platform>()) {}
NicFuzzHarness::~NicFuzzHarness() = default;
int NicFuzzHarness::run(const uint8_t* data, std::size_t size) { return p_->run(data, size); }
bool NicFuzzHarness::skip(std::string_view names) { return p_->skip(names); }
void NicFuzzHarness::set_trace(bool on) { p_->set_trace(on); }
const InputReport& NicFuzzHarness::last() const { return p_->last(); }
const HarnessStats& NicFuzzHarness::stats() const { return p_->stats(); }

}  // namespace vnic::fuzz
