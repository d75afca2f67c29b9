// tshark's verdict on a capture for the tests with the kernel as a peer: the frames it finds
// malformed, with an error-level expert note, or with a bad IPv4, ICMP or UDP checksum.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "netns.hpp"

namespace vnic::tb::test {

inline bool have_tshark() { return run_command("command -v tshark").ok(); }

// The display filter for a bad frame (checksums are checked: ip.check_checksum and
// udp.check_checksum are off by default, and the calls below turn them on with kTsharkChecks).
inline constexpr const char* kTsharkBad =
    "_ws.malformed || _ws.expert.severity == error || ip.checksum.status == \"Bad\" || "
    "icmp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\"";
inline constexpr const char* kTsharkChecks = " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE";

// Frame numbers tshark flags in `path`; nullopt (with the reason in *why) if tshark failed.
inline std::optional<std::vector<int>> tshark_flagged(const std::string& path, std::string* why) {
  const CmdResult r = run_command("tshark -n -r " + path + std::string(kTsharkChecks) + " -Y '" + kTsharkBad +
                                  "' -T fields -e frame.number 2>/dev/null");
  if (!r.ok()) {
    *why = "tshark exited " + std::to_string(r.exit_code) + ": " + r.output;
    return std::nullopt;
  }
  std::vector<int> nums;
  std::istringstream in(r.output);
  int n;
  while (in >> n) nums.push_back(n);
  return nums;
}

// How many frames of `path` match the display filter `filter` (checksums checked); -1 if tshark failed.
inline int tshark_count(const std::string& path, const std::string& filter) {
  const CmdResult r = run_command("tshark -n -r " + path + kTsharkChecks + " -Y " + shell_quote(filter) +
                                  " -T fields -e frame.number 2>/dev/null");
  if (!r.ok()) return -1;
  std::istringstream in(r.output);
  int count = 0;
  int n;
  while (in >> n) ++count;
  return count;
}

// The fields `fields` (tshark -e, one line per frame, tab-separated) of the frames of `path` that
// match `filter` (checksums checked). `two_pass` (-2) lets later frames fill in earlier ones, e.g.
// ip.reassembled_in on the first fragments of a datagram. nullopt (reason in *why) if tshark failed.
inline std::optional<std::vector<std::string>> tshark_fields(const std::string& path, const std::string& filter,
                                                             const std::vector<std::string>& fields, std::string* why,
                                                             bool two_pass = false) {
  std::string cmd = "tshark -n -r " + path + (two_pass ? " -2" : "") + kTsharkChecks + " -Y " +
                    shell_quote(filter) + " -T fields";
  for (const std::string& f : fields) cmd += " -e " + shell_quote(f);
  const CmdResult r = run_command(cmd + " 2>/dev/null");
  if (!r.ok()) {
    *why = "tshark exited " + std::to_string(r.exit_code) + ": " + r.output;
    return std::nullopt;
  }
  std::vector<std::string> lines;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace vnic::tb::test
