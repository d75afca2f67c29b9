// TapPort implementation: non-blocking TAP reads and writes from queue callbacks, one paced poll
// event, frames to the link one after another at its rate.
#include "vnic/tb/tap_port.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "vnic/model/crc32.hpp"

namespace vnic::tb {

namespace {

constexpr std::size_t kMaxTapFrame = 65535;                   // a TAP's MTU cannot exceed 65535
constexpr std::size_t kScratchBytes = kMaxTapFrame + 14 + 64;  // + header and room for a tag or two

std::string errno_text(int e) { return std::system_category().message(e); }

bool valid_ifname(std::string_view n) {
  if (n.empty() || n.size() >= IFNAMSIZ || n == "." || n == "..") return false;
  // The kernel refuses '/', ':' and whitespace (dev_valid_name); '%' would make it pick a name.
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == '/' || c == ':' || c == '%' || c == ' ' || c == '\t' || c == '\n';
  });
}

}  // namespace

int open_tap(const std::string& ifname, std::string* error) {
  auto fail = [&](std::string msg) {
    if (error != nullptr) *error = std::move(msg);
    return -1;
  };
  if (!valid_ifname(ifname)) {
    return fail(fmt::format("tap: '{}' is not a valid interface name (1 to {} characters, no '/', ':', '%' or "
                            "whitespace)",
                            ifname, IFNAMSIZ - 1));
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return fail(fmt::format("tap '{}': cannot open /dev/net/tun: {}", ifname, errno_text(e)));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());  // NUL-terminated: ifr is zeroed, size < IFNAMSIZ
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd);
    return fail(fmt::format("tap '{}': TUNSETIFF (IFF_TAP | IFF_NO_PI) failed: {}{}", ifname, errno_text(e),
                            e == EINVAL ? " (is there a TUN device or another interface of that name?)"
                            : e == EPERM ? " (needs CAP_NET_ADMIN)"
                                         : ""));
  }
  return fd;
}

TapPort::TapPort(hw::EventQueue& q, hw::EthMedium& medium, unsigned side, const TapPortConfig& cfg)
    : q_(q),
      medium_(medium),
      side_(side & 1),
      cfg_(cfg),
      pool_(std::make_unique<model::FramePool>(std::max(cfg.max_frame, kEthMinFrameNoFcs) + model::kFcsLen)) {
  if (cfg_.poll.ps() <= 0) throw std::invalid_argument(fmt::format("tap '{}': poll must be positive", cfg_.ifname));
  if (cfg_.run_for.ps() < 0) throw std::invalid_argument(fmt::format("tap '{}': run_for is negative", cfg_.ifname));
  if (cfg_.max_frame < kEthHeaderBytes || cfg_.max_frame > kMaxTapFrame) {
    throw std::invalid_argument(fmt::format("tap '{}': max_frame {} is outside {}..{}", cfg_.ifname, cfg_.max_frame,
                                            kEthHeaderBytes, kMaxTapFrame));
  }
  if (cfg_.max_reads_per_poll == 0) cfg_.max_reads_per_poll = 1;
  std::string err;
  fd_ = open_tap(cfg_.ifname, &err);
  if (fd_ < 0) throw std::runtime_error(err);
  if (!cfg_.pcap.empty() && !pcap_.open(cfg_.pcap, &err)) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(fmt::format("tap '{}': {}", cfg_.ifname, err));
  }
  scratch_.resize(kScratchBytes);
  medium_.attach(side_, this);
  poll_handle_ = q_.at_ps<&TapPort::poll_event>(q_.now_ps(), this);
}

TapPort::~TapPort() {
  // The queue and the medium outlive the port (they are built first): nothing may call us later.
  if (poll_handle_ != hw::EventQueue::kNone) q_.cancel(poll_handle_);
  if (tx_handle_ != hw::EventQueue::kNone) q_.cancel(tx_handle_);
  medium_.attach(side_, nullptr);
  txq_.clear();
  if (fd_ >= 0) ::close(fd_);
  // Frames still in flight on the medium come back to the pool when the medium drops them; if
  // any are out, the pool (a few buffers) is left allocated rather than freed under them.
  if (pool_->in_use() > 0) static_cast<void>(pool_.release());
}

void TapPort::stop() {
  stopped_ = true;
  if (poll_handle_ != hw::EventQueue::kNone) {
    q_.cancel(poll_handle_);
    poll_handle_ = hw::EventQueue::kNone;
  }
}

// ---- Pacing and polling ---------------------------------------------------------------------

void TapPort::poll_event(uint64_t) {
  poll_handle_ = hw::EventQueue::kNone;
  if (stopped_) return;
  const uint64_t now = q_.now_ps();
  if (!anchored_) {
    anchored_ = true;
    anchor_sim_ps_ = now;
    anchor_wall_ = std::chrono::steady_clock::now();
  }
  ++stats_.polls;
  pace(now);
  read_tap(now);
  const uint64_t next = now + static_cast<uint64_t>(cfg_.poll.ps());
  if (cfg_.run_for.ps() > 0 && next - anchor_sim_ps_ > static_cast<uint64_t>(cfg_.run_for.ps())) {
    stopped_ = true;  // run_for is over: no further poll keeps the simulation alive
    return;
  }
  poll_handle_ = q_.at_ps<&TapPort::poll_event>(next, this);
}

// Simulated time may not run ahead of wall time: wait until the wall clock has caught up with
// the simulated time passed since the first poll. A simulation that is behind goes on at once.
void TapPort::pace(uint64_t now_ps) {
  using namespace std::chrono;
  const auto target = anchor_wall_ + nanoseconds((now_ps - anchor_sim_ps_) / 1000);
  const auto wall = steady_clock::now();
  if (wall < target) {
    std::this_thread::sleep_until(target);
    stats_.slept_ns += static_cast<uint64_t>(duration_cast<nanoseconds>(steady_clock::now() - wall).count());
    return;
  }
  const auto lag = static_cast<uint64_t>(duration_cast<nanoseconds>(wall - target).count());
  stats_.max_lag_ns = std::max(stats_.max_lag_ns, lag);
  if (lag * 1000 >= static_cast<uint64_t>(cfg_.poll.ps())) ++stats_.late_polls;
}

void TapPort::read_tap(uint64_t now_ps) {
  for (std::size_t i = 0; i < cfg_.max_reads_per_poll; ++i) {
    const ssize_t r = ::read(fd_, scratch_.data(), scratch_.size());
    if (r < 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;  // nothing more to read now
      ++stats_.read_errors;
      last_error_ = fmt::format("read from tap '{}': {}", cfg_.ifname, errno_text(e));
      break;
    }
    if (r == 0) break;
    const auto n = static_cast<std::size_t>(r);
    ++stats_.tap_reads;
    stats_.tap_read_bytes += n;
    if (pcap_.is_open()) pcap_.write(now_ps, std::span<const uint8_t>(scratch_.data(), std::min(n, kMaxTapFrame)));
    if (n < kEthHeaderBytes) {
      ++stats_.tap_runts;
      continue;
    }
    if (n > cfg_.max_frame) {
      ++stats_.tap_oversize;
      continue;
    }
    if (txq_.size() >= cfg_.max_queue) {
      ++stats_.queue_drops;
      continue;
    }
    // As a MAC sends it: padded with zeros to 60 bytes, then the FCS.
    const std::size_t body = std::max(n, kEthMinFrameNoFcs);
    model::Frame f = pool_->alloc(body + model::kFcsLen);
    std::memcpy(f.data(), scratch_.data(), n);
    if (body > n) {
      std::memset(f.data() + n, 0, body - n);
      ++stats_.padded;
    }
    model::write_fcs(f.bytes());
    f.id = stats_.tap_reads;
    txq_.push_back(std::move(f));
  }
  kick();
}

// ---- Kernel -> link: one frame at a time, each after the previous one and its IFG -----------

void TapPort::kick() {
  if (tx_busy_ || txq_.empty()) return;
  const uint64_t start = std::max(q_.now_ps(), tx_free_at_ps_);
  const std::size_t n = txq_.front().size();
  const auto on_wire = static_cast<uint64_t>(
      medium_.rate().time_for_bytes(hw::kPreambleBytes + hw::kSfdBytes + n).ps());
  tx_busy_ = true;
  // The medium takes a frame when its last bit has left (start_ps tells it when it began).
  tx_handle_ = q_.at_ps<&TapPort::hand_over>(start + on_wire, this, start);
}

void TapPort::hand_over(uint64_t start_ps) {
  tx_handle_ = hw::EventQueue::kNone;
  tx_busy_ = false;
  model::Frame f = txq_.take_front();
  const std::size_t n = f.size();
  tx_free_at_ps_ = start_ps + static_cast<uint64_t>(hw::wire_time(medium_.rate(), n).ps());
  if (medium_.transmit(side_, std::move(f), start_ps)) {
    ++stats_.wire_tx_frames;
    stats_.wire_tx_bytes += n;
  } else {
    ++stats_.link_down_drops;
  }
  kick();
}

// ---- Link -> kernel ---------------------------------------------------------------------------

void TapPort::eth_receive(model::Frame&& frame) {
  const model::Frame f = std::move(frame);  // its buffer goes back to the sender's pool on return
  const std::size_t n = f.size();
  ++stats_.wire_rx_frames;
  stats_.wire_rx_bytes += n;
  if (n < kEthHeaderBytes + model::kFcsLen) {
    ++stats_.wire_rx_runts;
    return;
  }
  if (!model::fcs_ok(f.bytes())) {
    ++stats_.fcs_errors;  // never reaches the kernel
    return;
  }
  const std::size_t len = n - model::kFcsLen;
  if (len > cfg_.max_frame) {
    ++stats_.wire_rx_oversize;
    return;
  }
  ssize_t w;
  do {
    w = ::write(fd_, f.data(), len);
  } while (w < 0 && errno == EINTR);
  if (w < 0 || static_cast<std::size_t>(w) != len) {
    const int e = errno;
    ++stats_.write_errors;
    last_error_ = w < 0 ? fmt::format("write to tap '{}': {}", cfg_.ifname, errno_text(e))
                        : fmt::format("write to tap '{}': {} of {} bytes written", cfg_.ifname, w, len);
    return;
  }
  ++stats_.tap_writes;
  stats_.tap_write_bytes += len;
  if (pcap_.is_open()) pcap_.write(q_.now_ps(), f.bytes().first(len));
}

void TapPort::eth_link_changed(bool, model::BitRate) {
  // Nothing to do: while the link is down, frames whose turn comes are refused by the medium
  // and counted in link_down_drops; frames from the link simply stop arriving.
}

}  // namespace vnic::tb
