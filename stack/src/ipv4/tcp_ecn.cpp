// Explicit Congestion Notification for TCP (RFC 3168) as Linux 6.1 does it: the negotiation
// (tcp_ecn_send_syn, tcp_ecn_create_request, tcp_ecn_make_synack, tcp_ecn_rcv_synack,
// tcp_ecn_rcv_syn, tcp_ecn_clear_syn), the sender's marks (tcp_ecn_send: ECT(0) on new data
// through the socket's tos, INET_ECN_xmit / INET_ECN_dontxmit; CWR once after a reduction), the
// receiver's echo (tcp_ecn_check_ce: CE sets TCP_ECN_DEMAND_CWR and ECE rides on every ACK until a
// CWR arrives, tcp_ecn_accept_cwr), and the sender's reaction (FLAG_ECE from
// tcp_ecn_rcv_ecn_echo; the CA state machine in tcp_recovery.cpp enters CWR). No congestion
// control here asks for ECN itself (tcp_ca_needs_ecn: DCTCP), and no route feature
// (RTAX_FEATURE_ECN) turns it on: net.ipv4.tcp_ecn decides. docs/tcp.md ("ECN").
#include "tcp_engine.hpp"

namespace vnic::stack {

using wire::kTcpAck;
using wire::kTcpCwr;
using wire::kTcpEce;
using wire::kTcpFin;
using wire::kTcpSyn;
using wire::seq_before;

void TcpEngine::ecn_send(TcpSock& sk, const TcpSeg& seg, bool retrans, uint8_t& flags) {
  // Called by transmit() for every segment, once its flags are known and before the IP header is
  // made (p.tos is read from sk.tos after this).
  if ((flags & kTcpSyn) != 0) {
    flags &= static_cast<uint8_t>(~(kTcpEce | kTcpCwr));
    if ((flags & kTcpAck) != 0) {
      // tcp_make_synack (a request sock: ecn_ok) / tcp_ecn_send_synack (simultaneous open): ECE
      // alone when ECN is on. The SYN-ACK itself is never ECT.
      if ((sk.ecn_flags & kTcpEcnOk) != 0) flags |= kTcpEce;
    } else if (!retrans) {
      // tcp_ecn_send_syn: ask with ECE|CWR when tcp_ecn is 1 (the SYN is Not-ECT)
      sk.ecn_flags = 0;
      if (sys_.tcp_ecn == 1) {
        sk.ecn_flags = kTcpEcnOk;
        flags |= kTcpEce | kTcpCwr;
      }
    } else if ((sk.ecn_flags & kTcpEcnOk) != 0 && sys_.tcp_ecn_fallback == 0) {
      // tcp_retransmit_skb's tcp_ecn_clear_syn: with tcp_ecn_fallback (the default) the SYN goes
      // again without ECE|CWR (a middlebox may drop ECN-setup SYNs); TCP_ECN_OK stays until the
      // SYN-ACK says
      flags |= kTcpEce | kTcpCwr;
    }
    return;
  }
  // tcp_ecn_send
  if ((sk.ecn_flags & kTcpEcnOk) == 0) return;
  if (seg.len > 0 && !seq_before(seg.seq, sk.snd_nxt)) {
    // new data: ECT(0), and CWR on the first one after a window reduction
    sk.tos |= kInetEcnEct0;
    if ((sk.ecn_flags & kTcpEcnQueueCwr) != 0) {
      sk.ecn_flags &= static_cast<uint8_t>(~kTcpEcnQueueCwr);
      flags |= kTcpCwr;
    }
  } else {
    // an ACK, a retransmission, a probe: Not-ECT
    sk.tos &= static_cast<uint8_t>(~kInetEcnMask);
  }
  if ((sk.ecn_flags & kTcpEcnDemandCwr) != 0) flags |= kTcpEce;
}

void TcpEngine::ecn_create_request(TcpSock& req, const SkBuff& skb, const wire::TcpRepr& th) {
  // tcp_ecn_create_request: an ECN-setup SYN (ECE and CWR) that is not itself ECT, and tcp_ecn
  // not 0 (1 or 2: the listener accepts either way). The SYN's reserved bits (AccECN) are not read.
  req.ecn_flags = 0;
  if ((th.flags & (kTcpEce | kTcpCwr)) != (kTcpEce | kTcpCwr)) return;
  const auto nh = skb.network_bytes();
  const bool ect = nh.size() >= 2 && (nh[1] & kInetEcnMask) != kInetEcnNotEct;
  if (!ect && sys_.tcp_ecn != 0) req.ecn_flags = kTcpEcnOk;  // inet_rsk(req)->ecn_ok, the child's TCP_ECN_OK
}

void TcpEngine::ecn_rcv_synack(TcpSock& sk, const wire::TcpRepr& th) {
  // tcp_ecn_rcv_synack: on only if the SYN-ACK has ECE and not CWR
  if ((sk.ecn_flags & kTcpEcnOk) != 0 && ((th.flags & kTcpEce) == 0 || (th.flags & kTcpCwr) != 0)) {
    sk.ecn_flags &= static_cast<uint8_t>(~kTcpEcnOk);
  }
}

void TcpEngine::ecn_rcv_syn(TcpSock& sk, const wire::TcpRepr& th) {
  // tcp_ecn_rcv_syn (simultaneous open): the peer's SYN must have asked too
  if ((sk.ecn_flags & kTcpEcnOk) != 0 && ((th.flags & kTcpEce) == 0 || (th.flags & kTcpCwr) == 0)) {
    sk.ecn_flags &= static_cast<uint8_t>(~kTcpEcnOk);
  }
}

int TcpEngine::ecn_ack(TcpSock& sk, const wire::TcpRepr& th, int flag) {
  // tcp_ack, after the window update: tcp_ecn_rcv_ecn_echo on the slow path (header prediction
  // never takes a segment with ECE or CWR), then tcp_ecn_accept_cwr on every ACK
  int ece = 0;
  const bool slow = (flag & (kFlagSlowpath | kFlagSndUnaAdvanced)) != kFlagSndUnaAdvanced;
  if (slow && (th.flags & kTcpEce) != 0 && (th.flags & kTcpSyn) == 0 && (sk.ecn_flags & kTcpEcnOk) != 0) {
    ece = kFlagEce;
  }
  if ((th.flags & kTcpCwr) != 0) {
    // the sender reduced its window: stop echoing; it may be down to one segment, so a data
    // segment is acked at once
    sk.ecn_flags &= static_cast<uint8_t>(~kTcpEcnDemandCwr);
    if (th.payload_len != 0 || (th.flags & (kTcpSyn | kTcpFin)) != 0) sk.ack_pending |= kAckNow;
  }
  return ece;
}

void TcpEngine::ecn_check_ce(TcpSock& sk, const SkBuff& skb) {
  // tcp_ecn_check_ce / __tcp_ecn_check_ce on a data segment taken in (in order or out of order):
  // the ECN field of its IP header (TCP_SKB_CB(skb)->ip_dsfield)
  if ((sk.ecn_flags & kTcpEcnOk) == 0) return;
  const auto nh = skb.network_bytes();
  if (nh.size() < 2) return;
  switch (nh[1] & kInetEcnMask) {
    case kInetEcnNotEct:
      // Not-ECT after ECT was seen: probably a retransmission; ACK it quickly
      if ((sk.ecn_flags & kTcpEcnSeen) != 0) enter_quickack_mode(sk, 2);
      break;
    case kInetEcnCe:
      if ((sk.ecn_flags & kTcpEcnDemandCwr) == 0) {
        // the sender may have a very small window: no delayed ACKs for a while
        enter_quickack_mode(sk, 2);
        sk.ecn_flags |= kTcpEcnDemandCwr;
      }
      sk.ecn_flags |= kTcpEcnSeen;
      break;
    default: sk.ecn_flags |= kTcpEcnSeen; break;  // ECT(0) or ECT(1)
  }
}

void TcpEngine::ecn_queue_cwr(TcpSock& sk) {
  // tcp_ecn_queue_cwr: a reduction (CWR, Recovery, Loss) is to be told with CWR on new data
  if ((sk.ecn_flags & kTcpEcnOk) != 0) sk.ecn_flags |= kTcpEcnQueueCwr;
}

void TcpEngine::ecn_withdraw_cwr(TcpSock& sk) {
  // tcp_ecn_withdraw_cwr: the reduction was undone
  sk.ecn_flags &= static_cast<uint8_t>(~kTcpEcnQueueCwr);
}

void TcpEngine::newly_delivered(TcpSock& sk, uint32_t delivered, int flag) {
  // tcp_newly_delivered; tcp_count_delivered's delivered_ce (every count within one ACK has the
  // same ece_ack, so the sum is added here)
  ext_[LinuxMib::TCPDelivered] += delivered;
  if ((flag & kFlagEce) != 0) {
    ext_[LinuxMib::TCPDeliveredCE] += delivered;
    sk.delivered_ce += delivered;
  }
}

}  // namespace vnic::stack
