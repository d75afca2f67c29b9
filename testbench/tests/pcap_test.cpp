// PcapWriter and read_pcap: bytes and nanosecond timestamps survive a round trip, the file is a
// nanosecond DLT_EN10MB capture, and bad paths or files are errors naming the path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vnic/tb/pcap.hpp"

namespace {
using vnic::tb::PcapWriter;
using vnic::tb::read_pcap;

std::string temp_path(const std::string& stem) {
  return std::string(::testing::TempDir()) + stem + std::to_string(::getpid()) + ".pcap";
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t le32(const std::vector<uint8_t>& b, std::size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

TEST(PcapFile, RoundTripKeepsBytesAndNanosecondTimestamps) {
  const std::string path = temp_path("vnic_pcap_rt_");
  const std::vector<uint8_t> f1(64, 0x11), f2(1518, 0x22), f3(9018, 0x33);
  {
    PcapWriter w;
    std::string err;
    ASSERT_TRUE(w.open(path, &err)) << err;
    EXPECT_TRUE(w.is_open());
    w.write(0, f1);
    w.write(1'234'567, f2);                  // 1234.567 ns: stored as 1234 ns
    w.write(5'000'000'123'456'789, f3);  // 5000 s + 123456.789 ns: seconds split off
    EXPECT_EQ(w.records(), 3u);
  }  // the destructor closes (and flushes) the file
  const std::vector<uint8_t> raw = file_bytes(path);
  ASSERT_GE(raw.size(), 24u);
  EXPECT_EQ(le32(raw, 0), 0xa1b23c4du);  // the nanosecond pcap magic
  EXPECT_EQ(le32(raw, 20), 1u);          // LINKTYPE_ETHERNET
  std::string err;
  const auto recs = read_pcap(path, &err);
  ASSERT_TRUE(recs) << err;
  ASSERT_EQ(recs->size(), 3u);
  EXPECT_EQ((*recs)[0].ts_ns, 0u);
  EXPECT_EQ((*recs)[1].ts_ns, 1234u);
  EXPECT_EQ((*recs)[2].ts_ns, 5'000'000'123'456u);
  EXPECT_EQ((*recs)[0].bytes, f1);
  EXPECT_EQ((*recs)[1].bytes, f2);
  EXPECT_EQ((*recs)[2].bytes, f3);
  std::remove(path.c_str());
}

TEST(PcapFile, AnUnwritablePathIsAnErrorNamingIt) {
  PcapWriter w;
  std::string err;
  EXPECT_FALSE(w.open("/nonexistent-dir/out.pcap", &err));
  EXPECT_NE(err.find("/nonexistent-dir/out.pcap"), std::string::npos) << err;
  EXPECT_FALSE(w.is_open());
  const std::vector<uint8_t> f(64, 0);
  w.write(0, f);  // ignored, no crash
  EXPECT_EQ(w.records(), 0u);
  w.close();
}

TEST(PcapFile, ADirectoryIsNotACapture) {
  std::string err;
  EXPECT_FALSE(read_pcap(::testing::TempDir(), &err));
  EXPECT_FALSE(err.empty());
}

TEST(PcapFile, ATruncatedCaptureIsAnErrorNamingThePath) {
  const std::string path = temp_path("vnic_pcap_trunc_");
  {
    PcapWriter w;
    ASSERT_TRUE(w.open(path, nullptr));
    const std::vector<uint8_t> f(1000, 0x5A);
    w.write(1000, f);
    w.write(2000, f);
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  std::string err;
  EXPECT_FALSE(read_pcap(path, &err));
  EXPECT_NE(err.find(path), std::string::npos) << err;
  std::remove(path.c_str());
}

TEST(PcapFile, ReopeningStartsAFreshFile) {
  const std::string path = temp_path("vnic_pcap_reopen_");
  PcapWriter w;
  const std::vector<uint8_t> f(64, 0x77);
  ASSERT_TRUE(w.open(path, nullptr));
  w.write(1000, f);
  w.write(2000, f);
  ASSERT_TRUE(w.open(path, nullptr));
  EXPECT_EQ(w.records(), 0u);
  w.write(3000, f);
  w.close();
  const auto recs = read_pcap(path, nullptr);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].ts_ns, 3u);
  std::remove(path.c_str());
}
}  // namespace
