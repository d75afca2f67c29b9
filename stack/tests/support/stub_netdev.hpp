// StubNetDevice: a net_device whose driver entry points do nothing, for stack tests that need a
// device (eth_type_trans, the transmit core) but not a driver. Override start_xmit as needed.
#pragma once

#include <vector>

#include "vnic/stack/netdev.hpp"

namespace vnic::stack::testing {

struct StubNetDevice : NetDevice {
  Co<int> open() override { co_return 0; }
  Co<int> stop() override { co_return 0; }
  NetdevTx start_xmit(SkBuff*, bool) override { return NetdevTx::Ok; }
  LinkStats64 get_stats64() const override { return {}; }
  EthtoolDrvinfo get_drvinfo() const override { return {}; }
  EthtoolCoalesce get_coalesce() const override { return {}; }
  Co<int> set_coalesce(EthtoolCoalesce) override { co_return 0; }
  EthtoolRingparam get_ringparam() const override { return {}; }
  EthtoolLinkSettings get_link_ksettings() const override { return {}; }
  std::vector<EthtoolStat> get_ethtool_stats() const override { return {}; }
};

}  // namespace vnic::stack::testing
