// EthSwitch: a learning, store-and-forward Ethernet switch (an IEEE 802.1D transparent bridge
// without spanning tree): N ports, each a hw::EthMedium a station attaches to, each at its own
// rate; a MAC learning table with ageing; flooding of unknown unicast, broadcast and multicast;
// a byte-limited tail-drop output queue per port; per-port counters and pcap. docs/guide.md
// ("Switches") gives the timing rules and the counters.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/ring_queue.hpp"

namespace vnic::tb {

struct EthSwitchConfig {
  // One rate per port (its size is the number of ports, 1..kMaxPorts).
  std::vector<model::BitRate> rates = std::vector<model::BitRate>(8, model::BitRate::gbps(10));
  // From the last bit in to the first bit (preamble) out on an idle egress port: the switch's
  // store-and-forward (last-in first-out) latency. 1 us: the class of 10G top-of-rack switches
  // in store-and-forward mode (Network World's 2011 test of the Force10 S4810, a Trident+ switch,
  // measured just under 1 us on average, "one of the first store-and-forward switches ... to break
  // the microsecond barrier").
  model::Duration latency = model::Duration::us(1);
  // Output queue per port, bytes of frames (with FCS) queued or being sent: 512 KiB, a port's
  // share of a shallow-buffered switch (a 12 MB buffer such as Trident II's over ~24 busy ports).
  uint64_t queue_bytes = 512 * 1024;
  model::Duration propagation = model::Duration::ns(5);  // each port's cable, as EthLink's default
  model::Duration ageing = model::Duration::s(300);      // IEEE 802.1D's default ageing time
  // The learning table's size (a switch's CAM; Linux 6.1's bridge has no limit, later kernels
  // add max_learned): when full, aged entries are swept and, if none, the new address is not
  // learned (frames to it are flooded; EthSwitch::fdb_full counts it). Bounds the memory a guest
  // sending from random source addresses can take.
  std::size_t fdb_max = 16384;
  // Copies made by flooding get packet ids (id_prefix << 32) + 1, 2, ...: a prefix no sender
  // port uses, so the per-packet account sees each copy as a packet of its own.
  uint64_t id_prefix = 0xF000;
  bool start_up = true;  // every port up from time 0 (no notification for it)
};

// One port's counters. Every frame ends in exactly one of them (or is still inside):
//   station -> switch: frames the station handed over = rx_frames + rx_dropped_link_down + in_rx(p)
//   the switch:        sum(rx_frames) + sum(flood_copies)
//                        = sum(tx_frames + dropped_queue_full + dropped_filtered + tx_dropped_link_down)
//                          + in_tx() of every port
//   switch -> station: tx_frames = what the station received (delivered or in its own drop counters)
struct SwitchPortStats {
  uint64_t rx_frames = 0, rx_bytes = 0;  // taken in from the station (last bit in + latency)
  uint64_t tx_frames = 0, tx_bytes = 0;  // handed to the station (its last bit arrived there)
  uint64_t flood_copies = 0;             // extra frames made flooding frames that came in here (n ports: n - 1)
  uint64_t dropped_queue_full = 0;       // did not fit this port's output queue (tail drop)
  uint64_t dropped_filtered = 0;         // came in here for a station learned on this same port, no port to
                                         // flood to, or not a frame to switch (shorter than its addresses; a
                                         // multicast or all-zero source: br_handle_frame's is_valid_ether_addr)
  uint64_t rx_dropped_link_down = 0;     // coming in when the port went down
  uint64_t tx_dropped_link_down = 0;     // queued or on the cable out when the port went down
  uint64_t queue_max_bytes = 0;          // the output queue's high-water mark
};

class EthSwitch : public sc_core::sc_module {
 public:
  static constexpr unsigned kMaxPorts = 64;
  // Source addresses not learned because the table was full (of live entries).
  uint64_t fdb_full() const { return fdb_full_; }

  EthSwitch(sc_core::sc_module_name name, hw::EventQueue& q, const EthSwitchConfig& cfg);
  ~EthSwitch() override;

  unsigned num_ports() const { return static_cast<unsigned>(ports_.size()); }
  // Port p as the medium its station attaches to (a station calls attach(0, ep) on it).
  hw::EthMedium& port(unsigned p) { return *ports_.at(p); }

  // Port state: changes now (frames on the port's cables and in its queue are lost and counted,
  // its learned addresses are forgotten) and tells its station through the queue, at the current
  // time. No-op if unchanged.
  void set_port_up(unsigned p, bool up);
  void schedule_port_change(unsigned p, const sc_core::sc_time& at, bool up);
  bool port_up(unsigned p) const { return ports_.at(p)->up_; }

  // One pcap per port: what a tap at the station's end of the port's cable sees, both ways, with
  // FCS: frames from the station stamped when their last bit leaves it, frames to it when their
  // last bit reaches it. Throws std::runtime_error naming the path when it cannot be opened.
  void capture_to(unsigned p, const std::string& path);
  void close_captures();

  // A frame the switch drops is reported to `sink` as its packet's end (RxDrop with the
  // switch's counter: switch.dropped_queue_full, _filtered, _link_down).
  void set_trace(model::TraceSink* sink) { trace_ = sink; }

  const SwitchPortStats& stats(unsigned p) const { return ports_.at(p)->stats; }
  const EthSwitchConfig& config() const { return cfg_; }
  // Frames inside: on port p's cable in or waiting out the latency; queued or on the cable out.
  std::size_t in_rx(unsigned p) const { return ports_.at(p)->rx.size(); }
  std::size_t in_tx(unsigned p) const { return ports_.at(p)->queue.size() + ports_.at(p)->cable.size(); }
  uint64_t queue_bytes(unsigned p) const { return ports_.at(p)->queue_bytes; }

  // The learning table at time now_ps: entries not aged out, by port then address.
  struct FdbEntry {
    model::MacAddr mac;
    unsigned port = 0;
    uint64_t age_ps = 0;  // since a frame from it was last seen
  };
  std::vector<FdbEntry> fdb(uint64_t now_ps) const;
  // The port the table sends `mac` to at now_ps; -1 when unknown or aged out.
  int lookup(const model::MacAddr& mac, uint64_t now_ps) const;

 private:
  struct Held {
    model::Frame frame;
    uint64_t serial = 0;  // matches the frame with its queue callback (stale ones are ignored)
    uint64_t at_ps = 0;   // rx: last bit in; queue: preamble out (once started); cable: last bit at the station
  };
  struct Port final : public hw::EthMedium {
    EthSwitch* sw = nullptr;
    unsigned index = 0;
    model::BitRate rate_{};
    hw::EthEndpoint* ep = nullptr;
    bool up_ = true;
    RingQueue<Held> rx;     // from the station: on the cable, then the forwarding latency
    RingQueue<Held> queue;  // the output queue; its front is being sent
    RingQueue<Held> cable;  // sent, on the cable to the station
    uint64_t queue_bytes = 0;
    uint64_t free_at_ps = 0;       // the transmitter may start again (end of the IFG)
    uint64_t last_in_ps = 0;       // arrival of the last frame in (arrivals keep their order)
    SwitchPortStats stats;
    PcapWriter pcap;
    void attach(unsigned side, hw::EthEndpoint* e) override;
    bool transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) override;
    bool up() const override { return up_; }
    model::BitRate rate() const override { return rate_; }
  };
  struct Learned {
    unsigned port = 0;
    uint64_t seen_ps = 0;
  };

  static uint64_t arg(unsigned port, uint64_t serial) { return serial << 8 | port; }
  bool ingress(Port& p, model::Frame&& frame, uint64_t start_ps);
  void ready(uint64_t a);     // last bit in + latency: learn, look up, forward or flood
  void tx_done(uint64_t a);   // the front frame's last bit left port a
  void deliver(uint64_t a);   // its last bit reached the station
  void enqueue(unsigned port, model::Frame&& frame);
  void learn(uint64_t mac, unsigned port, uint64_t now);  // br_fdb_update, within fdb_max
  void start_next(Port& p);
  void notify(uint64_t a);
  void change_event(uint64_t a);
  void lost(const model::Frame& f, model::HostDrop why);

  hw::EventQueue& q_;
  EthSwitchConfig cfg_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::unordered_map<uint64_t, Learned> table_;  // MAC (48 bits) -> port
  uint64_t fdb_full_ = 0;
  model::FramePool pool_;                        // flood copies
  uint64_t serial_ = 0;
  uint64_t copies_ = 0;
  model::TraceSink* trace_ = nullptr;
};

}  // namespace vnic::tb
