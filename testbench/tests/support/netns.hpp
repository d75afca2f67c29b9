// NetNs: a throw-away Linux network namespace for tests whose peer is the host's own kernel
// (through a TAP device), with the prerequisite check that makes such a test skip, command
// runners (foreground with captured output, background with a kill on destruction), and
// clean-up in the destructor. Traffic stays inside the namespace: it holds only lo and the TAP.
// Also the files such tests write: temp_path, slurp.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace vnic::tb::test {

struct CmdResult {
  int exit_code = -1;  // the exit status; 128 + signal if killed; -1 if it could not be run
  std::string output;  // stdout and stderr together
  bool ok() const { return exit_code == 0; }
};

// A file of this process in the tests' temporary directory: PREFIX_STEM_PID.EXT (`prefix` names
// the test, e.g. "tap_udp"; `ext` has its dot).
inline std::string temp_path(const std::string& prefix, const std::string& stem, const std::string& ext) {
  return std::string(::testing::TempDir()) + prefix + "_" + stem + "_" + std::to_string(::getpid()) + ext;
}

// The whole of the file at `path`; empty if it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// 'text' as one single-quoted shell word.
inline std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Runs `cmd` with /bin/sh -c and waits for it.
inline CmdResult run_command(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen(("exec 2>&1; " + cmd).c_str(), "r");
  if (p == nullptr) {
    r.output = "popen failed: " + std::string(std::strerror(errno));
    return r;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  r.exit_code = decode_status(::pclose(p));
  return r;
}

// A command running in the background (its output goes to a file); wait() collects it, and the
// destructor kills it (SIGKILL, by its own pid) if it is still running.
class Background {
 public:
  Background(const std::string& cmd, std::string out_path) : out_path_(std::move(out_path)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    const std::string script = "exec " + cmd;  // the shell becomes the command: its pid is ours to kill
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    const int rc = ::posix_spawn(&pid_, "/bin/sh", &fa, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start '" + cmd + "': " + std::strerror(rc));
    }
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    ::unlink(out_path_.c_str());
  }

  // Waits up to `timeout` for the command to end (then kills it) and returns its result.
  CmdResult wait(std::chrono::milliseconds timeout) {
    CmdResult r;
    if (pid_ <= 0) return r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    pid_t w;
    while ((w = ::waitpid(pid_, &st, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (w == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
    }
    pid_ = -1;
    r.exit_code = w < 0 ? -1 : decode_status(st);
    r.output = slurp(out_path_);
    if (w == 0) r.output += "\n[killed after the timeout]";
    return r;
  }

 private:
  pid_t pid_ = -1;
  std::string out_path_;
};

class NetNs {
 public:
  static constexpr const char* kPrefix = "vnic-tap-";

  // Why the host kernel cannot be a TAP peer here (the test skips with it), or nullopt.
  static std::optional<std::string> unavailable(bool need_netns = true) {
    if (::geteuid() != 0) {
      return "needs root (CAP_NET_ADMIN) for a TAP device and a network namespace; running as uid " +
             std::to_string(::geteuid());
    }
    const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return "cannot open /dev/net/tun: " + std::string(std::strerror(errno));
    ::close(fd);
    if (!need_netns) return std::nullopt;
    const std::string probe = kPrefix + std::to_string(::getpid()) + "-probe";
    const CmdResult add = run_command("ip netns add " + probe);
    if (!add.ok()) return "'ip netns add' does not work here: " + add.output;
    run_command("ip netns del " + probe);
    return std::nullopt;
  }

  // A TAP name unique to this process (at most 15 characters).
  static std::string unique_ifname() {
    static int n = 0;
    return "vt" + std::to_string(::getpid()) + "x" + std::to_string(n++);
  }

  // Creates a uniquely named namespace (after deleting those left by dead test processes).
  // Throws std::runtime_error if it cannot.
  NetNs() {
    remove_stale();
    static int n = 0;
    name_ = kPrefix + std::to_string(::getpid()) + "-" + std::to_string(n++);
    const CmdResult r = run_command("ip netns add " + name_);
    if (!r.ok()) throw std::runtime_error("ip netns add " + name_ + ": " + r.output);
    exec_or_throw("ip link set lo up");
  }
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  ~NetNs() {
    for (const std::string& ifname : links_) run_command("ip -n " + name_ + " link del " + ifname);
    run_command("ip netns del " + name_);
  }

  const std::string& name() const { return name_; }

  // Moves `ifname`, a TAP this process holds open in the root namespace (TapPort opens it by
  // name and so creates it there), into the namespace; the open fd stays attached to it. Then,
  // inside: sets its MAC, turns IPv6 off on it (no router solicitations, MLD or DAD frames on the
  // wire), gives it `cidr` and brings it up. Throws std::runtime_error on any failure.
  void adopt_tap(const std::string& ifname, const std::string& mac, const std::string& cidr, int mtu = 1500) {
    const CmdResult mv = run_command("ip link set dev " + ifname + " netns " + name_);
    if (!mv.ok()) throw std::runtime_error("ip link set dev " + ifname + " netns " + name_ + ": " + mv.output);
    links_.push_back(ifname);
    const std::string v6 = "/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6";
    exec_or_throw("[ ! -e " + v6 + " ] || echo 1 > " + v6);  // absent: the kernel has no IPv6
    exec_or_throw("ip link set dev " + ifname + " address " + mac + " mtu " + std::to_string(mtu));
    exec_or_throw("ip addr add " + cidr + " dev " + ifname);
    exec_or_throw("ip link set dev " + ifname + " up");
  }

  // Runs a shell command inside the namespace and waits for it.
  CmdResult exec(const std::string& cmd) const {
    return run_command("ip netns exec " + name_ + " sh -c " + shell_quote(cmd));
  }
  void exec_or_throw(const std::string& cmd) const {
    const CmdResult r = exec(cmd);
    if (!r.ok()) throw std::runtime_error("in netns " + name_ + ": '" + cmd + "' failed: " + r.output);
  }
  // Starts a command inside the namespace in the background; its output goes to `out_path`.
  Background spawn(const std::string& cmd, const std::string& out_path) const {
    return Background("ip netns exec " + name_ + " " + cmd, out_path);
  }

 private:
  // Namespaces named kPrefix<pid>-... whose process is gone (a crashed test) are deleted.
  static void remove_stale() {
    const CmdResult list = run_command("ip netns list");
    if (!list.ok()) return;
    std::istringstream in(list.output);
    std::string line;
    while (std::getline(in, line)) {
      const std::string ns = line.substr(0, line.find(' '));
      if (ns.rfind(kPrefix, 0) != 0) continue;
      const std::string rest = ns.substr(std::strlen(kPrefix));
      const long pid = std::strtol(rest.c_str(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) run_command("ip netns del " + ns);
    }
  }

  std::string name_;
  std::vector<std::string> links_;
};

}  // namespace vnic::tb::test
