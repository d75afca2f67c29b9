// The iptables fuzz target's seeds: the rules of stack/tests/netfilter_test.cpp's kinds (each
// table and hook, matches, targets, user chains, jumps, gotos and RETURN, policies), the kernel's
// and iptables' refusals, and packets that reach every verdict (policy, rule, REJECT, hotdrop).
#include "iptables_fuzz_seeds.hpp"

#include <array>
#include <initializer_list>
#include <string_view>

#include "iptables_fuzz_harness.hpp"

namespace vnic::fuzz::ipt {

namespace {
namespace ps = packet_shape;
constexpr uint8_t kPre = 0, kIn = 1, kFwd = 2, kOut = 3, kPost = 4;
constexpr uint8_t kTcp = 0, kUdp = 1, kIcmp = 2, kGre = 3;
constexpr uint8_t devs(unsigned in, unsigned out) { return static_cast<uint8_t>(in | out << 3); }

Writer commands(std::initializer_list<std::string_view> lines) {
  Writer w;
  for (std::string_view l : lines) w.command(l);
  return w;
}
Writer::PacketArgs pkt(uint8_t hook, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t shape = 0,
                       uint8_t devices = devs(1, 2), uint8_t src = 1, uint8_t dst = 0) {
  Writer::PacketArgs a;
  a.hook = hook;
  a.devices = devices;
  a.src = src;
  a.dst = dst;
  a.proto = proto;
  a.shape = shape;
  a.sport = sport;
  a.dport = dport;
  return a;
}
}  // namespace

std::vector<IptablesSeed> iptables_seed_corpus() {
  std::vector<IptablesSeed> s;
  auto add = [&](std::string name, const Writer& w) { s.push_back({std::move(name), w.bytes()}); };

  add("drop--filter-input-udp-dport-53",
      commands({"-A INPUT -p udp --dport 53 -j DROP"}).packet(pkt(kIn, kUdp, 1000, 53)).packet(pkt(kIn, kUdp, 1000, 54)));
  add("reject--forward-icmp-host-prohibited",
      commands({"-A FORWARD -s 10.0.0.0/8 -p icmp -j REJECT --reject-with icmp-host-prohibited"})
          .packet(pkt(kFwd, kIcmp, 8, 0)).packet(pkt(kFwd, kUdp, 1, 2)));
  add("policy--drop-policy-user-chain-return",
      commands({"-N user1", "-A user1 -p tcp --dport 22 -j RETURN", "-A user1 -j ACCEPT", "-A INPUT -j user1",
                "-P INPUT DROP"})
          .packet(pkt(kIn, kTcp, 40000, 22)).packet(pkt(kIn, kTcp, 40000, 80)).command("-L -v -n -x --line-numbers"));
  add("hotdrop--truncated-udp-header",
      commands({"-A INPUT -p udp --sport 1000 -j ACCEPT"}).packet(pkt(kIn, kUdp, 1000, 53, ps::l4_cut(2))));
  add("hotdrop--tcp-evil-offset-1",
      commands({"-A FORWARD -p tcp --dport 80 -j DROP"}).packet(pkt(kFwd, kTcp, 1, 80, ps::frag(1))));
  add("refused--loop-through-user-chains",
      commands({"-N user1", "-N user2", "-A user1 -j user2", "-A user2 -j user1", "-A INPUT -j user1",
                "-A INPUT -g user2", "-S"}));
  add("refused--reject-outside-filter",
      commands({"-t mangle -A INPUT -j REJECT", "-t raw -N user1", "-t raw -A user1 -j REJECT",
                "-t filter -A OUTPUT -j REJECT --reject-with tcp-reset"}));
  add("refused--iptables-and-libiptc-errors",
      commands({"-A INPUT -s 10.0.0.300 -j DROP", "-D INPUT -p tcp -j ACCEPT", "-X INPUT", "-A INPUT -j nochain",
                "-A INPUT -m tcp --dport 22 -j DROP", "-A INPUT -p tcp -m state --state NEW", "-I INPUT 5 -j DROP",
                "-P user1 DROP", "-t nat -L", "-A INPUT -o eth0 -j DROP", "-N ACCEPT", "--bogus", "-A"}));
  add("drop--raw-prerouting-and-mangle",
      commands({"-t raw -A PREROUTING -s 10.0.0.2 -j DROP", "-t mangle -A POSTROUTING -o eth0 -j ACCEPT",
                "-t mangle -P FORWARD DROP"})
          .packet(pkt(kPre, kUdp, 1, 2, 0, devs(1, 0), 1))
          .packet(pkt(kPre, kUdp, 1, 2, 0, devs(1, 0), 2))
          .packet(pkt(kFwd, kTcp, 1, 2))
          .packet(pkt(kPost, kIcmp, 0, 0, 0, devs(0, 1)))
          .packet(pkt(kOut, kGre, 0, 0, ps::kOptions, devs(0, 1))));
  add("drop--fragments-and-icmp-type",
      commands({"-A INPUT -f -j DROP", "-A INPUT ! -f -p icmp --icmp-type echo-request -j ACCEPT",
                "-A INPUT -p icmp -m icmp ! --icmp-type 3/3 -j DROP"})
          .packet(pkt(kIn, kUdp, 1, 2, ps::frag(2)))
          .packet(pkt(kIn, kIcmp, 8, 0))
          .packet(pkt(kIn, kIcmp, 0, 0))
          .packet(pkt(kIn, kIcmp, 3, 3, ps::frag(3))));
  add("any--list-zero-rename-flush-delete",
      commands({"-N user1", "-A user1 -j RETURN", "-A INPUT -j user1", "-L -v -n -x --line-numbers", "-Z",
                "-E user1 user3", "-S", "-F", "-X", "-S -v", "-L INPUT 1", "-Z INPUT 1"}));
  {
    Writer w;
    const std::array<uint8_t, 10> ten{0x45, 0, 0, 10, 0, 0, 0, 0, 64, 17};
    const std::array<uint8_t, 20> v6{0x60, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    w.command("-A INPUT -j DROP").raw_packet(kIn, 0, ten).raw_packet(kIn, 0, v6).packet(pkt(kIn, kUdp, 1, 2, ps::kCut));
    add("unreadable--short-bytes-and-version-6", w);
  }
  add("drop--interfaces-and-plus",
      commands({"-A FORWARD -i eth+ -o eth1 -j DROP", "-A FORWARD ! -i lo -o wlan0 -j ACCEPT"})
          .packet(pkt(kFwd, kUdp, 1, 2, 0, devs(1, 2)))
          .packet(pkt(kFwd, kUdp, 1, 2, 0, devs(1, 5)))
          .packet(pkt(kFwd, kUdp, 1, 2, 0, devs(3, 2))));
  add("drop--goto-insert-replace-delete",
      commands({"-N user1", "-A user1 -j DROP", "-I INPUT 1 -p udp -g user1", "-R INPUT 1 -p tcp -g user1",
                "-A INPUT -p udp --sport 1000:2000 -j user1", "-D INPUT 1"})
          .packet(pkt(kIn, kUdp, 1500, 2))
          .packet(pkt(kIn, kTcp, 1500, 2)));
  add("drop--multiple-addresses-and-check",
      commands({"-A OUTPUT -d 10.0.0.1,10.0.0.2 -j DROP", "-C OUTPUT -d 10.0.0.1 -j DROP", "-S OUTPUT"})
          .packet(pkt(kOut, kUdp, 1, 2, ps::kPad, devs(0, 1), 0, 1)));
  add("policy--every-table-every-hook",
      commands({"-t raw -S", "-t mangle -S", "-S", "-t mangle -P PREROUTING DROP", "-P OUTPUT DROP"})
          .packet(pkt(kPre, kUdp, 1, 2, 0, devs(1, 0)))
          .packet(pkt(kIn, kUdp, 1, 2, 0, devs(1, 0)))
          .packet(pkt(kFwd, kUdp, 1, 2))
          .packet(pkt(kOut, kUdp, 1, 2, 0, devs(0, 1)))
          .packet(pkt(kPost, kUdp, 1, 2, 0, devs(0, 1))));
  add("any--words-and-quotes",
      commands({"iptables -vnL", "-nvL INPUT", "-Ztfilter", "-pudp", "-A INPUT --proto udp --dport=53 -jDROP",
                "-A INPUT -p tcp --syn -j DROP", "-A INPUT -p udp --sport :1024 --dport 1024: -j ACCEPT",
                "-V", "-h", "--"}));
  // iptables 1.8.9's -E takes a name -N refuses (a target's, 29 characters): the listing has a
  // -N line that cannot be fed back (the harness's round trip stops there).
  add("any--rename-to-a-target-name-and-a-long-name",
      commands({"-N user1", "-N user2", "-A INPUT -j user1", "-E user1 AUDIT", "-E user2 abcdefghijklmnopqrstuvwxyz012",
                "-S"})
          .packet(pkt(kIn, kUdp, 1, 2)));
  return s;
}

}  // namespace vnic::fuzz::ipt
