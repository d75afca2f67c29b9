// The reassembly fuzz harness: a NetStack on a FakeCpu (as stack/tests/support/net_rig.hpp builds
// one), the op interpreter, and the invariants of defrag_fuzz_harness.hpp.
#include "defrag_fuzz_harness.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/ip_frag.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/neighbour.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::fuzz::defrag {

namespace st = vnic::stack;
namespace w = vnic::stack::wire;
using model::Duration;
using model::Instant;

namespace {

// ------------------------------------------------------------------ failures

char g_where[160] = "";  // the op being run, for the message

[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
  std::fflush(stdout);
  std::fprintf(stderr, "vnic-defrag-fuzz: %s: ", g_where);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "\n");
  std::abort();
}

// ------------------------------------------------------------------ the addresses

const model::MacAddr kMacUs{{0x02, 0, 0, 0, 0, 0x0a}};
const model::MacAddr kMacBcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const model::MacAddr kMacPeer[4] = {{{0x02, 0, 0, 0, 0, 0x02}},
                                    {{0x02, 0, 0, 0, 0, 0x03}},
                                    {{0x02, 0, 0, 0, 0, 0x04}},
                                    {{0x02, 0, 0, 0, 0, 0xfe}}};  // 10.0.1.9: a router's, say
constexpr uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }
constexpr uint32_t kUs = ip(10, 0, 0, 1);
constexpr uint32_t kSources[4] = {ip(10, 0, 0, 2), ip(10, 0, 0, 3), ip(10, 0, 0, 4), ip(10, 0, 1, 9)};
constexpr uint32_t kBroadcast = ip(10, 0, 0, 255), kOther = ip(10, 0, 0, 7);

w::Ipv4Addr addr(uint32_t a) { return w::Ipv4Addr::from_u32(a); }

constexpr Duration kTimeSteps[16] = {Duration::us(1),   Duration::ms(1),   Duration::ms(4),  Duration::ms(10),
                                     Duration::ms(100), Duration::ms(500), Duration::s(1),   Duration::s(2),
                                     Duration::s(5),    Duration::s(10),   Duration::s(20),  Duration::s(29),
                                     Duration::s(30),   Duration::s(31),   Duration::s(60),  Duration::s(120)};
constexpr Duration kMaxSimTime = Duration::s(4 * 3600);

// ------------------------------------------------------------------ datagrams we know

// The reassembly key (struct frag_v4_compare_key without the user, always LOCAL_DELIVER).
struct Key {
  uint32_t src = 0, dst = 0;
  uint16_t ident = 0;
  uint8_t proto = 0;
  auto operator<=>(const Key&) const = default;
};

// Every datagram's bytes are known before it is cut: byte i of key k's payload is pattern(k, i),
// unless a Send wrote it (an ICMP echo with its checksum: Known::bytes), so any two fragments of
// one key agree wherever they overlap, and a reassembled payload can be checked byte by byte.
uint8_t pattern(const Key& k, uint32_t i) {
  uint32_t x = k.src * 0x9E3779B1u ^ k.dst * 0x85EBCA77u ^ (uint32_t{k.ident} << 8 | k.proto) * 0xC2B2AE3Du;
  x ^= i * 0x27D4EB2Fu;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return static_cast<uint8_t>(x);
}

struct Known {
  std::vector<uint8_t> bytes;          // what a Send wrote (pattern beyond)
  std::map<uint32_t, uint32_t> have;   // payload ranges some fragment carried [start, end), merged
  std::set<uint32_t> last_ends;        // where fragments without MF ended
  bool tainted = false;                // a RawFrag carried bytes of its own: content unknown
  bool used = false;                   // bytes were made from content(): it may not change now
  uint8_t content(const Key& k, uint32_t i) const { return i < bytes.size() ? bytes[i] : pattern(k, i); }
  void add(uint32_t start, uint32_t end) {
    if (start >= end) return;
    auto it = have.upper_bound(start);
    if (it != have.begin()) {
      auto p = std::prev(it);
      if (p->second >= start) {
        start = p->first;
        end = std::max(end, p->second);
        it = have.erase(p);
      }
    }
    while (it != have.end() && it->first <= end) {
      end = std::max(end, it->second);
      it = have.erase(it);
    }
    have.emplace(start, end);
  }
  bool covers(uint32_t end) const {
    if (end == 0) return true;
    auto it = have.upper_bound(0);
    if (it == have.begin()) return false;
    --it;
    return it->first == 0 && it->second >= end;
  }
};

struct IdInfo {
  Key key;
  uint32_t offset = 0;  // payload offset of what it carried
  bool fragment = false;
};

// A frame the stack sent that can come back (its addresses swapped).
struct Waiting {
  std::vector<uint8_t> ip;  // the datagram, rewritten: from the peer to us, checksum filled
  model::MacAddr from{};
};

// ------------------------------------------------------------------ the rig

struct CaptureDev : st::testing::StubNetDevice {
  std::vector<std::vector<uint8_t>> frames;
  st::NetdevTx start_xmit(st::SkBuff* skb, bool) override {
    frames.emplace_back(skb->bytes().begin(), skb->bytes().end());
    st::consume_skb(skb);
    return st::NetdevTx::Ok;
  }
};

using MibArray = std::array<uint64_t, sizeof(st::IpMib) / sizeof(uint64_t)>;
static_assert(sizeof(st::IpMib) % sizeof(uint64_t) == 0);
MibArray mib_array(const st::IpMib& m) {
  MibArray a;
  std::memcpy(a.data(), &m, sizeof(m));
  return a;
}

class Harness : public st::TraceSink {
 public:
  explicit Harness(bool verbose) : verbose_(verbose) {
    st::NetStackConfig cfg;
    cfg.name = "fuzz";
    net_ = std::make_unique<st::NetStack>(cfg, std::vector<st::Cpu*>{&cpu_}, pool_);
    net_->set_trace(this, "fuzz");
    net_->set_id_base(kIdBase);
    dev_.name = "eth0";
    dev_.dev_addr = kMacUs;
    ifindex_ = net_->register_netdev(dev_);
    dev_.up = true;
    dev_.carrier = true;
    dev_.netif_tx_start_queue();
    net_->netdev_up(ifindex_);
    net_->ip_addr_add(ifindex_, *w::Ipv4Cidr::parse("10.0.0.1/24"));
    net_->neigh().neigh_add(dev_, addr(kSources[0]), kMacPeer[0], st::kNudPermanent);
    net_->neigh().neigh_add(dev_, addr(kSources[1]), kMacPeer[1], st::kNudPermanent);
    icmp_ = std::make_unique<st::Icmp>(*net_);
    // The L4 handlers see every datagram handed up (ICMP's is called after the checks).
    for (uint8_t p : {uint8_t{17}, uint8_t{253}, uint8_t{1}}) net_->inet_add_protocol(p, &Harness::l4_cb, this);
    pool_.set_free_hook(&Harness::free_cb, this);
    drain(cpu_.now());
    dev_.frames.clear();
    mib_prev_ = net_->ip_mib();
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;
  ~Harness() override { pool_.set_free_hook(nullptr, nullptr); }

  void run(std::span<const uint8_t> in);
  void teardown();
  Summary summary() const { return sum_; }

  void trace(const char*, const model::TraceEvent& e) override {
    switch (e.kind) {
      case model::TraceKind::PacketMade:
      case model::TraceKind::IpFragment:
        if (e.packet != 0) made_.insert(e.packet);
        break;
      case model::TraceKind::IpReasm: reasm_events_.push_back(e.packet); break;
      default: break;
    }
  }

 private:
  static constexpr uint64_t kIdBase = uint64_t{1} << 32;

  static void free_cb(void* ctx, const st::SkBuff& s, st::SkbDropReason) {
    if (s.trace_id == 0) return;  // a reassembled head, or an original cut into fragments: its id goes on
    auto* h = static_cast<Harness*>(ctx);
    if (++h->ends_[s.trace_id] > 1) fail("packet %#llx ended twice", static_cast<unsigned long long>(s.trace_id));
  }
  static void l4_cb(void* ctx, st::SkBuff* skb) { static_cast<Harness*>(ctx)->deliver(skb); }

  void deliver(st::SkBuff* skb);
  void drain(Instant until);
  void after_op();
  void op_frag(uint8_t flow, uint16_t off8, std::span<const uint8_t> payload_or_empty, uint16_t len, uint8_t flags,
               bool raw);
  void op_time(uint8_t b);
  void op_sysctl(uint8_t which, uint8_t idx);
  void op_send(uint8_t flags, uint16_t len, uint8_t mtu_idx);
  void op_reflect(uint8_t mode, uint8_t count);
  // One IPv4 datagram arriving on eth0 (`pad` bytes of link padding after it); false if the pool
  // had no skb for it.
  bool inject(const std::vector<uint8_t>& dgram, std::size_t pad, const model::MacAddr& from,
              const model::MacAddr& to, const IdInfo& info);

  bool verbose_;
  st::testing::FakeCpu cpu_;
  st::testing::FakeMemory mem_;
  st::SkbPool pool_{mem_, 2048, 4096};
  CaptureDev dev_;
  std::unique_ptr<st::NetStack> net_;
  std::unique_ptr<st::Icmp> icmp_;
  int ifindex_ = 0;

  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, uint32_t> ends_;
  std::unordered_set<uint64_t> made_;  // ids the stack made (PacketMade, IpFragment) and ours
  std::unordered_map<uint64_t, IdInfo> ids_;
  std::map<Key, Known> known_;
  std::vector<uint64_t> reasm_events_;    // IpReasm in this op
  std::vector<uint64_t> reasm_handed_;    // reassembled datagrams handed up in this op
  std::vector<Waiting> waiting_;
  st::IpMib mib_prev_{};
  Summary sum_;
};

// ------------------------------------------------------------------ time

void Harness::drain(Instant until) {
  // FakeCpu::run would run every timer however far ahead: run only what is due by `until`.
  for (int guard = 0;; ++guard) {
    if (guard > 10'000'000) fail("the CPU never went quiet (a softirq or timer loop)");
    if (cpu_.run_softirqs()) continue;
    const auto t = cpu_.next_call_time();
    if (!t || *t > until) break;
    cpu_.run(1);
  }
  if (cpu_.now() < until) cpu_.set_now(until);
}

// ------------------------------------------------------------------ delivery checks

void Harness::deliver(st::SkBuff* skb) {
  ++sum_.delivered;
  const std::span<const uint8_t> nb = skb->network_bytes();
  const auto p = w::Ipv4Packet::checked(nb, w::ChecksumCheck::Verify);
  if (!p) fail("a datagram handed up is not valid IPv4 (%s)", std::string(w::name(p.error())).c_str());
  if (p->total_len() != nb.size()) fail("a datagram handed up has total length %u but %zu bytes", p->total_len(), nb.size());
  if (p->is_fragment()) fail("a datagram handed up still has MF or an offset (%#x)", p->flags_frag());
  if (skb->len != nb.size() - p->header_len()) fail("skb->data is not at the transport header");
  const Key k{p->src().to_u32(), p->dst().to_u32(), p->ident(), static_cast<uint8_t>(p->protocol())};
  const auto it = ids_.find(skb->trace_id);
  if (it == ids_.end()) fail("a datagram handed up under an id no packet we sent had (%#llx)",
                             static_cast<unsigned long long>(skb->trace_id));
  const IdInfo& info = it->second;
  if (info.key != k) fail("a datagram handed up under the id of another datagram's fragment");
  if (info.offset != 0) fail("a datagram handed up under the id of a fragment at offset %u", info.offset);
  const std::span<const uint8_t> pay = p->payload();
  const Known& kn = known_[k];
  if (info.fragment) {
    ++sum_.reassembled;
    reasm_handed_.push_back(skb->trace_id);
    if (!kn.covers(static_cast<uint32_t>(pay.size()))) {
      fail("a reassembled datagram of %zu payload bytes has bytes no fragment of its key carried", pay.size());
    }
    if (kn.last_ends.count(static_cast<uint32_t>(pay.size())) == 0) {
      fail("a reassembled datagram of %zu payload bytes ends where no last fragment ended", pay.size());
    }
  }
  if (!kn.tainted) {
    for (std::size_t i = 0; i < pay.size(); ++i) {
      if (pay[i] != kn.content(k, static_cast<uint32_t>(i))) {
        fail("datagram id %#x from %08x: payload byte %zu is %#x, the datagram's is %#x", k.ident, k.src, i, pay[i],
             kn.content(k, static_cast<uint32_t>(i)));
      }
    }
  }
  if (k.proto == 1) {
    icmp_->icmp_rcv(skb);
  } else {
    st::consume_skb(skb);
  }
}

void Harness::after_op() {
  const std::size_t queues = net_->frag_queues();
  const uint64_t mem = net_->frag_mem();
  if (queues == 0 && mem != 0) fail("no reassembly queue, but frag_mem() is %llu", static_cast<unsigned long long>(mem));
  sum_.max_frag_mem = std::max(sum_.max_frag_mem, mem);
  sum_.max_frag_queues = std::max<uint64_t>(sum_.max_frag_queues, queues);
  const st::IpMib& m = net_->ip_mib();
  const MibArray now = mib_array(m);
  const MibArray prev = mib_array(mib_prev_);
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (now[i] < prev[i]) fail("IP MIB counter #%zu went down (%llu -> %llu)", i, static_cast<unsigned long long>(prev[i]),
                               static_cast<unsigned long long>(now[i]));
  }
  if (m.ReasmOKs > m.ReasmReqds) fail("ReasmOKs %llu > ReasmReqds %llu", static_cast<unsigned long long>(m.ReasmOKs),
                                      static_cast<unsigned long long>(m.ReasmReqds));
  const uint64_t was_oks = mib_prev_.ReasmOKs;
  if (m.ReasmOKs - was_oks != reasm_events_.size()) {
    fail("ReasmOKs moved by %llu, IpReasm seen %zu times", static_cast<unsigned long long>(m.ReasmOKs - was_oks),
         reasm_events_.size());
  }
  // Every datagram reassembled for a protocol with a handler was handed up, once.
  std::vector<uint64_t> want;
  for (uint64_t id : reasm_events_) {
    const auto it = ids_.find(id);
    if (it == ids_.end() || !it->second.fragment || it->second.offset != 0) {
      fail("IpReasm under id %#llx, which no first fragment of ours had", static_cast<unsigned long long>(id));
    }
    if (it->second.key.proto != 6 && it->second.key.dst != kOther) want.push_back(id);
  }
  std::sort(want.begin(), want.end());
  std::sort(reasm_handed_.begin(), reasm_handed_.end());
  if (want != reasm_handed_) {
    fail("%zu datagrams reassembled for a handler, %zu handed up", want.size(), reasm_handed_.size());
  }
  reasm_events_.clear();
  reasm_handed_.clear();
  mib_prev_ = m;
}

// ------------------------------------------------------------------ ops

std::vector<uint8_t> ip_header(const Key& k, uint16_t frag_field, uint8_t tos, std::span<const uint8_t> opts,
                               std::size_t payload_len) {
  const std::size_t hl = 20 + opts.size();
  std::vector<uint8_t> b(hl + payload_len);
  b[0] = static_cast<uint8_t>(0x40 | hl / 4);
  b[1] = tos;
  w::store_be16(b, 2, static_cast<uint16_t>(hl + payload_len));
  w::store_be16(b, 4, k.ident);
  w::store_be16(b, 6, frag_field);
  b[8] = 64;
  b[9] = k.proto;
  w::store_ipv4(b, 12, addr(k.src));
  w::store_ipv4(b, 16, addr(k.dst));
  std::copy(opts.begin(), opts.end(), b.begin() + 20);
  const uint16_t c = w::internet_checksum(std::span<const uint8_t>(b).first(hl));
  w::store_be16(b, 10, c);
  return b;
}

bool Harness::inject(const std::vector<uint8_t>& dgram, std::size_t pad, const model::MacAddr& from,
                     const model::MacAddr& to, const IdInfo& info) {
  const std::size_t flen = std::max<std::size_t>(60, 14 + dgram.size() + pad);
  st::SkBuff* s = pool_.alloc(static_cast<uint32_t>(flen));
  if (s == nullptr) return false;
  std::memset(s->bytes().data(), 0x5A, s->len);  // the padding: junk, not zeros
  w::EthernetRepr eth;
  eth.dst = to;
  eth.src = from;
  eth.ethertype = static_cast<w::EtherType>(0x0800);
  eth.emit(s->bytes().first(14));
  std::memcpy(s->bytes().data() + 14, dgram.data(), dgram.size());
  const uint64_t id = kIdBase + ++next_id_;
  s->trace_id = id;
  s->tstamp = cpu_.now();
  ids_[id] = info;
  made_.insert(id);
  ++sum_.fragments_in;
  st::eth_type_trans(*s, dev_);
  const uint64_t mem_before = net_->frag_mem();
  const uint64_t high = net_->config().ipv4.ipfrag_high_thresh;
  const uint64_t truesize = s->truesize;
  net_->netif_receive_skb_core(s);
  drain(cpu_.now());
  const uint64_t mem = net_->frag_mem();
  const uint64_t bound = std::max(mem_before, high + truesize + st::kIpqSize);
  if (mem > bound) {
    fail("frag_mem() %llu after a fragment of truesize %llu, above ipfrag_high_thresh %llu + it + %u (it was %llu)",
         static_cast<unsigned long long>(mem), static_cast<unsigned long long>(truesize),
         static_cast<unsigned long long>(high), st::kIpqSize, static_cast<unsigned long long>(mem_before));
  }
  return true;
}

Key flow_key(uint8_t flow) {
  Key k;
  k.src = kSources[flow & 3u];
  k.proto = kProtocols[(flow >> 2) & 3u];
  k.ident = static_cast<uint16_t>(kIdentBase + ((flow >> 4) & 7u));
  k.dst = (flow & 0x80u) == 0 ? kUs : (k.ident % 2 == 0 ? kBroadcast : kOther);
  return k;
}

void Harness::op_frag(uint8_t flow, uint16_t off8, std::span<const uint8_t> raw_payload, uint16_t len, uint8_t flags,
                      bool raw) {
  const Key k = flow_key(flow);
  const uint32_t offset = static_cast<uint32_t>(off8 & w::kIpv4FragOffsetMask) * 8;
  uint16_t field = static_cast<uint16_t>(off8 & w::kIpv4FragOffsetMask);
  if ((flags & frag_flags::kMf) != 0) field |= w::kIpv4FlagMf;
  if ((flags & frag_flags::kDf) != 0) field |= w::kIpv4FlagDf;
  if ((flags & frag_flags::kReserved) != 0) field |= w::kIpv4FlagReserved;
  const uint8_t tos = static_cast<uint8_t>(0x10 | ((flags >> frag_flags::kEcnShift) & 3u));
  static constexpr uint8_t kOpts[4][4] = {{0}, {1, 1, 1, 0}, {0x94, 0x04, 0x00, 0x00}, {0x07, 0x01, 0x00, 0x00}};
  const unsigned ov = (flags >> frag_flags::kOptShift) & 3u;
  const std::span<const uint8_t> opts = ov == 0 ? std::span<const uint8_t>() : std::span<const uint8_t>(kOpts[ov], 4);
  const std::size_t hl = 20 + opts.size();
  if (!raw) len = static_cast<uint16_t>(std::min<std::size_t>(len, 9000));
  const std::size_t plen = std::min<std::size_t>(raw ? raw_payload.size() : len, 65535 - hl);
  std::vector<uint8_t> d = ip_header(k, field, tos, opts, plen);
  Known& kn = known_[k];
  if (raw) {
    std::copy_n(raw_payload.begin(), plen, d.begin() + static_cast<std::ptrdiff_t>(hl));
    if (plen > 0) kn.tainted = true;  // its bytes are the input's, not the datagram's
  } else {
    for (std::size_t i = 0; i < plen; ++i) d[hl + i] = kn.content(k, static_cast<uint32_t>(offset + i));
    kn.used = true;
  }
  kn.add(offset, static_cast<uint32_t>(offset + plen));
  if ((flags & frag_flags::kMf) == 0) kn.last_ends.insert(static_cast<uint32_t>(offset + plen));
  const model::MacAddr to = k.dst == kBroadcast ? kMacBcast : kMacUs;
  (void)inject(d, (flags & frag_flags::kPad) != 0 ? 20 : 0, kMacPeer[flow & 3u], to,
               IdInfo{k, offset, (field & (w::kIpv4FlagMf | w::kIpv4FragOffsetMask)) != 0});
}

void Harness::op_time(uint8_t b) {
  const Duration step = kTimeSteps[b & 15u] * ((b >> 4) + 1);
  if (cpu_.now() - Instant{} > kMaxSimTime) return;
  drain(cpu_.now() + step);
}

void Harness::op_sysctl(uint8_t which, uint8_t idx) {
  st::Ipv4Sysctls& s = net_->ipv4_sysctls();
  const st::Ipv4Sysctls was = s;
  switch (static_cast<Sysctl>(which % static_cast<uint8_t>(Sysctl::kCount))) {
    case Sysctl::HighThresh: s.ipfrag_high_thresh = kThreshMenu[idx & 15u]; break;
    case Sysctl::LowThresh: s.ipfrag_low_thresh = kThreshMenu[idx & 15u]; break;
    case Sysctl::MaxDist: s.ipfrag_max_dist = kMaxDistMenu[idx & 15u]; break;
    case Sysctl::Time: s.ipfrag_time_s = kTimeMenu[idx & 15u]; break;
    case Sysctl::kCount: break;
  }
  // proc_doulongvec_minmax: high below low (or low above high) is refused, -EINVAL.
  if (!st::ipfrag_thresh_valid(s)) s = was;
}

void Harness::op_send(uint8_t flags, uint16_t len, uint8_t mtu_idx) {
  const bool unresolved = (flags & 0x80u) != 0;
  const uint32_t dst = unresolved ? kSources[2] : kSources[flags & 1u];
  const bool df = (flags & 2u) != 0;
  const uint8_t proto = kProtocols[(flags >> 2) & 3u];
  const auto ident = static_cast<uint16_t>(kIdentBase + ((flags >> 4) & 7u));
  const uint32_t mtu = kMtus[mtu_idx & 15u];
  len = static_cast<uint16_t>(len & 0x3FFFu);
  dev_.mtu = mtu;
  // What comes back if it is reflected: from the peer to us, under the same id and protocol.
  const Key back{dst, kUs, ident, proto};
  Known& kn = known_[back];
  if (proto == 1 && !kn.used && len >= 8) {
    // An ICMP echo request whose checksum holds over exactly these bytes.
    kn.bytes.resize(len);
    for (uint32_t i = 0; i < len; ++i) kn.bytes[i] = pattern(back, i);
    kn.bytes[0] = 8;
    kn.bytes[1] = 0;
    kn.bytes[2] = kn.bytes[3] = 0;
    const uint16_t c = w::internet_checksum(kn.bytes);
    w::store_be16(kn.bytes, 2, c);
  }
  st::SkBuff* skb = net_->alloc_skb(cpu_, len);
  if (skb == nullptr) return;
  kn.used = true;
  for (uint32_t i = 0; i < len; ++i) skb->bytes()[i] = kn.content(back, i);
  skb_reset_transport_header(*skb);
  ++sum_.sends;
  dev_.frames.clear();
  const st::IpMib before = net_->ip_mib();
  st::NetStack::IpSend p;
  p.daddr = addr(dst);
  p.protocol = proto;
  p.df = df;
  p.id = ident;
  const int rc = net_->ip_send(cpu_, skb, p);
  drain(cpu_.now());
  const st::IpMib& after = net_->ip_mib();
  // The frames: IPv4 ones are this datagram's (ARP requests may come along for 10.0.0.4).
  uint32_t next = 0;
  bool ended = false;
  std::size_t n = 0;
  for (const std::vector<uint8_t>& f : dev_.frames) {
    if (f.size() < 14 || w::load_be16(f, 12) != 0x0800) continue;
    ++n;
    const std::span<const uint8_t> l3 = std::span<const uint8_t>(f).subspan(14);
    const auto ipv = w::Ipv4Packet::checked(l3, w::ChecksumCheck::Verify);
    if (!ipv) fail("ip_send put out a frame that is not valid IPv4 (%s)", std::string(w::name(ipv.error())).c_str());
    if (ipv->total_len() > mtu) fail("a fragment of %u bytes went out at MTU %u", ipv->total_len(), mtu);
    if (ipv->total_len() != l3.size()) fail("a sent fragment of %u bytes in a frame of %zu", ipv->total_len(), l3.size());
    if (ipv->src().to_u32() != kUs || ipv->dst().to_u32() != dst || ipv->ident() != ident ||
        static_cast<uint8_t>(ipv->protocol()) != proto) {
      fail("a sent fragment's addresses, id or protocol changed");
    }
    if (ended) fail("a fragment went out after the last one");
    if (ipv->frag_offset() != next) fail("a sent fragment at offset %u, expected %u", ipv->frag_offset(), next);
    const std::span<const uint8_t> pay = ipv->payload();
    if (ipv->more_fragments() && pay.size() % 8 != 0) fail("a sent fragment with MF carries %zu bytes", pay.size());
    if (ipv->dont_fragment() && ipv->is_fragment()) fail("a fragment went out with DF");
    for (std::size_t i = 0; i < pay.size(); ++i) {
      if (pay[i] != kn.content(back, static_cast<uint32_t>(next + i))) fail("sent fragment byte %zu differs", next + i);
    }
    next += static_cast<uint32_t>(pay.size());
    ended = !ipv->more_fragments();
    ++sum_.sent_frames;
    if (waiting_.size() < 4096) {
      Waiting wt;
      wt.ip.assign(l3.begin(), l3.end());
      const auto m = *w::Ipv4PacketMut::checked(wt.ip, w::ChecksumCheck::Skip);
      m.set_src(addr(dst));
      m.set_dst(addr(kUs));
      m.fill_checksum();
      wt.from = kMacPeer[unresolved ? 2 : (flags & 1u)];
      waiting_.push_back(std::move(wt));
    }
  }
  const bool fits = len + 20u <= mtu;
  if (unresolved) return;  // waiting for ARP: it goes out (or not) later
  if (rc == 0) {
    if (!ended || next != len) fail("ip_send answered 0 but its frames carried %u of %u bytes", next, len);
    if (!fits) {
      if (after.FragOKs != before.FragOKs + 1) fail("a datagram cut into fragments did not count FragOKs");
      if (after.FragCreates != before.FragCreates + n) {
        fail("%zu fragments went out, FragCreates moved by %llu", n,
             static_cast<unsigned long long>(after.FragCreates - before.FragCreates));
      }
    } else if (n != 1) {
      fail("a datagram that fits the MTU went out as %zu frames", n);
    }
  } else if (df && !fits) {
    if (n != 0) fail("a DF datagram over the MTU went out anyway");
    if (after.FragFails != before.FragFails + 1) fail("a DF datagram over the MTU did not count FragFails");
  }
}

void Harness::op_reflect(uint8_t mode, uint8_t count) {
  const auto m = static_cast<ReflectMode>(mode & 3u);
  const unsigned param = mode >> 2;
  const unsigned n = (count & 31u) + 1;
  for (unsigned i = 0; i < n && !waiting_.empty(); ++i) {
    std::size_t at = 0;
    switch (m) {
      case ReflectMode::Front: at = 0; break;
      case ReflectMode::Back: at = waiting_.size() - 1; break;
      case ReflectMode::Stride: at = (static_cast<std::size_t>(param | 1u) * (i + 1)) % waiting_.size(); break;
      case ReflectMode::Duplicate: at = param % waiting_.size(); break;
    }
    Waiting wt;
    if (m == ReflectMode::Duplicate) {
      wt = waiting_[at];
    } else {
      wt = std::move(waiting_[at]);
      waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(at));
    }
    const auto p = *w::Ipv4Packet::checked(wt.ip, w::ChecksumCheck::Skip);
    const Key k{p.src().to_u32(), p.dst().to_u32(), p.ident(), static_cast<uint8_t>(p.protocol())};
    Known& kn = known_[k];
    const uint32_t off = p.frag_offset();
    kn.add(off, off + static_cast<uint32_t>(p.payload().size()));
    if (!p.more_fragments()) kn.last_ends.insert(off + static_cast<uint32_t>(p.payload().size()));
    (void)inject(wt.ip, 0, wt.from, kMacUs, IdInfo{k, off, p.is_fragment()});
    after_op();
  }
}

// ------------------------------------------------------------------ the interpreter

struct Reader {
  std::span<const uint8_t> in;
  std::size_t at = 0;
  bool ok = true;
  uint8_t u8() {
    if (at + 1 > in.size()) {
      ok = false;
      return 0;
    }
    return in[at++];
  }
  uint16_t u16() {
    const uint8_t lo = u8();
    const uint8_t hi = u8();
    return static_cast<uint16_t>(lo | hi << 8);
  }
  std::span<const uint8_t> bytes(std::size_t n) {
    if (at + n > in.size()) {
      ok = false;
      return {};
    }
    const auto s = in.subspan(at, n);
    at += n;
    return s;
  }
};

std::string_view op_name(Op o) {
  switch (o) {
    case Op::Frag: return "frag";
    case Op::RawFrag: return "raw-frag";
    case Op::Time: return "time";
    case Op::Sysctl: return "sysctl";
    case Op::Send: return "send";
    case Op::Reflect: return "reflect";
    case Op::kCount: break;
  }
  return "?";
}

void Harness::run(std::span<const uint8_t> in) {
  Reader r{in};
  while (r.at < in.size() && sum_.ops < kMaxOps) {
    const auto o = static_cast<Op>(r.u8() % static_cast<uint8_t>(Op::kCount));
    const std::size_t at = r.at - 1;
    std::snprintf(g_where, sizeof(g_where), "op %u (%.*s) at byte %zu, t=%lld us", sum_.ops,
                  static_cast<int>(op_name(o).size()), op_name(o).data(), at,
                  static_cast<long long>((cpu_.now() - Instant{}).ps() / 1000000));
    switch (o) {
      case Op::Frag: {
        const uint8_t fl = r.u8();
        const uint16_t off = r.u16();
        const uint16_t len = r.u16();
        const uint8_t flags = r.u8();
        if (!r.ok) return;
        if (verbose_) std::printf("%4u frag flow=%02x off8=%u len=%u flags=%02x\n", sum_.ops, fl, off, len, flags);
        op_frag(fl, off, {}, len, flags, false);
        break;
      }
      case Op::RawFrag: {
        const uint8_t fl = r.u8();
        const uint16_t off = r.u16();
        const uint8_t flags = r.u8();
        const uint8_t n = r.u8();
        const auto bytes = r.bytes(n);
        if (!r.ok) return;
        if (verbose_) std::printf("%4u raw-frag flow=%02x off8=%u n=%u flags=%02x\n", sum_.ops, fl, off, n, flags);
        op_frag(fl, off, bytes, n, flags, true);
        break;
      }
      case Op::Time: {
        const uint8_t b = r.u8();
        if (!r.ok) return;
        if (verbose_) std::printf("%4u time %02x\n", sum_.ops, b);
        op_time(b);
        break;
      }
      case Op::Sysctl: {
        const uint8_t which = r.u8();
        const uint8_t idx = r.u8();
        if (!r.ok) return;
        if (verbose_) std::printf("%4u sysctl %u %u\n", sum_.ops, which % 4u, idx & 15u);
        op_sysctl(which, idx);
        break;
      }
      case Op::Send: {
        const uint8_t flags = r.u8();
        const uint16_t len = r.u16();
        const uint8_t mtu = r.u8();
        if (!r.ok) return;
        if (verbose_) std::printf("%4u send flags=%02x len=%u mtu=%u\n", sum_.ops, flags, len & 0x3FFFu, kMtus[mtu & 15u]);
        op_send(flags, len, mtu);
        break;
      }
      case Op::Reflect: {
        const uint8_t mode = r.u8();
        const uint8_t count = r.u8();
        if (!r.ok) return;
        if (verbose_) std::printf("%4u reflect mode=%02x count=%u (of %zu)\n", sum_.ops, mode, (count & 31u) + 1, waiting_.size());
        op_reflect(mode, count);
        break;
      }
      case Op::kCount: break;
    }
    dev_.frames.clear();
    after_op();
    ++sum_.ops;
  }
}

void Harness::teardown() {
  std::snprintf(g_where, sizeof(g_where), "teardown after %u ops", sum_.ops);
  const st::IpMib& m = net_->ip_mib();
  sum_.reasm_reqds = m.ReasmReqds;
  sum_.reasm_oks = m.ReasmOKs;
  sum_.reasm_fails = m.ReasmFails;
  sum_.reasm_timeout = m.ReasmTimeout;
  sum_.reasm_overlaps = m.ReasmOverlaps;
  sum_.frag_oks = m.FragOKs;
  sum_.frag_fails = m.FragFails;
  sum_.frag_creates = m.FragCreates;
  sum_.sim_ms = (cpu_.now() - Instant{}).ps() / 1'000'000'000;
  // What is still queued (fragments, ARP's waiting packets, a qdisc's) is freed with its owner:
  // each of those ends is counted too.
  icmp_.reset();
  net_.reset();
  dev_.qdisc.reset();
  if (pool_.live() != 0) fail("%llu sk_buffs still live after the stack is gone", static_cast<unsigned long long>(pool_.live()));
  if (pool_.buffers_in_use() != 0) {
    fail("%llu data buffers still in use after the stack is gone", static_cast<unsigned long long>(pool_.buffers_in_use()));
  }
  if (pool_.stats().double_frees != 0) fail("the pool saw %llu double frees", static_cast<unsigned long long>(pool_.stats().double_frees));
  for (uint64_t id : made_) {
    const auto it = ends_.find(id);
    if (it == ends_.end()) fail("packet %#llx never ended", static_cast<unsigned long long>(id));
  }
  for (const auto& [id, n] : ends_) {
    if (made_.count(id) == 0) fail("packet %#llx ended, but was never made", static_cast<unsigned long long>(id));
  }
  sum_.skbs = pool_.stats().allocs;
}

}  // namespace

std::string describe(const Summary& s) {
  return fmt::format(
      "ops {} frags in {} up {} reasm {} | ReasmReqds {} OKs {} Fails {} Timeout {} Overlaps {} | sends {} frames {} "
      "FragOKs {} FragFails {} FragCreates {} | frag_mem max {} queues max {} | skbs {} | {} ms",
      s.ops, s.fragments_in, s.delivered, s.reassembled, s.reasm_reqds, s.reasm_oks, s.reasm_fails,
      s.reasm_timeout, s.reasm_overlaps, s.sends, s.sent_frames, s.frag_oks, s.frag_fails, s.frag_creates,
      s.max_frag_mem, s.max_frag_queues, s.skbs, s.sim_ms);
}

Summary run_input(std::span<const uint8_t> input, bool verbose) {
  Harness h(verbose);
  h.run(input);
  h.teardown();
  return h.summary();
}

// ------------------------------------------------------------------ OpWriter

OpWriter& OpWriter::frag(const FragArgs& a) {
  op(Op::Frag);
  u8(a.flow);
  u16(a.offset8);
  u16(a.len);
  u8(a.flags);
  return *this;
}
OpWriter& OpWriter::raw_frag(uint8_t fl, uint16_t offset8, uint8_t flags, std::span<const uint8_t> payload) {
  op(Op::RawFrag);
  u8(fl);
  u16(offset8);
  u8(flags);
  const std::size_t n = std::min<std::size_t>(payload.size(), 255);
  u8(static_cast<uint8_t>(n));
  b_.insert(b_.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(n));
  return *this;
}
OpWriter& OpWriter::time(uint8_t step) {
  op(Op::Time);
  u8(step);
  return *this;
}
OpWriter& OpWriter::sysctl(Sysctl which, uint8_t index) {
  op(Op::Sysctl);
  u8(static_cast<uint8_t>(which));
  u8(index);
  return *this;
}
OpWriter& OpWriter::send(uint8_t flags, uint16_t len, uint8_t mtu_index) {
  op(Op::Send);
  u8(flags);
  u16(len);
  u8(mtu_index);
  return *this;
}
OpWriter& OpWriter::reflect(ReflectMode mode, uint8_t param, uint8_t count) {
  op(Op::Reflect);
  u8(static_cast<uint8_t>(static_cast<uint8_t>(mode) | param << 2));
  u8(static_cast<uint8_t>(count - 1));
  return *this;
}
OpWriter& OpWriter::datagram(uint8_t fl, uint16_t total, uint16_t piece, bool reverse, uint8_t extra_flags) {
  std::vector<FragArgs> v;
  for (uint32_t off = 0; off < total; off += piece) {
    const uint32_t len = std::min<uint32_t>(piece, total - off);
    const bool last = off + len >= total;
    v.push_back({fl, static_cast<uint16_t>(off / 8), static_cast<uint16_t>(len),
                 static_cast<uint8_t>(extra_flags | (last ? 0 : frag_flags::kMf))});
  }
  if (reverse) std::reverse(v.begin(), v.end());
  for (const FragArgs& a : v) frag(a);
  return *this;
}

}  // namespace vnic::fuzz::defrag
