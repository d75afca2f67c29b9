// TestHost implementation.
#include "vnic/tb/test_host.hpp"

#include <cstring>
#include <stdexcept>

#include "vnic/model/pci.hpp"
#include "vnic/tb/pci_enum.hpp"

#include "vnic/model/bytes.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/host_ring.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::tb {

namespace regs = model::regs;

TestHost::TestHost(sc_core::sc_module_name name, hw::EventQueue& q, HostMemory& mem, const TestHostConfig& cfg)
    : sc_core::sc_module(name), mmio("mmio"), q_(q), mem_(mem), cfg_(cfg) {
  tx_ring_ = mem_.alloc(uint64_t{cfg_.tx_ring} * model::kDescSize, 4096);
  rx_ring_ = mem_.alloc(uint64_t{cfg_.rx_ring} * model::kDescSize, 4096);
  for (uint32_t i = 0; i < cfg_.tx_ring; ++i) tx_bufs_.push_back(mem_.alloc(tx_buf_size(cfg_), 64));
  for (uint32_t i = 0; i < cfg_.rx_ring; ++i) rx_bufs_.push_back(mem_.alloc(cfg_.rx_buf, 64));
  // Map everything the device may touch, for the IOMMU-like check (a no-op while it is off):
  // rings both ways (coherent), TX buffers to the device, RX buffers from it.
  mem_.map(tx_ring_, uint64_t{cfg_.tx_ring} * model::kDescSize, DmaDir::Bidirectional);
  mem_.map(rx_ring_, uint64_t{cfg_.rx_ring} * model::kDescSize, DmaDir::Bidirectional);
  for (uint64_t b : tx_bufs_) mem_.map(b, tx_buf_size(cfg_), DmaDir::ToDevice);
  for (uint64_t b : rx_bufs_) mem_.map(b, cfg_.rx_buf, DmaDir::FromDevice);
}

void TestHost::connect(hw::Nic& nic, PeerBus* via) {
  nic_ = &nic;
  if (via != nullptr) {
    mmio.bind(via->from_cpu);
    via->to_bar.bind(nic.mmio);
    nic.dma().socket.bind(via->from_device);
    via->to_host.bind(rc_.from_device);
  } else {
    mmio.bind(nic.mmio);
    nic.dma().socket.bind(rc_.from_device);
  }
  rc_.to_memory.bind(mem_.socket);
  rc_.set_msi_handler(&TestHost::on_msi, this);
  std::string why;
  if (!enumerate(nic, kBar0Base, &pci_, &why)) throw std::runtime_error("PCI enumeration failed: " + why);
  if (via != nullptr) via->set_bar0(nic.bar0());
  const unsigned vectors = nic.config().num_qp + 1;
  for (unsigned v = 0; v < vectors; ++v) {
    write32(regs::kMsixAddrLo.offset_of(v), static_cast<uint32_t>(kMsiWindowBase));
    write32(regs::kMsixAddrHi.offset_of(v), 0);
    write32(regs::kMsixData.offset_of(v), v);
    write32(regs::kMsixVctrl.offset_of(v), 0);
  }
  nic.cfg_write32(model::pci::kCapMsix, model::pci::kMsixEnable);
  stats_.irqs_per_vector.assign(vectors, 0);
}

void TestHost::on_msi(void* ctx, uint64_t, uint32_t data) { static_cast<TestHost*>(ctx)->nic_irq(data); }

tlm::tlm_response_status TestHost::raw_access(bool write, uint64_t off, uint8_t* data, unsigned len) {
  tlm::tlm_generic_payload p;
  p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(off);
  p.set_data_ptr(data);
  p.set_data_length(len);
  p.set_streaming_width(len);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;  // this host charges no CPU time
  mmio->b_transport(p, delay);
  if (!p.is_response_ok()) ++stats_.mmio_errors;
  return p.get_response_status();
}

uint32_t TestHost::read32(uint32_t off) {
  std::array<uint8_t, 4> b{};
  ++stats_.mmio_reads;
  raw_access(false, off, b.data(), 4);
  return model::load_le<uint32_t>(b, 0);
}

void TestHost::write32(uint32_t off, uint32_t v) {
  std::array<uint8_t, 4> b{};
  model::store_le<uint32_t>(b, 0, v);
  ++stats_.mmio_writes;
  raw_access(true, off, b.data(), 4);
}

void TestHost::bring_up() {
  write32(regs::kCtrl.offset, 0x2);  // soft reset
  const unsigned qp = 0;
  write32(regs::kRxqBaseLo.offset_of(qp), static_cast<uint32_t>(rx_ring_));
  write32(regs::kRxqBaseHi.offset_of(qp), static_cast<uint32_t>(rx_ring_ >> 32));
  write32(regs::kRxqSize.offset_of(qp), cfg_.rx_ring);
  write32(regs::kRxqBufSize.offset_of(qp), cfg_.rx_buf);
  write32(regs::kTxqBaseLo.offset_of(qp), static_cast<uint32_t>(tx_ring_));
  write32(regs::kTxqBaseHi.offset_of(qp), static_cast<uint32_t>(tx_ring_ >> 32));
  write32(regs::kTxqSize.offset_of(qp), cfg_.tx_ring);
  const Coalesce& c = cfg_.coalesce;
  write32(regs::kRxUsecs.offset_of(qp), regs::usecs::kMode.put(regs::usecs::kUsecs.put(0, c.rx_usecs), c.rx_mode));
  write32(regs::kRxFrames.offset_of(qp), c.rx_frames);
  write32(regs::kRxAbsUsecs.offset_of(qp), c.rx_abs_usecs);
  write32(regs::kTxUsecs.offset_of(qp), regs::usecs::kMode.put(regs::usecs::kUsecs.put(0, c.tx_usecs), c.tx_mode));
  write32(regs::kTxFrames.offset_of(qp), c.tx_frames);
  write32(regs::kTxAbsUsecs.offset_of(qp), c.tx_abs_usecs);
  write32(regs::kRxCtrl.offset, cfg_.rx_ctrl);
  // Fill every RX slot but one with a fresh buffer.
  for (uint32_t i = 0; i + 1 < cfg_.rx_ring; ++i) {
    model::RxDesc d;
    d.buf_addr = rx_bufs_[i];
    model::encode(d, mem_.view(rx_ring_ + uint64_t{i} * model::kDescSize, model::kDescSize).first<model::kDescSize>());
  }
  rx_next_ = 0;
  rx_tail_ = cfg_.rx_ring - 1;
  tx_tail_ = tx_clean_ = 0;
  write32(regs::kRxqTail.offset_of(qp), rx_tail_);
  write32(regs::kRxqCtrl.offset_of(qp), 1);
  write32(regs::kTxqCtrl.offset_of(qp), 1);
  write32(regs::kCtrl.offset, 0x1);  // enable
  if (cfg_.count > 0) {
    if (cfg_.interval.ps() == 0) {
      q_.after<&TestHost::service_event>(hw::from_ps(static_cast<uint64_t>(cfg_.start.ps())), this);
      service_scheduled_ = true;
    } else {
      q_.after<&TestHost::pace_event>(hw::from_ps(static_cast<uint64_t>(cfg_.start.ps())), this);
    }
  }
}

void TestHost::nic_irq(unsigned vector) {
  ++stats_.irqs;
  if (vector < stats_.irqs_per_vector.size()) ++stats_.irqs_per_vector[vector];
  if (!service_scheduled_) {
    service_scheduled_ = true;
    q_.after<&TestHost::service_event>(sc_core::SC_ZERO_TIME, this);
  }
}

void TestHost::service_event(uint64_t) {
  service_scheduled_ = false;
  service();
}

void TestHost::service() {
  clean_tx();
  poll_rx();
  if (cfg_.interval.ps() == 0) post_tx(UINT32_MAX);
}

void TestHost::pace_event(uint64_t) {
  clean_tx();
  post_tx(1);
  if (!done_sending()) q_.after<&TestHost::pace_event>(hw::from_ps(static_cast<uint64_t>(cfg_.interval.ps())), this);
}

void TestHost::post_tx(uint32_t max_frames) {
  const model::RingIndex ring(cfg_.tx_ring);
  uint32_t posted = 0;
  while (sent_ < cfg_.count && posted < max_frames) {
    if (ring.full(tx_clean_, tx_tail_)) {
      ++stats_.tx_ring_full;
      break;
    }
    const uint64_t seq = sent_;
    const uint32_t len = frame_len(cfg_.pattern, seq);
    fill_frame(cfg_.pattern, seq, mem_.view(tx_bufs_[tx_tail_], len));
    model::TxDesc d;
    d.buf_addr = tx_bufs_[tx_tail_];
    d.length = static_cast<uint16_t>(len);
    d.cmd = model::TxDesc::kCmdEop | model::TxDesc::kCmdRs;
    model::encode(d, mem_.view(tx_ring_ + uint64_t{tx_tail_} * model::kDescSize, model::kDescSize)
                         .first<model::kDescSize>());
    tx_tail_ = ring.next(tx_tail_);
    ++sent_;
    ++posted;
    ++stats_.tx_posted;
  }
  if (posted > 0) write32(regs::kTxqTail.offset_of(0), tx_tail_);
}

void TestHost::clean_tx() {
  const model::RingIndex ring(cfg_.tx_ring);
  while (tx_clean_ != tx_tail_) {
    auto bytes = mem_.view(tx_ring_ + uint64_t{tx_clean_} * model::kDescSize, model::kDescSize);
    const model::TxDesc d = model::decode_tx(bytes.first<model::kDescSize>());
    if (!d.done()) break;
    if (d.errors != 0) ++stats_.tx_desc_errors;
    std::fill(bytes.begin(), bytes.end(), uint8_t{0});
    tx_clean_ = ring.next(tx_clean_);
    ++stats_.tx_completed;
  }
}

void TestHost::poll_rx() {
  const model::RingIndex ring(cfg_.rx_ring);
  uint32_t consumed = 0;
  while (true) {
    auto bytes = mem_.view(rx_ring_ + uint64_t{rx_next_} * model::kDescSize, model::kDescSize);
    const model::RxDesc d = model::decode_rx(bytes.first<model::kDescSize>());
    if (!d.done()) break;
    ++stats_.rx_frames;
    if (d.errors != 0) {
      ++stats_.rx_err_flagged;
    } else {
      const std::size_t len = (d.status & model::RxDesc::kStaFcs) ? d.length - 4u : d.length;
      // Out of order: reordered or duplicated; a gap: frames lost in between (each loss is in
      // some drop counter; conservation checks that). Per sender (RxExpect).
      const RxExpect::Result r = rx_expect_.check(mem_.view(d.buf_addr, len));
      if (!r.ok) {
        ++stats_.rx_bad_bytes;
      } else {
        if (r.out_of_order) ++stats_.rx_out_of_order;
        stats_.rx_gap_frames += r.gap;
        stats_.next_rx_seq = r.seq + 1;
        ++stats_.rx_ok;
      }
    }
    std::fill(bytes.begin(), bytes.end(), uint8_t{0});
    rx_next_ = ring.next(rx_next_);
    ++consumed;
  }
  if (consumed == 0 || !cfg_.refill_rx) return;
  for (uint32_t k = 0; k < consumed; ++k) {
    model::RxDesc d;
    d.buf_addr = rx_bufs_[rx_tail_];
    model::encode(d, mem_.view(rx_ring_ + uint64_t{rx_tail_} * model::kDescSize, model::kDescSize)
                         .first<model::kDescSize>());
    rx_tail_ = ring.next(rx_tail_);
  }
  write32(regs::kRxqTail.offset_of(0), rx_tail_);
}

}  // namespace vnic::tb
