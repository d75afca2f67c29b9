// VnicDriver implementation. Each function says which Linux driver step it models.
#include "vnic/driver/vnic_driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "vnic/model/descriptor.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::driver {

namespace regs = model::regs;
namespace pci = model::pci;
using stack::SkBuff;

namespace {
constexpr uint32_t kMaxLog = 1000;

constexpr const char* kDrvStatNames[] = {
#define X(name, doc) #name,
    VNIC_DRIVER_STATS(X)
#undef X
};
}  // namespace

VnicDriver::VnicDriver(HostBus& bus, stack::Cpu& cpu, stack::Softnet& softnet, stack::SkbPool& skbs,
                       DriverConfig cfg)
    : bus_(bus), cpu_(cpu), sd_(softnet), skbs_(skbs), cfg_(std::move(cfg)), rtnl_(cpu), watchdog_(cpu, *this) {
  name = cfg_.ifname;
  bql_enabled = cfg_.bql;
  watchdog_timeo = cfg_.watchdog_timeo;
  hw_stats_.assign(regs::kNumStats, 0);
}

VnicDriver::~VnicDriver() = default;

void VnicDriver::logf(std::string line) {
  if (log_.size() >= kMaxLog) return;
  const int64_t us = cpu_.now().ps() / 1000'000;
  log_.push_back(fmt::format("[{:5d}.{:06d}] vnic {} {}: {}", us / 1000'000, us % 1000'000, bus_.bus_info(),
                             name, line));
}

void VnicDriver::MmioRead::await_suspend(std::coroutine_handle<> hh) {
  h = hh;
  // Non-posted: the CPU stalls. The request reaches the device half a round trip later (the
  // CPU busy meanwhile), the completion returns after the other half.
  d.cpu_.charge(d.cpu_.costs().mmio_read / 2);
  d.cpu_.call_at(d.cpu_.now(), &MmioRead::sample, this);
}

void VnicDriver::MmioRead::sample(void* ctx, uint64_t) {
  auto* r = static_cast<MmioRead*>(ctx);
  r->value = r->d.bus_.mmio_read32(r->off);
  r->d.cpu_.charge(r->d.cpu_.costs().mmio_read - r->d.cpu_.costs().mmio_read / 2);
  r->h.resume();
}

// ------------------------------------------------------------------------------ probe / remove

Co<int> VnicDriver::reset_and_wait() {
  wr(regs::kCtrl.offset, regs::ctrl::kRst.mask());
  const stack::Instant deadline = cpu_.now() + cfg_.reset_timeout;
  uint32_t st = 0;
  for (;;) {
    co_await stack::sleep(cpu_, cfg_.reset_poll);
    st = co_await mmio_read(regs::kStatus.offset);
    if (st != 0xFFFF'FFFFu && regs::status::kResetDone.get(st) != 0) {
      status_ = st;
      co_return 0;
    }
    if (cpu_.now() >= deadline) break;
  }
  logf(fmt::format("device reset did not complete within {} us (STATUS 0x{:08x}); giving up",
                   cfg_.reset_timeout.ps() / 1000'000, st));
  co_return -stack::kETIMEDOUT;
}

Co<int> VnicDriver::probe() {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  if (probed_) co_return -stack::kEBUSY;
  const uint32_t ids = bus_.cfg_read32(pci::kVendorDevice);
  if ((ids & 0xFFFF) != pci::kVendorId || (ids >> 16) != pci::kDeviceId) {
    logf(fmt::format("probe: not a vnic function (vendor:device {:04x}:{:04x})", ids & 0xFFFF, ids >> 16));
    co_return -stack::kENODEV;
  }
  // pci_enable_device + pci_set_master.
  const uint32_t cmd = bus_.cfg_read32(pci::kCommandStatus) & 0xFFFF;
  bus_.cfg_write32(pci::kCommandStatus, cmd | pci::kCmdMemorySpace | pci::kCmdBusMaster);
  auto disable = [this] {
    const uint32_t c = bus_.cfg_read32(pci::kCommandStatus) & 0xFFFF;
    bus_.cfg_write32(pci::kCommandStatus, c & ~uint32_t{pci::kCmdMemorySpace | pci::kCmdBusMaster});
  };
  const uint32_t id = co_await mmio_read(regs::kId.offset);
  if (id != regs::kDeviceId) {
    logf(fmt::format("probe: BAR0 ID register reads 0x{:08x}, expected 0x{:08x}", id, regs::kDeviceId));
    disable();
    co_return -stack::kENODEV;
  }
  const uint32_t ver = co_await mmio_read(regs::kVersionReg.offset);
  if (regs::version::kMajor.get(ver) != regs::version::kMajor.get(regs::kVersion)) {
    logf(fmt::format("probe: unsupported device version {}.{}", regs::version::kMajor.get(ver),
                     regs::version::kMinor.get(ver)));
    disable();
    co_return -stack::kENODEV;
  }
  if (const int rc = co_await reset_and_wait(); rc != 0) {
    disable();
    co_return rc;
  }
  const uint32_t cap = co_await mmio_read(regs::kCap.offset);
  num_qp_ = regs::cap::kNumQp.get(cap);
  const unsigned vec_cap = regs::cap::kNumVec.get(cap);
  if (num_qp_ == 0 || vec_cap < num_qp_ + 1) {
    logf(fmt::format("probe: CAP 0x{:08x} reports no usable queue pair or too few vectors", cap));
    disable();
    co_return -stack::kENODEV;
  }
  const uint32_t lo = co_await mmio_read(regs::kMacLo.offset);
  const uint32_t hi = co_await mmio_read(regs::kMacHi.offset);
  perm_addr_ = model::MacAddr::from_words(lo, hi);
  if (perm_addr_.is_multicast() || perm_addr_ == model::MacAddr{}) {
    logf(fmt::format("probe: invalid permanent MAC address {}", perm_addr_.str()));
    disable();
    co_return -stack::kEIO;
  }
  dev_addr = perm_addr_;
  // One vector per queue pair, then the link/error vector; this driver uses queue pair 0.
  nvec_ = bus_.alloc_irq_vectors(num_qp_ + 1);
  if (nvec_ < num_qp_ + 1) {
    logf(fmt::format("probe: could not allocate {} MSI-X vectors", num_qp_ + 1));
    if (nvec_ > 0) bus_.free_irq_vectors();
    nvec_ = 0;
    disable();
    co_return -stack::kENOMEM;
  }
  sd_.netif_napi_add(napi_, &VnicDriver::napi_poll, this, cfg_.napi_weight);
  probed_ = true;
  logf(fmt::format("{}: {} queue pair(s), {} MSI-X vectors, version {}.{}", perm_addr_.str(), num_qp_, nvec_,
                   regs::version::kMajor.get(ver), regs::version::kMinor.get(ver)));
  co_return 0;
}

Co<void> VnicDriver::remove() {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  if (!probed_) co_return;
  if (up) (void)co_await do_stop();
  (void)co_await reset_and_wait();  // quiesce before the function loses bus mastering
  bus_.free_irq_vectors();
  nvec_ = 0;
  const uint32_t c = bus_.cfg_read32(pci::kCommandStatus) & 0xFFFF;
  bus_.cfg_write32(pci::kCommandStatus, c & ~uint32_t{pci::kCmdMemorySpace | pci::kCmdBusMaster});
  probed_ = false;
  logf("removed");
}

// ------------------------------------------------------------------------------ open / stop

uint32_t VnicDriver::rx_buf_size() const {
  // MTU + Ethernet header + VLAN tag + FCS, rounded up to 1 KiB (2048 for the default MTU).
  const uint32_t need = mtu + 14 + 4 + 4;
  return (need + 1023) / 1024 * 1024;
}

int VnicDriver::alloc_rings() {
  tx_ring_ = bus_.dma_alloc_coherent(uint64_t{cfg_.tx_ring} * model::kDescSize);
  rx_ring_ = bus_.dma_alloc_coherent(uint64_t{cfg_.rx_ring} * model::kDescSize);
  if (tx_ring_ == 0 || rx_ring_ == 0) {
    free_rings();
    return -stack::kENOMEM;
  }
  std::ranges::fill(bus_.cpu_view(tx_ring_, uint64_t{cfg_.tx_ring} * model::kDescSize), uint8_t{0});
  std::ranges::fill(bus_.cpu_view(rx_ring_, uint64_t{cfg_.rx_ring} * model::kDescSize), uint8_t{0});
  tx_slots_.assign(cfg_.tx_ring, TxSlot{});
  rx_slots_.assign(cfg_.rx_ring, RxSlot{});
  const uint32_t bs = rx_buf_size();
  for (RxSlot& s : rx_slots_) {
    const stack::PageAllocator::Block b = bus_.pages().alloc(bs, 64);
    if (b.addr == 0) {
      free_rings();
      return -stack::kENOMEM;
    }
    s.addr = b.addr;
    s.dma = bus_.dma_map_single(b.addr, bs, DmaDir::FromDevice);
    if (s.dma == 0) {
      free_rings();
      return -stack::kENOMEM;
    }
  }
  return 0;
}

void VnicDriver::free_rings() {
  for (RxSlot& s : rx_slots_) {
    if (s.dma != 0) bus_.dma_unmap_single(s.dma);
    if (s.addr != 0) bus_.pages().free(s.addr);
  }
  rx_slots_.clear();
  for (TxSlot& s : tx_slots_) {
    if (s.skb == nullptr) continue;
    bus_.dma_unmap_single(s.dma);
    stack::kfree_skb(s.skb);
  }
  tx_slots_.clear();
  if (tx_ring_ != 0) bus_.dma_free_coherent(tx_ring_);
  if (rx_ring_ != 0) bus_.dma_free_coherent(rx_ring_);
  tx_ring_ = rx_ring_ = 0;
}

// The moderation the queue pair starts with: the static values, or for an adaptive direction
// net_dim's default profile (mlx5e_reset_rx_moderation / _tx_: what mlx5e_open_cq programs), from
// which the dim work moves it.
void VnicDriver::write_coalesce() {
  const auto& c = cfg_.coalesce;
  if (c.use_adaptive_rx_coalesce) {
    const stack::DimCqModer m = stack::net_dim_get_def_rx_moderation(kDimCqPeriodMode);
    write_rx_moder(m.usec, m.pkts);
  } else {
    write_rx_moder(c.rx_coalesce_usecs, c.rx_max_coalesced_frames);
  }
  if (c.use_adaptive_tx_coalesce) {
    const stack::DimCqModer m = stack::net_dim_get_def_tx_moderation(kDimCqPeriodMode);
    write_tx_moder(m.usec, m.pkts);
  } else {
    write_tx_moder(c.tx_coalesce_usecs, c.tx_max_coalesced_frames);
  }
}

void VnicDriver::write_rx_moder(uint32_t usecs, uint32_t frames) {
  wr(regs::kRxUsecs.offset_of(0), usecs);
  wr(regs::kRxFrames.offset_of(0), frames);
}

void VnicDriver::write_tx_moder(uint32_t usecs, uint32_t frames) {
  wr(regs::kTxUsecs.offset_of(0), usecs);
  wr(regs::kTxFrames.offset_of(0), frames);
}

// ------------------------------------------------------------------------------ adaptive moderation
//
// mlx5's scheme (en_txrx.c, en_dim.c, Linux 6.1): at the end of a NAPI poll that completes, each
// adaptive queue gives net_dim a sample (its vector's interrupt count, its packets and bytes, the
// time); when net_dim picks a new profile it schedules the queue's dim work, which programs the
// profile into the device and sets the dim back to measuring. Until then net_dim ignores samples.

void VnicDriver::reset_dims() {
  // mlx5 opens new channels (kvzalloc'd: a zeroed struct dim, profile_ix 0) whose CQs run the
  // default profile; dim.mode follows the CQ period mode (mlx5e_alloc_rq, mlx5e_alloc_txqsq).
  cancel_dim_work();
  rx_dim_ = stack::Dim{};
  tx_dim_ = stack::Dim{};
  rx_dim_.mode = tx_dim_.mode = kDimCqPeriodMode;
  dim_on_ = cfg_.coalesce.use_adaptive_rx_coalesce || cfg_.coalesce.use_adaptive_tx_coalesce;
  if (dim_trace_ != nullptr) {
    for (const bool tx : {false, true}) {
      DimTraceEntry e;
      e.kind = DimTraceEntry::Kind::Reset;
      e.tx = tx;
      dim_trace_->push_back(e);
    }
  }
}

void VnicDriver::cancel_dim_work() {
  for (uint64_t* h : {&rx_dim_work_, &tx_dim_work_}) {
    if (*h != 0) cpu_.cancel(*h);
    *h = 0;
  }
}

void VnicDriver::net_dim_samples() {
  // dim_update_sample: ktime_get(), the CQ's event counter (u16), the queue's packets and bytes.
  // One vector serves the queue pair, so both dims count its interrupts (mlx5: each CQ's events).
  const stack::Instant now = cpu_.now();
  const auto events = static_cast<uint16_t>(stat(DrvStat::irq_queue_0));
  if (cfg_.coalesce.use_adaptive_tx_coalesce) {  // mlx5e_handle_tx_dim, then the RX one
    stack::DimSample s;
    s.time = now;
    s.pkt_ctr = static_cast<uint32_t>(stat(DrvStat::tx_queue_0_packets));
    s.byte_ctr = static_cast<uint32_t>(stat(DrvStat::tx_queue_0_bytes));
    s.event_ctr = events;
    feed_dim(true, s);
  }
  if (cfg_.coalesce.use_adaptive_rx_coalesce) {
    stack::DimSample s;
    s.time = now;
    s.pkt_ctr = static_cast<uint32_t>(stat(DrvStat::rx_queue_0_packets));
    s.byte_ctr = static_cast<uint32_t>(stat(DrvStat::rx_queue_0_bytes));
    s.event_ctr = events;
    feed_dim(false, s);
  }
}

void VnicDriver::feed_dim(bool tx, const stack::DimSample& s) {
  stack::Dim& dim = tx ? tx_dim_ : rx_dim_;
  const bool apply = stack::net_dim(dim, s);
  if (dim_trace_ != nullptr) [[unlikely]] {
    DimTraceEntry e;
    e.kind = DimTraceEntry::Kind::Sample;
    e.tx = tx;
    e.sample = s;
    e.profile_ix = dim.profile_ix;
    e.scheduled = apply;
    dim_trace_->push_back(e);
  }
  if (!apply) return;
  // schedule_work(&dim->work): a work item on this CPU, run after the softirq (process context).
  (tx ? tx_dim_work_ : rx_dim_work_) =
      cpu_.call_at(cpu_.now(), tx ? &VnicDriver::tx_dim_work : &VnicDriver::rx_dim_work, this);
}

void VnicDriver::rx_dim_work(void* ctx, uint64_t) { static_cast<VnicDriver*>(ctx)->dim_work(false); }
void VnicDriver::tx_dim_work(void* ctx, uint64_t) { static_cast<VnicDriver*>(ctx)->dim_work(true); }

// mlx5e_rx_dim_work / mlx5e_tx_dim_work: program the chosen profile, measure again.
void VnicDriver::dim_work(bool tx) {
  stack::Dim& dim = tx ? tx_dim_ : rx_dim_;
  (tx ? tx_dim_work_ : rx_dim_work_) = 0;
  const stack::DimCqModer m = tx ? stack::net_dim_get_tx_moderation(dim.mode, dim.profile_ix)
                                 : stack::net_dim_get_rx_moderation(dim.mode, dim.profile_ix);
  if (tx) {
    write_tx_moder(m.usec, m.pkts);  // mlx5_core_modify_cq_moderation
  } else {
    write_rx_moder(m.usec, m.pkts);
  }
  dim.state = stack::DimState::StartMeasure;
  bump(tx ? DrvStat::tx_queue_0_dim_changes : DrvStat::rx_queue_0_dim_changes);
  if (dim_trace_ != nullptr) {
    DimTraceEntry e;
    e.kind = DimTraceEntry::Kind::Work;
    e.tx = tx;
    e.profile_ix = dim.profile_ix;
    e.moder = m;
    dim_trace_->push_back(e);
  }
}

void VnicDriver::write_rx_desc(uint32_t i) {
  model::RxDesc d;
  d.buf_addr = rx_slots_[i].dma;
  model::encode(d, bus_.cpu_view(rx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize)
                       .first<model::kDescSize>());
}

void VnicDriver::program_device() {
  wr(regs::kMacLo.offset, dev_addr.lo_word());
  wr(regs::kMacHi.offset, dev_addr.hi_word());
  wr(regs::kMaxFrame.offset, mtu + 14 + 4);
  set_rx_mode();
  wr(regs::kRxqBaseLo.offset_of(0), static_cast<uint32_t>(rx_ring_));
  wr(regs::kRxqBaseHi.offset_of(0), static_cast<uint32_t>(rx_ring_ >> 32));
  wr(regs::kRxqSize.offset_of(0), cfg_.rx_ring);
  wr(regs::kRxqBufSize.offset_of(0), rx_buf_size());
  wr(regs::kTxqBaseLo.offset_of(0), static_cast<uint32_t>(tx_ring_));
  wr(regs::kTxqBaseHi.offset_of(0), static_cast<uint32_t>(tx_ring_ >> 32));
  wr(regs::kTxqSize.offset_of(0), cfg_.tx_ring);
  write_coalesce();
}

Co<int> VnicDriver::open() {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  co_return co_await do_open();
}

Co<int> VnicDriver::do_open() {
  if (!probed_) co_return -stack::kENODEV;
  if (up) co_return 0;
  if (const int rc = alloc_rings(); rc != 0) {
    logf(fmt::format("open: cannot allocate rings of {} RX / {} TX descriptors", cfg_.rx_ring, cfg_.tx_ring));
    co_return rc;
  }
  if (!bus_.request_irq(0, &VnicDriver::queue_irq, this) || !bus_.request_irq(num_qp_, &VnicDriver::misc_irq, this)) {
    bus_.free_irq(0);
    bus_.free_irq(num_qp_);
    free_rings();
    logf("open: request_irq failed");
    co_return -stack::kEBUSY;
  }
  reset_dims();  // new channels, new dims (before the first poll can sample)
  program_device();
  // Give the device every RX buffer but one (a full ring would look empty).
  for (uint32_t i = 0; i + 1 < cfg_.rx_ring; ++i) write_rx_desc(i);
  tx_ntu_ = tx_ntc_ = tail_written_ = 0;
  stopping_ = false;  // before the unmask below: a poll from here on re-enables the interrupt
  rx_ntc_ = 0;
  rx_tail_ = cfg_.rx_ring - 1;
  rx_to_refill_ = 0;
  sd_.napi_enable(napi_);
  wr(regs::kRxqTail.offset_of(0), rx_tail_ % cfg_.rx_ring);
  wr(regs::kRxqCtrl.offset_of(0), 1);
  wr(regs::kTxqCtrl.offset_of(0), 1);
  wr(regs::kImaskClr.offset, (1u << nvec_) - 1);
  wr(regs::kCtrl.offset, regs::ctrl::kEn.mask());
  status_ = co_await mmio_read(regs::kStatus.offset);
  carrier = regs::status::kLinkUp.get(status_) != 0;
  up = true;
  netdev_tx_reset_queue(jiffies_now());
  trans_start = cpu_.now();
  watchdog_.start();
  netif_tx_wake_queue();  // whoever waited on the queue (pktgen after a reset) goes on
  logf(carrier ? fmt::format("Link is Up - {}Mbps/Full - flow control off",
                             regs::status::speed_mbps(regs::status::kSpeed.get(status_)))
               : std::string("Link is Down"));
  co_return 0;
}

Co<int> VnicDriver::stop() {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  co_return co_await do_stop();
}

Co<int> VnicDriver::do_stop() {
  if (!up) co_return 0;
  up = false;
  stopping_ = true;
  watchdog_.stop();
  netif_tx_stop_queue();  // netif_tx_disable: no new packets
  carrier = false;
  // Let the device send what the ring holds: wait until its head reaches our tail (or time out,
  // e.g. when the device cannot fetch: those packets are flushed below and counted).
  const stack::Instant deadline = cpu_.now() + cfg_.tx_drain_timeout;
  while (tx_ntc_ != tx_ntu_) {
    const uint32_t head = co_await mmio_read(regs::kTxqHead.offset_of(0));
    if (head == tx_ntu_ % cfg_.tx_ring || cpu_.now() >= deadline) break;
    co_await stack::sleep(cpu_, Duration::us(10));
  }
  wr(regs::kImaskSet.offset, (1u << nvec_) - 1);
  wr(regs::kTxqCtrl.offset_of(0), 0);
  wr(regs::kRxqCtrl.offset_of(0), 0);
  wr(regs::kCtrl.offset, 0);
  co_await sd_.napi_disable(napi_);
  cancel_dim_work();  // cancel_work_sync(&dim->work), as mlx5e_close_rq / _txqsq after NAPI is off
  // Write-backs already issued land within a few microseconds; collect them before the reset.
  co_await stack::sleep(cpu_, Duration::us(10));
  // Reset: the device abandons DMA and messages in flight, so buffers can be freed safely.
  (void)co_await reset_and_wait();
  bus_.free_irq(0);
  bus_.free_irq(num_qp_);
  clean_tx();  // what completed is counted as sent
  const uint32_t rs = cfg_.rx_ring;
  for (uint32_t n = tx_ntc_; n != tx_ntu_; ++n) {
    TxSlot& s = tx_slots_[n % cfg_.tx_ring];
    bus_.dma_unmap_single(s.dma);
    stack::kfree_skb(s.skb);
    s = TxSlot{};
    bump(DrvStat::tx_queue_0_flushed);
  }
  tx_ntc_ = tx_ntu_;
  netdev_tx_reset_queue(jiffies_now());
  for (uint32_t n = rx_ntc_; n != rx_tail_; ++n) {
    const uint32_t i = n % rs;
    const model::RxDesc d = model::decode_rx(
        bus_.cpu_view(rx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize).first<model::kDescSize>());
    if (d.done()) bump(DrvStat::rx_queue_0_flushed);
  }
  free_rings();
  logf("down");
  co_return 0;
}

// ------------------------------------------------------------------------------ interrupts and NAPI

void VnicDriver::queue_irq(void* ctx, unsigned) {
  auto& d = *static_cast<VnicDriver*>(ctx);
  d.bump(DrvStat::irq_queue_0);
  d.wr(regs::kImaskSet.offset, 1u << 0);  // no more interrupts from this vector until the poll is done
  d.emit(stack::TraceKind::NapiSchedule, 0, 0);
  d.sd_.napi_schedule(d.napi_);
}

void VnicDriver::misc_irq(void* ctx, unsigned) {
  auto& d = *static_cast<VnicDriver*>(ctx);
  d.bump(DrvStat::irq_misc);
  if (d.misc_work_pending_) {
    d.misc_work_again_ = true;  // queued again while it runs: it runs once more (a work item)
    return;
  }
  d.misc_work_pending_ = true;
  d.cpu_.call_at(d.cpu_.now(), &VnicDriver::misc_work_thunk, &d);  // schedule_work
}

void VnicDriver::misc_work_thunk(void* ctx, uint64_t) {
  auto& d = *static_cast<VnicDriver*>(ctx);
  d.tasks_.spawn(d.misc_work());
}

Co<void> VnicDriver::misc_work() {
  do {
    misc_work_again_ = false;
    co_await misc_work_once();
  } while (misc_work_again_);
  misc_work_pending_ = false;
}

Co<void> VnicDriver::misc_work_once() {
  const uint32_t icr = co_await mmio_read(regs::kIcr.offset);
  wr(regs::kIcr.offset, icr);  // write 1 to clear what was seen
  if ((icr & regs::kIcrLink) != 0) {
    status_ = co_await mmio_read(regs::kStatus.offset);
    const bool link = regs::status::kLinkUp.get(status_) != 0;
    bump(DrvStat::link_changes);
    if (up && link != carrier) {
      carrier = link;
      logf(link ? fmt::format("Link is Up - {}Mbps/Full - flow control off",
                              regs::status::speed_mbps(regs::status::kSpeed.get(status_)))
                : std::string("Link is Down"));
    }
  }
  if ((icr & regs::kIcrErr) != 0) {
    const uint32_t cause = co_await mmio_read(regs::kErrCause.offset);
    const uint32_t alo = co_await mmio_read(regs::kErrAddrLo.offset);
    const uint32_t ahi = co_await mmio_read(regs::kErrAddrHi.offset);
    wr(regs::kErrCause.offset, cause);
    bump(DrvStat::device_errors, static_cast<uint64_t>(std::popcount(cause)));
    std::string what;
    for (const auto& f : regs::kErrCauseFields) {
      if (f.get(cause) != 0) what += (what.empty() ? "" : ",") + std::string(f.name);
    }
    logf(fmt::format("device error: ERR_CAUSE 0x{:08x} ({}) at address 0x{:x}", cause, what,
                     (uint64_t{ahi} << 32) | alo));
    // A refused DMA, a refused ring or an ignored tail leaves a queue stopped or out of step
    // with the driver: only a reset brings it back. A dropped malformed frame or a bad register
    // access leaves the queues running.
    const uint32_t fatal = regs::err_cause::kRxDma.mask() | regs::err_cause::kTxDma.mask() |
                           regs::err_cause::kRingCfg.mask() | regs::err_cause::kTail.mask();
    if ((cause & fatal) != 0) schedule_reset("device error");
  }
}

int VnicDriver::napi_poll(stack::Napi* n, int budget) {
  auto& d = *static_cast<VnicDriver*>(n->owner);
  d.bump(DrvStat::rx_queue_0_polls);
  d.clean_tx();
  const int work = d.clean_rx(budget);
  if (d.rx_to_refill_ > 0) d.refill_rx(d.rx_to_refill_, true);
  if (work >= budget) {
    d.bump(DrvStat::rx_queue_0_full_polls);
    return budget;  // stay scheduled; the vector stays masked
  }
  // Re-enable the interrupt unless the interface is going down (stop() masked it). Not `up`:
  // open() unmasks before it sets `up`, and a poll in between must not leave the vector masked.
  if (d.sd_.napi_complete_done(*n, work) && !d.stopping_) {
    if (d.dim_on_) d.net_dim_samples();  // mlx5e_napi_poll: dim, then arm the CQs
    d.wr(regs::kImaskClr.offset, 1u << 0);
    d.emit(stack::TraceKind::IrqEnable, 0, 0);
  }
  return work;
}

void VnicDriver::clean_tx() {
  if (tx_slots_.empty()) return;
  const auto& costs = cpu_.costs();
  unsigned pkts = 0, bytes_done = 0;
  while (tx_ntc_ != tx_ntu_) {
    const uint32_t i = tx_ntc_ % cfg_.tx_ring;
    auto bytes = bus_.cpu_view(tx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize);
    const model::TxDesc desc = model::decode_tx(bytes.first<model::kDescSize>());
    if (!desc.done()) break;
    cpu_.charge(costs.tx_clean + costs.dma_map + costs.skb_free);
    TxSlot& s = tx_slots_[i];
    if (desc.errors != 0) {
      bump(DrvStat::tx_queue_0_desc_errors);
    } else {
      bump(DrvStat::tx_queue_0_packets);
      bump(DrvStat::tx_queue_0_bytes, s.len);
    }
    ++pkts;
    bytes_done += s.len;
    bus_.dma_unmap_single(s.dma);
    emit(stack::TraceKind::TxClean, s.len, desc.errors, s.skb->trace_id);
    stack::consume_skb(s.skb);  // sent (napi_consume_skb), not a drop
    s = TxSlot{};
    std::ranges::fill(bytes, uint8_t{0});
    ++tx_ntc_;
  }
  if (pkts > 0) netdev_tx_completed_queue(pkts, bytes_done, jiffies_now());
  if (tx_ntc_ == tx_ntu_ && !netif_xmit_stopped()) watchdog_.idle();
  const uint32_t wake = std::min(cfg_.tx_wake_threshold, cfg_.tx_ring / 2);
  if (up && tx_queue_stopped() && tx_free() >= wake) {
    bump(DrvStat::tx_queue_0_restarts);
    emit(stack::TraceKind::TxWake, 0, 0);
    netif_tx_wake_queue();
  }
}

int VnicDriver::clean_rx(int budget) {
  if (rx_slots_.empty()) return 0;
  const auto& costs = cpu_.costs();
  const uint32_t bs = rx_buf_size();
  int work = 0;
  while (work < budget) {
    const uint32_t i = rx_ntc_ % cfg_.rx_ring;
    auto bytes = bus_.cpu_view(rx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize);
    const model::RxDesc desc = model::decode_rx(bytes.first<model::kDescSize>());
    if (!desc.done()) break;
    cpu_.charge(costs.rx_packet);
    const uint32_t len = desc.length;
    const uint64_t id = tags_ != nullptr ? tags_->take(rx_slots_[i].addr) : 0;
    emit(stack::TraceKind::RxPoll, len, i, id);
    const bool deliver_flagged = desc.errors != 0 && feat_rx_all;
    if ((desc.errors != 0 && !deliver_flagged) || len < 14 || len > bs) {
      bump(DrvStat::rx_queue_0_errors);
      emit(stack::TraceKind::RxDrop, len, model::host_drop(model::HostDrop::RxErrors), id, model::ingress(9));
    } else if (SkBuff* skb = skbs_.alloc(len); skb == nullptr) {
      cpu_.charge(costs.skb_alloc);
      bump(DrvStat::rx_queue_0_alloc_failed);
      emit(stack::TraceKind::RxDrop, len, model::host_drop(model::HostDrop::RxAllocFailed), id, model::ingress(10));
    } else {
      // Copy out of the (still mapped, recycled) RX buffer into the skb.
      cpu_.charge(costs.skb_alloc + costs.copy_per_kib * ((len + 1023) / 1024));
      std::memcpy(skb->head + skb->data, bus_.cpu_view(rx_slots_[i].addr, len).data(), len);
      skb->tstamp = cpu_.now();
      skb->trace_id = id;
      emit(stack::TraceKind::SkbAlloc, len, 0, id);
      stack::eth_type_trans(*skb, *this);
      emit(stack::TraceKind::EthTypeTrans, skb->protocol, 0, id);
      bump(DrvStat::rx_queue_0_packets);
      bump(DrvStat::rx_queue_0_bytes, len);
      if (deliver_flagged) bump(DrvStat::rx_queue_0_flagged);
      if (cfg_.rx_handoff == RxHandoff::ReceiveSkb) {
        sd_.napi_gro_receive(napi_, skb);  // GRO, then netif_receive_skb (dev->gro off: at once)
      } else {
        sd_.netif_rx(skb);
      }
    }
    std::ranges::fill(bytes, uint8_t{0});
    ++rx_ntc_;
    ++work;
    if (++rx_to_refill_ >= cfg_.rx_refill_batch) refill_rx(rx_to_refill_, true);
  }
  return work;
}

void VnicDriver::refill_rx(uint32_t n, bool doorbell) {
  for (uint32_t k = 0; k < n; ++k) {
    cpu_.charge(cpu_.costs().rx_refill);
    write_rx_desc(rx_tail_ % cfg_.rx_ring);
    ++rx_tail_;
  }
  rx_to_refill_ -= n;
  if (doorbell) wr(regs::kRxqTail.offset_of(0), rx_tail_ % cfg_.rx_ring);
}

// ------------------------------------------------------------------------------ transmit

stack::NetdevTx VnicDriver::start_xmit(SkBuff* skb, bool xmit_more) {
  const auto& costs = cpu_.costs();
  cpu_.charge(costs.tx_xmit);
  if (!up || tx_free() == 0) {
    // The queue should have been stopped before it filled: NETDEV_TX_BUSY, the caller requeues.
    netif_tx_stop_queue();
    bump(DrvStat::tx_queue_0_busy);
    return stack::NetdevTx::Busy;
  }
  cpu_.charge(costs.dma_map);
  const uint64_t dma = bus_.dma_map_single(skb->data_addr(), skb->len, DmaDir::ToDevice);
  if (dma == 0) {
    bump(DrvStat::tx_queue_0_map_errors);
    emit(stack::TraceKind::TxDropped, skb->len, model::host_drop(model::HostDrop::TxMapErrors), skb->trace_id,
         model::egress(15));
    stack::kfree_skb(skb);
    // Packets queued before this one with xmit_more still need their doorbell.
    if (!xmit_more && tail_written_ != tx_ntu_) {
      bump(DrvStat::tx_queue_0_doorbells);
      wr(regs::kTxqTail.offset_of(0), tx_ntu_ % cfg_.tx_ring);
      tail_written_ = tx_ntu_;
    }
    return stack::NetdevTx::Ok;  // dropped and counted, as drivers do on a mapping error
  }
  emit(stack::TraceKind::TxMap, skb->len, dma, skb->trace_id);
  if (tags_ != nullptr) tags_->put(dma, skb->trace_id);
  const uint32_t i = tx_ntu_ % cfg_.tx_ring;
  model::TxDesc d;
  d.buf_addr = dma;
  d.length = static_cast<uint16_t>(skb->len);
  d.cmd = model::TxDesc::kCmdEop | model::TxDesc::kCmdRs;
  model::encode(d, bus_.cpu_view(tx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize)
                       .first<model::kDescSize>());
  tx_slots_[i] = TxSlot{skb, dma, skb->len};
  ++tx_ntu_;
  emit(stack::TraceKind::TxRing, skb->len, i, skb->trace_id);
  trans_start = cpu_.now();
  watchdog_.kick();
  const bool kick = netdev_tx_sent_queue(skb->len, xmit_more, jiffies_now());
  if (tx_free() < cfg_.tx_stop_threshold) {
    bump(DrvStat::tx_queue_0_stops);
    netif_tx_stop_queue();
  }
  if (kick || netif_xmit_stopped()) {
    bump(DrvStat::tx_queue_0_doorbells);
    emit(stack::TraceKind::TxDoorbell, tx_ntu_ % cfg_.tx_ring, 0);
    wr(regs::kTxqTail.offset_of(0), tx_ntu_ % cfg_.tx_ring);
    tail_written_ = tx_ntu_;
  }
  return stack::NetdevTx::Ok;
}

// ------------------------------------------------------------------------------ ethtool

Co<int> VnicDriver::set_coalesce(stack::EthtoolCoalesce c) {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  const uint32_t lim = regs::usecs::kUsecs.mask();
  if (c.rx_coalesce_usecs > lim || c.tx_coalesce_usecs > lim || c.rx_max_coalesced_frames > lim ||
      c.tx_max_coalesced_frames > lim) {
    logf(fmt::format("set_coalesce: values above {} are not supported", lim));
    co_return -stack::kEINVAL;
  }
  // mlx5e_ethtool_set_coalesce: switching adaptive on or off in either direction rebuilds the
  // channels (mlx5e_safe_switch_params with reset): both dims start over, each CQ gets the default
  // profile (adaptive) or the static values. Here the queues keep running and only the dims and
  // the moderation registers start over. Otherwise the static values of a non-adaptive direction
  // are written on the fly; an adaptive one keeps what its dim work programmed (the values given
  // are kept, get_coalesce reports them, and they return when adaptive goes off).
  const bool restart = c.use_adaptive_rx_coalesce != cfg_.coalesce.use_adaptive_rx_coalesce ||
                       c.use_adaptive_tx_coalesce != cfg_.coalesce.use_adaptive_tx_coalesce;
  cfg_.coalesce = c;
  if (!up) co_return 0;  // open() starts the dims and programs the device
  // The device uses the new values from the next completion on.
  if (restart) {
    reset_dims();
    write_coalesce();
  } else {
    if (!c.use_adaptive_rx_coalesce) write_rx_moder(c.rx_coalesce_usecs, c.rx_max_coalesced_frames);
    if (!c.use_adaptive_tx_coalesce) write_tx_moder(c.tx_coalesce_usecs, c.tx_max_coalesced_frames);
  }
  co_return 0;
}

stack::EthtoolRingparam VnicDriver::get_ringparam() const {
  return stack::EthtoolRingparam{regs::kMaxRingSize, regs::kMaxRingSize, cfg_.rx_ring, cfg_.tx_ring};
}

stack::EthtoolLinkSettings VnicDriver::get_link_ksettings() const {
  stack::EthtoolLinkSettings s;
  s.link = carrier;
  s.speed_mbps = carrier ? regs::status::speed_mbps(regs::status::kSpeed.get(status_)) : 0;
  return s;
}

stack::EthtoolDrvinfo VnicDriver::get_drvinfo() const {
  return stack::EthtoolDrvinfo{"vnic", "1.0", bus_.bus_info(), kNumDrvStats + regs::kNumStats};
}

std::vector<stack::EthtoolStat> VnicDriver::get_ethtool_stats() const {
  std::vector<stack::EthtoolStat> v;
  v.reserve(kNumDrvStats + regs::kNumStats);
  for (unsigned i = 0; i < kNumDrvStats; ++i) v.emplace_back(kDrvStatNames[i], stat(static_cast<DrvStat>(i)));
  for (unsigned i = 0; i < regs::kNumStats; ++i) v.emplace_back(std::string(regs::kStatInfo[i].name), hw_stats_[i]);
  return v;
}

uint64_t VnicDriver::stat(DrvStat s) const {
  switch (s) {
    case DrvStat::tx_queue_0_bql_stops: return bql_stops;
    // NAPI's GRO counters (napi_gro_receive / napi_gro_complete, software GRO)
    case DrvStat::rx_queue_0_gro_packets: return napi_.gro_packets;
    case DrvStat::rx_queue_0_gro_payload_bytes: return napi_.gro_bytes;
    case DrvStat::rx_queue_0_gro_skbs: return napi_.gro_skbs;
    case DrvStat::rx_queue_0_gro_held: return napi_.gro_held;
    case DrvStat::rx_queue_0_gro_normal: return napi_.gro_normal;
    // validate_xmit_skb's software GSO for this device (the device has no TSO)
    case DrvStat::tx_queue_0_gso_skbs: return gso_skbs_core;
    case DrvStat::tx_queue_0_gso_segments: return gso_segments_core;
    case DrvStat::tx_queue_0_gso_failed: return gso_failed_core;
    default: return stats_[static_cast<unsigned>(s)];
  }
}

Co<void> VnicDriver::update_hw_stats() {
  if (!probed_) co_return;
  for (unsigned i = 0; i < regs::kNumStats; ++i) {
    const uint32_t lo = co_await mmio_read(regs::kStatLo.offset_of(i));
    const uint32_t hi = co_await mmio_read(regs::kStatHi.offset_of(i));
    hw_stats_[i] = (uint64_t{hi} << 32) | lo;
  }
}

void VnicDriver::set_rx_mode() {
  if (!probed_) return;
  uint32_t ctrl = regs::rx_ctrl::kBcast.mask();  // broadcast
  if (promisc) ctrl |= regs::rx_ctrl::kPromisc.mask();
  if (allmulti) ctrl |= regs::rx_ctrl::kAllmulti.mask();
  if (feat_rx_fcs) ctrl |= regs::rx_ctrl::kRxFcs.mask();
  if (feat_rx_all) ctrl |= regs::rx_ctrl::kRxAll.mask();
  uint64_t hash = 0;
  for (const model::MacAddr& a : mc_list) {
    if (a.is_multicast()) hash |= uint64_t{1} << model::mc_hash_index(a);
  }
  wr(regs::kMcHashLo.offset, static_cast<uint32_t>(hash));
  wr(regs::kMcHashHi.offset, static_cast<uint32_t>(hash >> 32));
  wr(regs::kRxCtrl.offset, ctrl);
}

Co<int> VnicDriver::set_features(bool rx_fcs, bool rx_all) {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  feat_rx_fcs = rx_fcs;
  feat_rx_all = rx_all;
  if (up) set_rx_mode();
  co_return 0;
}

Co<int> VnicDriver::set_mac_address(model::MacAddr a) {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  if (a.is_multicast() || a == model::MacAddr{}) co_return -stack::kEADDRNOTAVAIL;
  dev_addr = a;
  if (up) {
    wr(regs::kMacLo.offset, dev_addr.lo_word());
    wr(regs::kMacHi.offset, dev_addr.hi_word());
  }
  co_return 0;
}

Co<int> VnicDriver::change_mtu(uint32_t new_mtu) {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  if (new_mtu < kMinMtu || new_mtu > kMaxMtu) co_return -stack::kEINVAL;
  if (new_mtu == mtu) co_return 0;
  logf(fmt::format("changing MTU from {} to {}", mtu, new_mtu));
  if (!up) {
    mtu = new_mtu;
    co_return 0;
  }
  // New RX buffer size and MAX_FRAME: down, change, up (the rings are rebuilt).
  (void)co_await do_stop();
  mtu = new_mtu;
  co_return co_await do_open();
}

Co<int> VnicDriver::set_ringparam(uint32_t rx, uint32_t tx) {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  auto ok = [](uint32_t n) { return n >= regs::kMinRingSize && n <= regs::kMaxRingSize && (n & (n - 1)) == 0; };
  if (!ok(rx) || !ok(tx)) {
    logf(fmt::format("set_ringparam: rx {} / tx {}: sizes must be powers of two from {} to {}", rx, tx,
                     regs::kMinRingSize, regs::kMaxRingSize));
    co_return -stack::kEINVAL;
  }
  if (rx == cfg_.rx_ring && tx == cfg_.tx_ring) co_return 0;
  if (!up) {
    cfg_.rx_ring = rx;
    cfg_.tx_ring = tx;
    co_return 0;
  }
  logf(fmt::format("changing rings: rx {} -> {}, tx {} -> {}", cfg_.rx_ring, rx, cfg_.tx_ring, tx));
  // Quiesce (the TX ring drains, unpolled RX is counted), swap, restart.
  (void)co_await do_stop();
  cfg_.rx_ring = rx;
  cfg_.tx_ring = tx;
  co_return co_await do_open();
}

void VnicDriver::tx_timeout(Duration stalled) {
  bump(DrvStat::tx_timeout);
  emit(stack::TraceKind::TxTimeout, 0, static_cast<uint64_t>(stalled.ps() / 1000'000'000));
  logf(fmt::format("NETDEV WATCHDOG: {} (vnic): transmit queue 0 timed out {} ms", name,
                   stalled.ps() / 1000'000'000));
  logf(fmt::format("TX timeout: head/tail {} in flight, {} free", tx_in_flight(), tx_free()));
  schedule_reset("TX timeout");
}

void VnicDriver::schedule_reset(const char* why) {
  if (reset_pending_ || !up) return;
  reset_pending_ = true;
  logf(fmt::format("resetting the device after a {}", why));
  cpu_.call_at(cpu_.now(), &VnicDriver::reset_work_thunk, this);
}

void VnicDriver::reset_work_thunk(void* ctx, uint64_t) {
  auto& d = *static_cast<VnicDriver*>(ctx);
  d.tasks_.spawn(d.reset_work());
}

Co<void> VnicDriver::reset_work() {
  co_await rtnl_.lock();
  stack::AsyncMutex::Guard g(rtnl_);
  bump(DrvStat::resets);
  emit(stack::TraceKind::Reset, 0, 0);
  if (up) {
    (void)co_await do_stop();
    const int rc = co_await do_open();
    if (rc != 0) logf(fmt::format("reset: open failed ({})", rc));
  }
  reset_pending_ = false;
}

stack::LinkStats64 VnicDriver::get_stats64() const {
  using S = regs::Stat;
  auto hw = [this](S s) { return hw_stats_[static_cast<unsigned>(s)]; };
  stack::LinkStats64 s;
  s.rx_packets = stat(DrvStat::rx_queue_0_packets);
  s.rx_bytes = stat(DrvStat::rx_queue_0_bytes);
  s.tx_packets = stat(DrvStat::tx_queue_0_packets);
  s.tx_bytes = stat(DrvStat::tx_queue_0_bytes);
  s.rx_dropped = stat(DrvStat::rx_queue_0_alloc_failed) + stat(DrvStat::rx_queue_0_flushed) + rx_dropped_core;
  s.tx_dropped = stat(DrvStat::tx_queue_0_map_errors) + stat(DrvStat::tx_queue_0_flushed);
  s.rx_crc_errors = hw(S::rx_crc_errors);
  s.rx_length_errors = hw(S::rx_length_errors);
  s.rx_missed_errors = hw(S::rx_missed_errors);
  s.rx_errors = s.rx_crc_errors + s.rx_length_errors + stat(DrvStat::rx_queue_0_errors);
  s.tx_errors = stat(DrvStat::tx_queue_0_desc_errors);
  s.tx_carrier_errors = hw(S::tx_dropped_link_down);
  s.multicast = hw(S::rx_multicast);
  return s;
}

}  // namespace vnic::driver
