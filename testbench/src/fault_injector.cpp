// FaultInjector: geometric skips between bit errors, so tiny error rates cost nothing.
#include "vnic/tb/fault_injector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "vnic/tb/splitmix.hpp"

namespace vnic::tb {

namespace {
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Xoshiro256::Xoshiro256(uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

uint64_t Xoshiro256::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Xoshiro256::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t Xoshiro256::below(uint64_t n) {
  __extension__ using U128 = unsigned __int128;
  return static_cast<uint64_t>((static_cast<U128>(next()) * n) >> 64);
}

FaultInjector::FaultInjector(const FaultConfig& cfg, uint64_t stream)
    : cfg_(cfg),
      rng_(cfg.seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull + 1),
      // Salted apart from the drop stream (and from each other) so that their sequences share nothing.
      dup_rng_((cfg.seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull + 1) ^ 0x6475706C69636174ull),
      hold_rng_((cfg.seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull + 1) ^ 0x72656F7264657221ull) {
  if (cfg_.bit_error_rate > 0) {
    // ln(1 - p); p = 1 gives -inf, so every gap is 0 and every bit flips.
    log1m_ber_ = std::log1p(-std::min(cfg_.bit_error_rate, 1.0));
    bits_to_next_error_ = geometric();
  }
}

uint64_t FaultInjector::geometric() {
  // P(k good bits before an error) = (1-p)^k p: k = floor(ln U / ln(1-p)), U in (0, 1].
  const double u = 1.0 - rng_.uniform();
  const double k = std::floor(std::log(u) / log1m_ber_);
  if (!(k < 1.8e19)) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(k);
}

FaultVerdict FaultInjector::apply(std::span<uint8_t> frame) {
  ++stats_.frames_seen;
  const bool drop_nth = cfg_.drop_every != 0 && stats_.frames_seen % cfg_.drop_every == 0;
  bool listed = false;
  while (next_listed_ < cfg_.drop_frames.size() && cfg_.drop_frames[next_listed_] <= stats_.frames_seen) {
    listed = listed || cfg_.drop_frames[next_listed_] == stats_.frames_seen;
    ++next_listed_;
  }
  // A listed drop still takes its draw, so listing a frame changes no other frame's fate by chance.
  const bool drawn = !drop_nth && cfg_.drop_probability > 0 && rng_.uniform() < cfg_.drop_probability;
  if (drop_nth || listed || drawn) {
    ++stats_.frames_dropped;
    return FaultVerdict::Drop;
  }
  uint64_t flipped = 0;
  const uint64_t nbits = uint64_t{frame.size()} * 8;
  if (cfg_.bit_error_rate > 0) {
    uint64_t pos = bits_to_next_error_;
    while (pos < nbits) {
      frame[pos / 8] ^= static_cast<uint8_t>(1u << (pos % 8));
      ++flipped;
      const uint64_t gap = geometric();
      pos = gap > std::numeric_limits<uint64_t>::max() - pos - 1 ? std::numeric_limits<uint64_t>::max() : pos + 1 + gap;
    }
    bits_to_next_error_ = pos == std::numeric_limits<uint64_t>::max() ? pos : pos - nbits;
  }
  if (cfg_.corrupt_every != 0 && stats_.frames_seen % cfg_.corrupt_every == 0 && nbits > 0 && flipped == 0) {
    // (When bit errors hit the frame already it is corrupted; another flip could undo one.)
    const uint64_t bit = rng_.below(nbits);
    frame[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ++flipped;
  }
  if (flipped == 0) return FaultVerdict::Pass;
  stats_.bits_flipped += flipped;
  ++stats_.frames_corrupted;
  return FaultVerdict::Corrupted;
}

bool FaultInjector::duplicate() {
  if (!(cfg_.duplicate_rate > 0) || !(dup_rng_.uniform() < cfg_.duplicate_rate)) return false;
  ++stats_.frames_duplicated;
  return true;
}

bool FaultInjector::hold() {
  if (!(cfg_.reorder_rate > 0) || !(hold_rng_.uniform() < cfg_.reorder_rate)) return false;
  ++stats_.frames_held;
  return true;
}

}  // namespace vnic::tb
