// Nic: the PCI function (configuration space, BAR0's socket, reset) composing its units.
#include "vnic/hw/nic.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "vnic/model/bytes.hpp"
#include "vnic/model/pci.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using model::regs::Stat;

NicConfig Nic::checked(const NicConfig& cfg) {
  if (cfg.num_qp < 1 || cfg.num_qp > regs::kMaxQueuePairs) {
    throw std::invalid_argument("NicConfig: num_qp must be 1..8");
  }
  if (cfg.desc_cache_depth < 2 || (cfg.desc_cache_depth & (cfg.desc_cache_depth - 1)) != 0) {
    throw std::invalid_argument("NicConfig: desc_cache_depth must be a power of two >= 2");
  }
  NicConfig c = cfg;
  c.fetch_batch = std::clamp<uint32_t>(c.fetch_batch, 1, c.desc_cache_depth);
  return c;
}

Nic::Nic(sc_core::sc_module_name name, EventQueue& q, const NicConfig& cfg)
    : sc_core::sc_module(name),
      mmio("mmio"),
      cfg_(checked(cfg)),
      pool_(),
      dma_("dma", q, cfg_.pcie),
      core_(this->name(), q, cfg_, dma_, pool_),
      regfile_(core_),
      msix_(core_, regfile_),
      irq_(core_, regfile_, msix_),
      mac_(core_, regfile_, irq_),
      tx_(core_, regfile_, irq_, mac_),
      rx_(core_, regfile_, irq_, mac_) {
  mmio.register_b_transport(this, &Nic::b_transport);
  mmio.register_transport_dbg(this, &Nic::transport_dbg);
  dma_.set_bus_master(false);  // PCI power-on: command register 0
  dma_.set_write_done_handler(&Nic::write_done_thunk, this);
  regfile_.on_read<&Nic::read_status>(regs::kStatus, this);
  regfile_.on_read<&Nic::read_stat_lo>(regs::kStatLo, this);
  regfile_.on_read<&Nic::read_stat_hi>(regs::kStatHi, this);
  regfile_.on_write<&Nic::write_ctrl>(regs::kCtrl, this);
  soft_reset(true);
}

Nic::~Nic() = default;

void Nic::attach(EthMedium* medium, unsigned side) { mac_.attach(this, medium, side); }

uint64_t Nic::stat(Stat s) const {
  // The DMA engine keeps its own counts; the rest live in the counter block.
  const DmaStats& d = dma_.stats();
  switch (s) {
    case Stat::dma_rd_tlps: return d.rd_tlps;
    case Stat::dma_rd_bytes: return d.rd_bytes;
    case Stat::dma_wr_tlps: return d.wr_tlps;
    case Stat::dma_wr_bytes: return d.wr_bytes;
    case Stat::dma_no_bme: return d.no_bme + core_.stats[static_cast<unsigned>(s)];
    default: return core_.stats[static_cast<unsigned>(s)];
  }
}

// ---------------------------------------------------------------------------------- reset

void Nic::soft_reset(bool power_on) {
  if (power_on) {
    core_.reset_done_ps = 0;
  } else {
    core_.reset_done_ps = cfg_.reset_hangs ? UINT64_MAX : core_.now_ps() + uint64_t{cfg_.reset_ns} * 1000;
  }
  // Work in flight is abandoned: writes not yet landed are revoked (an RX frame among them is
  // counted in rx_dropped_disabled), scheduled callbacks cancelled, fetched frames dropped.
  dma_.reset();
  if (power_on) dma_.clear_stats();  // the counters survive a soft reset, the DMA's too
  tx_.reset();
  rx_.reset();
  irq_.reset();
  regfile_.reset(/*keep_function=*/powered_on_);
  core_.word(regs::kCap, 0) = regs::cap::kNumQp.put(0, cfg_.num_qp) | regs::cap::kMinRingLog2.put(0, 3) |
                              regs::cap::kMaxRingLog2.put(0, 12) | regs::cap::kNumVec.put(0, cfg_.num_qp + 1);
  if (power_on) {  // the counters survive a soft reset, so a driver's totals do too
    core_.stats.fill(0);
    stat_hi_latch_.fill(0);
  }
  powered_on_ = true;
}

void Nic::power_on_reset() {
  powered_on_ = false;
  pci_command_ = 0;
  msix_.power_on();
  dma_.set_bus_master(false);
  mac_.power_on();
  tx_.power_on();
  soft_reset(true);
}

// ---------------------------------------------------------------------------------- MMIO

void Nic::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  delay += from_ps(core_.cycles_ps(cfg_.cycles.mmio));  // add, never overwrite
  if (dma_.in_transport()) {
    // Our own DMA has come back to our BAR (a bus that forwards peer-to-peer): refused without
    // raising an error interrupt, whose message could come back the same way.
    core_.bump(Stat::dma_reentry);
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const uint64_t addr = p.get_address();
  const bool bad_shape = p.get_data_length() != 4 || (addr & 3u) != 0 || p.get_byte_enable_ptr() != nullptr ||
                         p.get_streaming_width() < 4 || addr >= regs::kBar0Size;
  if (p.get_command() == tlm::TLM_IGNORE_COMMAND) {
    // A probe (TLM-2.0: no side effects): would this access be taken? Nothing is counted.
    const bool ok = (pci_command_ & model::pci::kCmdMemorySpace) != 0 && !bad_shape &&
                    regs::find(static_cast<uint32_t>(addr)).has_value();
    p.set_response_status(ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if ((pci_command_ & model::pci::kCmdMemorySpace) == 0) {
    core_.bump(Stat::mmio_disabled);  // BAR0 does not decode while Memory Space Enable is off
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const auto hit = bad_shape ? std::nullopt : regs::find(static_cast<uint32_t>(addr));
  if (!hit) {
    core_.bump(Stat::mmio_errors);
    irq_.latch_error(regs::err_cause::kMmio.mask(), 0, false);
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  std::span<uint8_t> bytes{p.get_data_ptr(), 4};
  if (p.is_read()) {
    model::store_le<uint32_t>(bytes, 0, regfile_.read(*hit));
  } else {
    regfile_.write(*hit, model::load_le<uint32_t>(bytes, 0));
  }
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Nic::transport_dbg(tlm::tlm_generic_payload& p) {
  // Debug reads see the stored register words without side effects; debug writes are refused.
  const uint64_t addr = p.get_address();
  if (!p.is_read() || addr >= regs::kBar0Size) return 0;
  const unsigned n = static_cast<unsigned>(std::min<uint64_t>(p.get_data_length(), regs::kBar0Size - addr));
  std::memcpy(p.get_data_ptr(), reinterpret_cast<const uint8_t*>(core_.words()) + addr, n);
  return n;
}

uint32_t Nic::read_status(unsigned) {
  const bool up = mac_.link_up();
  return regs::status::kLinkUp.put(0, up ? 1 : 0) |
         regs::status::kSpeed.put(0, up ? regs::status::speed_code(mac_.link_rate()) : regs::status::kSpeedNone) |
         regs::status::kResetDone.put(0, core_.in_reset() ? 0 : 1);
}

uint32_t Nic::read_stat_lo(unsigned i) {
  const uint64_t v = stat(static_cast<Stat>(i));
  stat_hi_latch_[i] = static_cast<uint32_t>(v >> 32);
  return static_cast<uint32_t>(v);
}

void Nic::write_ctrl(unsigned, uint32_t v, uint32_t) {
  if (regs::ctrl::kRst.get(v) != 0) {
    soft_reset();  // RST self-clears; EN returns to 0 with everything else
    return;
  }
  const bool was = core_.device_enabled();
  core_.word(regs::kCtrl, 0) = v;
  if (!was && core_.device_enabled()) {
    for (unsigned qp = 0; qp < cfg_.num_qp; ++qp) {
      tx_.kick(qp);
      rx_.kick(qp);
    }
  }
}

// ---------------------------------------------------------------------------------- PCI config

uint32_t Nic::cfg_read32(uint32_t off) const {
  namespace pci = model::pci;
  switch (off) {
    case pci::kVendorDevice: return uint32_t{pci::kVendorId} | uint32_t{pci::kDeviceId} << 16;
    case pci::kCommandStatus: return pci_command_ | pci::kStatusCapList;
    case pci::kCapPtr: return pci::kCapMsix;
    case pci::kCapMsix:
      return pci::kCapIdMsix | (uint32_t{cfg_.num_qp} << 16) /* table size - 1 = vectors - 1 */ | msix_.control();
    case pci::kMsixTable: return regs::kMsixTableBase;  // BIR 0
    case pci::kMsixPba: return regs::kMsixPbaBase;      // BIR 0
    case pci::kClassRevision: return pci::kClassCode << 8 | pci::kRevision;
    case pci::kHeaderType: return 0;  // type 0, single function
    case pci::kBar0Lo: return static_cast<uint32_t>(bar0_) | pci::kBar0Flags;
    case pci::kBar0Hi: return static_cast<uint32_t>(bar0_ >> 32);
    case pci::kSubsystem: return uint32_t{pci::kVendorId} | uint32_t{pci::kDeviceId} << 16;
    case pci::kInterrupt: return 0;  // no INTx pin
    default: return 0;
  }
}

void Nic::cfg_write32(uint32_t off, uint32_t v) {
  namespace pci = model::pci;
  switch (off) {
    case pci::kCommandStatus:
      pci_command_ = static_cast<uint16_t>(v & pci::kCmdWritable);
      dma_.set_bus_master((pci_command_ & pci::kCmdBusMaster) != 0);
      break;
    case pci::kBar0Lo:  // the low bits below the BAR's size read as zero: that is how it is sized
      bar0_ = (bar0_ & ~uint64_t{0xFFFF'FFFF}) | (v & ~(regs::kBar0Size - 1));
      break;
    case pci::kBar0Hi:
      bar0_ = (bar0_ & 0xFFFF'FFFFu) | uint64_t{v} << 32;
      break;
    case pci::kCapMsix:
      msix_.write_control(v);
      break;
    default:
      break;  // read-only or reserved
  }
}

// ---------------------------------------------------------------------------------- Ethernet

void Nic::eth_receive(model::Frame&& frame) { rx_.receive(std::move(frame)); }

void Nic::eth_link_changed(bool up, model::BitRate rate) { mac_.link_changed(up, rate); }

// ---------------------------------------------------------------------------------- DMA

void Nic::write_done_thunk(void* ctx, const WriteDone& done) { static_cast<Nic*>(ctx)->on_write_done(done); }

void Nic::on_write_done(const WriteDone& w) {
  // A posted write has ended: to the unit that issued it.
  const WriteTag tag = WriteTag::unpack(w.tag);
  switch (tag.kind) {
    case WriteKind::Msi: msix_.write_done(w); return;
    case WriteKind::TxDesc: tx_.write_done(tag, w); return;
    case WriteKind::RxData:
    case WriteKind::RxDesc: rx_.write_done(tag, w); return;
  }
}

}  // namespace vnic::hw
