// Descriptor codecs: every byte written explicitly, reserved bytes zero.
#include "vnic/model/descriptor.hpp"

#include <algorithm>

#include "vnic/model/bytes.hpp"

namespace vnic::model {

void encode(const TxDesc& d, DescBytes out) {
  std::fill(out.begin(), out.end(), uint8_t{0});
  store_le<uint64_t>(out, 0, d.buf_addr);
  store_le<uint16_t>(out, 8, d.length);
  out[10] = d.cmd;
  out[12] = d.status;
  out[13] = d.errors;
}

void encode(const RxDesc& d, DescBytes out) {
  std::fill(out.begin(), out.end(), uint8_t{0});
  store_le<uint64_t>(out, 0, d.buf_addr);
  store_le<uint16_t>(out, 8, d.length);
  store_le<uint16_t>(out, 10, d.status);
  store_le<uint16_t>(out, 12, d.errors);
}

TxDesc decode_tx(ConstDescBytes in) {
  TxDesc d;
  d.buf_addr = load_le<uint64_t>(in, 0);
  d.length = load_le<uint16_t>(in, 8);
  d.cmd = in[10];
  d.status = in[12];
  d.errors = in[13];
  return d;
}

RxDesc decode_rx(ConstDescBytes in) {
  RxDesc d;
  d.buf_addr = load_le<uint64_t>(in, 0);
  d.length = load_le<uint16_t>(in, 8);
  d.status = load_le<uint16_t>(in, 10);
  d.errors = load_le<uint16_t>(in, 12);
  return d;
}

}  // namespace vnic::model
