// FaultInjector: seeded, deterministic wire faults (bit errors at a rate, frame drops, and the
// draws for reordering and duplication) for one direction of a link. Plain C++ with its own
// PRNGs, so every platform draws the same faults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vnic::tb {

// Which directions of a link the faults apply to; a is the link's first end (for [link], host
// a's eth0), so AToB is the direction a sends in (tb::EthLink's side 0).
enum class FaultDirection : uint8_t { Both, AToB, BToA };

struct FaultConfig {
  double bit_error_rate = 0.0;    // probability that any one bit of a frame is flipped ([0, 1])
  double drop_probability = 0.0;  // probability that a frame is lost on the wire
  uint64_t drop_every = 0;        // > 0: also drop every Nth frame (deterministic tests)
  uint64_t corrupt_every = 0;     // > 0: every Nth frame not dropped is corrupted (one bit
                                  //      flipped, unless bit errors already hit it)
  std::vector<uint64_t> drop_frames;  // drop exactly these frames (1-based, in the order the
                                      // injector sees them; sorted, no repeats)
  // Reordering and duplication (tb::EthLink carries them out; the injector draws them):
  double reorder_rate = 0.0;     // probability a frame is held back until reorder_depth later frames
                                 // of its direction have passed it
  uint32_t reorder_depth = 1;    // 1..64
  uint64_t reorder_max_ns = 1'000'000;  // a held frame goes at the latest this long after it would
                                        // have arrived
  double duplicate_rate = 0.0;   // probability a frame is delivered twice (the copy right after it)
  FaultDirection direction = FaultDirection::Both;  // for tb::EthLink; the injector ignores it
  uint64_t seed = 1;              // a standalone injector's seed; tb::EthLink uses its own
};

struct FaultStats {
  uint64_t frames_seen = 0, frames_dropped = 0, frames_corrupted = 0, bits_flipped = 0;
  uint64_t frames_held = 0, frames_duplicated = 0;  // hold() and duplicate() said yes
};

enum class FaultVerdict : uint8_t { Pass, Corrupted, Drop };

// xoshiro256**, seeded through splitmix64: the same numbers with every compiler and library
// (std:: distributions are not specified bit for bit).
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed);
  uint64_t next();
  double uniform();            // in [0, 1), 53 random bits
  uint64_t below(uint64_t n);  // in [0, n) (multiply-high, no modulo); 0 when n == 0

 private:
  uint64_t s_[4];
};

// Bit errors form one Bernoulli(bit_error_rate) stream over all the bits of all frames that are
// not dropped: the gap to the next flipped bit is drawn from the geometric distribution, so
// the number of flips per frame is exact (any number, anywhere, FCS included) and a tiny rate
// costs one draw per flipped bit, not one per bit or per frame. Drops are decided first; a
// dropped frame consumes no bits of the stream.
class FaultInjector {
 public:
  // `stream` separates the two directions of one link under one seed.
  FaultInjector(const FaultConfig& cfg, uint64_t stream);
  // Decides the fate of one frame and flips its bits in place when corrupted (bit i of the
  // frame is bit i % 8 of byte i / 8). Drop leaves the bytes alone; the caller discards them.
  FaultVerdict apply(std::span<uint8_t> frame);
  // For a frame apply() did not drop, in this order: is it delivered twice, is it held back?
  // Each has its own stream (as the drops and bit errors have theirs), so turning one on or
  // changing its rate changes no other fault's draws; a rate of 0 draws nothing.
  bool duplicate();
  bool hold();
  const FaultStats& stats() const { return stats_; }
  bool active() const {
    return cfg_.bit_error_rate > 0 || cfg_.drop_probability > 0 || cfg_.drop_every || cfg_.corrupt_every ||
           !cfg_.drop_frames.empty() || cfg_.reorder_rate > 0 || cfg_.duplicate_rate > 0;
  }
  const FaultConfig& config() const { return cfg_; }

 private:
  uint64_t geometric();  // bits up to and excluding the next error (a Bernoulli bit stream)

  FaultConfig cfg_;
  Xoshiro256 rng_;
  Xoshiro256 dup_rng_, hold_rng_;
  double log1m_ber_ = 0.0;
  uint64_t bits_to_next_error_ = 0;
  std::size_t next_listed_ = 0;  // the first drop_frames entry not yet reached
  FaultStats stats_;
};

}  // namespace vnic::tb
