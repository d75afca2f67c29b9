// Dynamic queue limits (byte queue limits, BQL), after lib/dynamic_queue_limits.c of Linux 6.1:
// the limit grows when the queue starved during a completion interval and decays by the slack
// seen over a hold time. Time comes in as jiffies.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

namespace vnic::stack {

struct Dql {
  static constexpr unsigned kMaxObject = UINT_MAX / 16;         // DQL_MAX_OBJECT
  static constexpr unsigned kMaxLimit = (UINT_MAX / 2) - kMaxObject;  // DQL_MAX_LIMIT

  // Fields named as struct dql's.
  unsigned num_queued = 0;
  unsigned adj_limit = 0;
  unsigned last_obj_cnt = 0;
  unsigned limit = 0;
  unsigned num_completed = 0;
  unsigned prev_ovlimit = 0;
  unsigned prev_num_queued = 0;
  unsigned prev_last_obj_cnt = 0;
  unsigned lowest_slack = UINT_MAX;
  uint64_t slack_start_time = 0;  // jiffies
  unsigned max_limit = kMaxLimit;
  unsigned min_limit = 0;
  uint64_t slack_hold_time = 250;  // jiffies: HZ, as netdev queues use

  void init(uint64_t hold_time, uint64_t now_jiffies) {
    max_limit = kMaxLimit;
    min_limit = 0;
    slack_hold_time = hold_time;
    adj_limit = 0;
    reset(now_jiffies);
  }
  // dql_reset (as 6.1: adj_limit keeps its old value, so a reopened queue is not stopped at once).
  void reset(uint64_t now_jiffies) {
    limit = min_limit;
    num_queued = num_completed = last_obj_cnt = 0;
    prev_num_queued = prev_last_obj_cnt = prev_ovlimit = 0;
    lowest_slack = UINT_MAX;
    slack_start_time = now_jiffies;
  }
  // dql_queued
  void queued(unsigned count) {
    last_obj_cnt = count;
    num_queued += count;
  }
  // dql_avail: negative when over the limit.
  int avail() const { return static_cast<int>(adj_limit - num_queued); }
  unsigned inflight() const { return num_queued - num_completed; }
  // dql_completed
  void completed(unsigned count, uint64_t now_jiffies);
};

inline void Dql::completed(unsigned count, uint64_t now_jiffies) {
  auto posdiff = [](unsigned a, unsigned b) -> unsigned { return static_cast<int>(a - b) > 0 ? a - b : 0; };
  const unsigned done = num_completed + count;
  unsigned lim = limit;
  unsigned ovlimit = posdiff(num_queued - num_completed, lim);
  const unsigned inprogress = num_queued - done;
  const unsigned prev_inprogress = prev_num_queued - num_completed;
  const bool all_prev_completed = static_cast<int>(done - prev_num_queued) >= 0;  // AFTER_EQ

  if ((ovlimit && !inprogress) || (prev_ovlimit && all_prev_completed)) {
    // Starved: grow by what was sent and completed in the last interval, plus the old overshoot.
    lim += posdiff(done, prev_num_queued) + prev_ovlimit;
    slack_start_time = now_jiffies;
    lowest_slack = UINT_MAX;
  } else if (inprogress && prev_inprogress && !all_prev_completed) {
    // Busy the whole interval: shrink by the smallest slack seen over the hold time.
    unsigned slack = posdiff(lim + prev_ovlimit, 2 * (done - num_completed));
    const unsigned slack_last_objs = prev_ovlimit ? posdiff(prev_last_obj_cnt, prev_ovlimit) : 0;
    slack = std::max(slack, slack_last_objs);
    if (slack < lowest_slack) lowest_slack = slack;
    if (now_jiffies > slack_start_time + slack_hold_time) {  // time_after
      lim = posdiff(lim, lowest_slack);
      slack_start_time = now_jiffies;
      lowest_slack = UINT_MAX;
    }
  }
  lim = std::clamp(lim, min_limit, max_limit);
  if (lim != limit) {
    limit = lim;
    ovlimit = 0;
  }
  adj_limit = lim + done;
  prev_ovlimit = ovlimit;
  prev_last_obj_cnt = last_obj_cnt;
  num_completed = done;
  prev_num_queued = num_queued;
}

}  // namespace vnic::stack
