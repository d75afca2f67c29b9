// Benchmarks of the model/ hot paths: CRC-32 (isa-l vs zlib) and descriptor codecs.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "vnic/model/crc32.hpp"
#include "vnic/model/descriptor.hpp"

namespace {
using namespace vnic::model;

std::vector<uint8_t> frame_of(std::size_t n) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + 17);
  return v;
}

void BM_Crc32Isal(benchmark::State& s) {
  const auto f = frame_of(static_cast<std::size_t>(s.range(0)));
  for (auto _ : s) benchmark::DoNotOptimize(crc32_ieee(f));
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * s.range(0));
}
BENCHMARK(BM_Crc32Isal)->Arg(64)->Arg(1518)->Arg(9018);

void BM_Crc32Zlib(benchmark::State& s) {
  const auto f = frame_of(static_cast<std::size_t>(s.range(0)));
  for (auto _ : s) benchmark::DoNotOptimize(crc32_zlib(f));
  s.SetBytesProcessed(static_cast<int64_t>(s.iterations()) * s.range(0));
}
BENCHMARK(BM_Crc32Zlib)->Arg(64)->Arg(1518)->Arg(9018);

void BM_TxDescEncode(benchmark::State& s) {
  std::array<uint8_t, kDescSize> b{};
  TxDesc d{0x1234'5678'9ABCull, 1514, TxDesc::kCmdEop | TxDesc::kCmdRs, 0, 0};
  for (auto _ : s) {
    d.buf_addr += 64;
    encode(d, b);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_TxDescEncode);

void BM_TxDescDecode(benchmark::State& s) {
  std::array<uint8_t, kDescSize> b{};
  encode(TxDesc{0x1234'5678'9ABCull, 1514, TxDesc::kCmdEop, 0, 0}, b);
  for (auto _ : s) {
    benchmark::DoNotOptimize(b);
    benchmark::DoNotOptimize(decode_tx(b));
  }
}
BENCHMARK(BM_TxDescDecode);

void BM_RxDescEncode(benchmark::State& s) {
  std::array<uint8_t, kDescSize> b{};
  RxDesc d{0x1234'5678'9ABCull, 1514, RxDesc::kStaDd | RxDesc::kStaEop, 0};
  for (auto _ : s) {
    d.length ^= 1;
    encode(d, b);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_RxDescEncode);

void BM_RxDescDecode(benchmark::State& s) {
  std::array<uint8_t, kDescSize> b{};
  encode(RxDesc{0x1234'5678'9ABCull, 1514, RxDesc::kStaDd, 0}, b);
  for (auto _ : s) {
    benchmark::DoNotOptimize(b);
    benchmark::DoNotOptimize(decode_rx(b));
  }
}
BENCHMARK(BM_RxDescDecode);
}  // namespace
