// Time and rate types for SystemC-free code: Duration and Instant in picoseconds, BitRate in bit/s.
#pragma once

#include <compare>
#include <cstdint>

namespace vnic::model {

// A span of simulated time in picoseconds (int64: +-106 days, far beyond any run).
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration ps(int64_t v) { return Duration{v}; }
  static constexpr Duration ns(int64_t v) { return Duration{v * 1000}; }
  static constexpr Duration us(int64_t v) { return Duration{v * 1000'000}; }
  static constexpr Duration ms(int64_t v) { return Duration{v * 1000'000'000}; }
  static constexpr Duration s(int64_t v) { return Duration{v * 1000'000'000'000}; }

  constexpr int64_t ps() const { return ps_; }
  constexpr double ns_f() const { return static_cast<double>(ps_) / 1e3; }
  constexpr double us_f() const { return static_cast<double>(ps_) / 1e6; }
  constexpr double s_f() const { return static_cast<double>(ps_) / 1e12; }

  constexpr Duration operator+(Duration o) const { return Duration{ps_ + o.ps_}; }
  constexpr Duration operator-(Duration o) const { return Duration{ps_ - o.ps_}; }
  constexpr Duration operator*(int64_t k) const { return Duration{ps_ * k}; }
  constexpr Duration operator/(int64_t k) const { return Duration{ps_ / k}; }
  constexpr Duration& operator+=(Duration o) { ps_ += o.ps_; return *this; }
  constexpr Duration& operator-=(Duration o) { ps_ -= o.ps_; return *this; }
  constexpr auto operator<=>(const Duration&) const = default;

 private:
  constexpr explicit Duration(int64_t v) : ps_(v) {}
  int64_t ps_ = 0;
};

// A point in simulated time: picoseconds since the start of the simulation.
class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_ps(int64_t v) { return Instant{v}; }
  constexpr int64_t ps() const { return ps_; }
  constexpr Duration since_start() const { return Duration::ps(ps_); }

  constexpr Instant operator+(Duration d) const { return Instant{ps_ + d.ps()}; }
  constexpr Instant operator-(Duration d) const { return Instant{ps_ - d.ps()}; }
  constexpr Duration operator-(Instant o) const { return Duration::ps(ps_ - o.ps_); }
  constexpr Instant& operator+=(Duration d) { ps_ += d.ps(); return *this; }
  constexpr auto operator<=>(const Instant&) const = default;

 private:
  constexpr explicit Instant(int64_t v) : ps_(v) {}
  int64_t ps_ = 0;
};

// A bit rate in bits per second, with exact serialisation time for a byte count.
class BitRate {
 public:
  constexpr BitRate() = default;
  static constexpr BitRate bps(uint64_t v) { return BitRate{v}; }
  static constexpr BitRate mbps(uint64_t v) { return BitRate{v * 1000'000}; }
  static constexpr BitRate gbps(uint64_t v) { return BitRate{v * 1000'000'000}; }
  constexpr uint64_t bps() const { return bps_; }
  constexpr double gbps_f() const { return static_cast<double>(bps_) / 1e9; }

  // Time to send `bytes` at this rate, rounded up to the next picosecond
  // (exact for 1/10/25/40/100 Gb/s: one bit is 1000/100/40/25/10 ps).
  constexpr Duration time_for_bytes(uint64_t bytes) const {
    if (bps_ == 0) return Duration{};
    // Frame-sized counts at a rate whose bit time is a whole number of picoseconds (every
    // Ethernet rate): a multiplication, exact.
    if (ps_per_byte_ != 0 && bytes < 1'000'000) return Duration::ps(static_cast<int64_t>(bytes * ps_per_byte_));
    // Frame-sized counts fit 64 bits (bytes * 8e12 + bps < 2^64): one 64-bit division, the
    // same result as the 128-bit one below.
    if (bytes < 1'000'000 && bps_ < (uint64_t{1} << 62)) {
      const uint64_t num = bytes * 8u * 1000'000'000'000u;
      return Duration::ps(static_cast<int64_t>((num + bps_ - 1) / bps_));
    }
    __extension__ using U128 = unsigned __int128;  // bytes * 8e12 overflows 64 bits
    const U128 num = static_cast<U128>(bytes) * 8u * 1000'000'000'000u;
    return Duration::ps(static_cast<int64_t>((num + bps_ - 1) / bps_));
  }
  constexpr auto operator<=>(const BitRate&) const = default;

 private:
  constexpr explicit BitRate(uint64_t v)
      : bps_(v), ps_per_byte_(v != 0 && 8'000'000'000'000u % v == 0 ? 8'000'000'000'000u / v : 0) {}
  uint64_t bps_ = 0;
  uint64_t ps_per_byte_ = 0;  // 8e12 / bps_ when that is a whole number, else 0 (a function of bps_)
};

}  // namespace vnic::model
