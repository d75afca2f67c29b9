// vnic_udp_peer: the kernel's side of tap_udp_sctest.cpp, run in the test's network namespace
// (`ip netns exec NS vnic_udp_peer ...`). It opens real AF_INET UDP sockets and prints one
// summary line the test parses ("udp_peer <mode> key=value ..."); before its first datagram it
// prints "udp_peer <mode> ready" (the socket is bound or connected). Modes:
//
//   server PORT COUNT FIRST_MS IDLE_MS
//       Receives the simulated client's requests (udp_payload kSimRequest) on 0.0.0.0:PORT, checks
//       each byte for byte, and answers each good one with its response (kKernelResponse, same
//       sequence number) to the sender. Ends when COUNT distinct requests came, or when none came
//       for FIRST_MS (before the first) / IDLE_MS (after it).
//   client ADDR PORT COUNT WINDOW IDLE_MS LOCAL_PORT
//       A socket bound to 0.0.0.0:LOCAL_PORT and connected to ADDR:PORT sends requests 0..COUNT-1 (kKernelRequest) with at most
//       WINDOW unanswered (self-paced by the answers: no flood) and checks every response
//       (kSimResponse) byte for byte. When no response comes for IDLE_MS, the unanswered ones
//       count as missing and the window refills. Ends when every request is answered or missing.
//   refused ADDR PORT LOCAL_PORT
//       A socket bound to 0.0.0.0:LOCAL_PORT and connected to ADDR:PORT (nobody listens there) sends a datagram and waits in
//       recv() (3 s at most): after the peer's ICMP port unreachable recv() fails with
//       ECONNREFUSED. It sends again, waits 300 ms, and sends a third time: that send fails with
//       ECONNREFUSED.
//
// The exit status is 0 when the mode ran to its end (whatever it found), 2 on a usage or set-up
// error (the reason on stderr).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "udp_payload.hpp"

namespace {

namespace up = vnic::tb::test::udp_payload;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "udp_peer: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: vnic_udp_peer server PORT COUNT FIRST_MS IDLE_MS\n"
               "       vnic_udp_peer client ADDR PORT COUNT WINDOW IDLE_MS LOCAL_PORT\n"
               "       vnic_udp_peer refused ADDR PORT LOCAL_PORT\n");
  std::exit(2);
}

unsigned long number(const char* s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') usage();
  return v;
}

sockaddr_in address(const char* addr, unsigned long port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (port == 0 || port > 65535 || ::inet_pton(AF_INET, addr, &sa.sin_addr) != 1) usage();
  return sa;
}

int udp_socket() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  return fd;
}

void set_rcvtimeo(int fd, unsigned long ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) die("setsockopt SO_RCVTIMEO");
}

void ready(const char* mode) {
  std::printf("udp_peer %s ready\n", mode);
  std::fflush(stdout);
}

// errno's name (ECONNREFUSED), "ok" for 0.
std::string err_name(int e) {
  if (e == 0) return "ok";
  const char* n = ::strerrorname_np(e);
  return n != nullptr ? n : "E" + std::to_string(e);
}

void bind_any(int fd, unsigned long port) {
  if (port == 0 || port > 65535) usage();
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) die("bind");
}

int server(unsigned long port, unsigned long count, unsigned long first_ms, unsigned long idle_ms) {
  const int fd = udp_socket();
  bind_any(fd, port);
  set_rcvtimeo(fd, first_ms);
  ready("server");
  std::vector<uint8_t> seen(count, 0);
  std::vector<uint8_t> buf(65536), scratch, reply;
  unsigned long received = 0, ok = 0, bad = 0, dup = 0, replied = 0, send_errors = 0, recv_errors = 0;
  int last_errno = 0;
  while (ok < count) {
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // idle: the client is done (or gone)
      if (errno == EINTR) continue;
      ++recv_errors;
      last_errno = errno;
      continue;
    }
    if (received++ == 0) set_rcvtimeo(fd, idle_ms);
    const int64_t seq = static_cast<std::size_t>(n) <= buf.size()
                            ? up::check(up::kSimRequest, buf.data(), static_cast<std::size_t>(n), scratch)
                            : -1;
    if (seq < 0 || static_cast<unsigned long>(seq) >= count) {
      ++bad;
      continue;
    }
    if (seen[static_cast<std::size_t>(seq)]++ != 0) {
      ++dup;
      continue;
    }
    ++ok;
    up::make(up::kKernelResponse, static_cast<uint32_t>(seq), reply);
    if (::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from), flen) ==
        static_cast<ssize_t>(reply.size())) {
      ++replied;
    } else {
      ++send_errors;
      last_errno = errno;
    }
  }
  std::printf("udp_peer server received=%lu ok=%lu bad=%lu dup=%lu replied=%lu send_errors=%lu recv_errors=%lu "
              "last_error=%s\n",
              received, ok, bad, dup, replied, send_errors, recv_errors, err_name(last_errno).c_str());
  ::close(fd);
  return 0;
}

int client(const sockaddr_in& peer, unsigned long count, unsigned long window, unsigned long idle_ms,
           unsigned long local_port) {
  const int fd = udp_socket();
  bind_any(fd, local_port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) die("connect");
  set_rcvtimeo(fd, idle_ms);
  ready("client");
  // Per request: 0 not sent yet, 1 waiting for its answer, 2 answered, 3 given up (missing),
  // 4 answered after it was given up (late), 5 its send failed.
  std::vector<uint8_t> state(count, 0);
  std::vector<uint8_t> buf(65536), scratch, req;
  unsigned long next = 0, waiting = 0, sent = 0, received = 0, ok = 0, bad = 0, dup = 0, late = 0, timeouts = 0,
                send_errors = 0, recv_errors = 0;
  int last_errno = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    while (next < count && waiting < window) {
      up::make(up::kKernelRequest, static_cast<uint32_t>(next), req);
      if (::send(fd, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size())) {
        state[next] = 1;
        ++waiting;
        ++sent;
      } else {
        state[next] = 5;
        ++send_errors;
        last_errno = errno;
      }
      ++next;
    }
    if (waiting == 0 && next == count) break;
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ++timeouts;
        for (auto& s : state) {
          if (s == 1) s = 3;
        }
        waiting = 0;
        continue;
      }
      ++recv_errors;  // e.g. ECONNREFUSED: the peer's port was closed
      last_errno = errno;
      continue;
    }
    ++received;
    const int64_t seq = static_cast<std::size_t>(n) <= buf.size()
                            ? up::check(up::kSimResponse, buf.data(), static_cast<std::size_t>(n), scratch)
                            : -1;
    if (seq < 0 || static_cast<unsigned long>(seq) >= count) {
      ++bad;
      continue;
    }
    uint8_t& s = state[static_cast<std::size_t>(seq)];
    if (s == 1) {
      s = 2;
      ++ok;
      --waiting;
    } else if (s == 3) {
      s = 4;
      ++late;
    } else {
      ++dup;
    }
  }
  unsigned long missing = 0;
  for (const auto s : state) missing += s == 3 ? 1 : 0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("udp_peer client sent=%lu received=%lu ok=%lu bad=%lu dup=%lu late=%lu missing=%lu timeouts=%lu "
              "send_errors=%lu recv_errors=%lu last_error=%s seconds=%.3f\n",
              sent, received, ok, bad, dup, late, missing, timeouts, send_errors, recv_errors,
              err_name(last_errno).c_str(), secs);
  ::close(fd);
  return 0;
}

int refused(const sockaddr_in& peer, unsigned long local_port) {
  const int fd = udp_socket();
  bind_any(fd, local_port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) die("connect");
  set_rcvtimeo(fd, 3000);
  ready("refused");
  static const char kProbe[] = "vnic udp_peer: is anyone there?";
  const auto send_probe = [&]() {
    return ::send(fd, kProbe, sizeof kProbe - 1, 0) == static_cast<ssize_t>(sizeof kProbe - 1) ? 0 : errno;
  };
  const int first = send_probe();
  char buf[64];
  const int recv_err = ::recv(fd, buf, sizeof buf, 0) < 0 ? errno : 0;
  const int second = send_probe();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int third = send_probe();
  std::printf("udp_peer refused first_send=%s recv=%s second_send=%s third_send=%s\n", err_name(first).c_str(),
              err_name(recv_err).c_str(), err_name(second).c_str(), err_name(third).c_str());
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage();
  const std::string mode = argv[1];
  if (mode == "server" && argc == 6) return server(number(argv[2]), number(argv[3]), number(argv[4]), number(argv[5]));
  if (mode == "client" && argc == 8) {
    const unsigned long window = number(argv[5]);
    if (window == 0) usage();
    return client(address(argv[2], number(argv[3])), number(argv[4]), window, number(argv[6]), number(argv[7]));
  }
  if (mode == "refused" && argc == 5) return refused(address(argv[2], number(argv[3])), number(argv[4]));
  usage();
}
