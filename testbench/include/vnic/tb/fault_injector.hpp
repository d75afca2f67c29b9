// FaultInjector: seeded, deterministic wire faults (bit errors at a rate, frame drops) for one
// direction of a link. Plain C++ with its own PRNG, so every platform draws the same faults.
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
  FaultDirection direction = FaultDirection::Both;  // for tb::EthLink; the injector ignores it
  uint64_t seed = 1;              // a standalone injector's seed; tb::EthLink uses its own
};

struct FaultStats {
  uint64_t frames_seen = 0, frames_dropped = 0, frames_corrupted = 0, bits_flipped = 0;
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
  const FaultStats& stats() const { return stats_; }
  bool active() const {
    return cfg_.bit_error_rate > 0 || cfg_.drop_probability > 0 || cfg_.drop_every || cfg_.corrupt_every ||
           !cfg_.drop_frames.empty();
  }

 private:
  uint64_t geometric();  // bits up to and excluding the next error (a Bernoulli bit stream)

  FaultConfig cfg_;
  Xoshiro256 rng_;
  double log1m_ber_ = 0.0;
  uint64_t bits_to_next_error_ = 0;
  std::size_t next_listed_ = 0;  // the first drop_frames entry not yet reached
  FaultStats stats_;
};

}  // namespace vnic::tb
