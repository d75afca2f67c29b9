// The NIC's build-time configuration: stage costs, sizes, the PCIe link, fault switches.
#pragma once

#include <cstdint>

#include "vnic/hw/dma_engine.hpp"
#include "vnic/model/desc_cache.hpp"
#include "vnic/model/mac_addr.hpp"

namespace vnic::hw {

// Cost of each pipeline stage in core-clock cycles (docs/hw.md has the table).
struct StageCycles {
  uint32_t mmio = 4;          // register decode and access
  uint32_t doorbell = 2;      // tail write to descriptor-fetch request
  uint32_t desc_fetch = 4;    // per fetch: request build
  uint32_t desc_decode = 1;   // per descriptor: decode and push to the FIFO
  uint32_t tx_frame = 8;      // per TX frame: FIFO pop, chain check, data-fetch requests
  uint32_t tx_mac = 6;        // data ready -> first preamble bit (pad, FCS pipeline fill)
  uint32_t rx_mac = 6;        // last bit in -> FCS/length/filter verdict
  uint32_t rx_dma = 4;        // verdict -> data write request
  uint32_t writeback = 2;     // completion -> write-back request
  uint32_t irq = 2;           // moderation verdict -> MSI-X message
};

struct NicConfig {
  model::MacAddr perm_mac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  unsigned num_qp = 1;
  uint32_t core_mhz = 250;
  StageCycles cycles{};
  PcieConfig pcie{};
  uint32_t desc_cache_depth = 64;  // on-chip descriptor FIFO per queue (power of two)
  uint32_t fetch_batch = 16;       // descriptors per fetch at most (256 B, half an MRRS)
  uint32_t tx_buffer_bytes = 32768;  // on-chip TX packet buffer (frames fetched, not yet sent)
  uint32_t max_tx_desc_per_frame = 16;
  model::DescCacheFactory desc_cache_factory = &model::make_model_desc_cache;
  // A soft reset (CTRL.RST) takes this long: STATUS.RESET_DONE reads 0 and register writes are
  // ignored (counted in mmio_in_reset) until it is over. Power-on reset is instant.
  uint32_t reset_ns = 10'000;
  bool reset_hangs = false;  // fault injection: a soft reset never completes
};

}  // namespace vnic::hw
