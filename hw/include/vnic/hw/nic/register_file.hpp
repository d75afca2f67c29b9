// RegisterFile: BAR0 decoded from model/'s register table. Every access goes through the same
// checks in one place (access type, reset in progress, write-1-to-clear, reserved bits, queue
// pairs this instance does not have); what a register does beyond storing its value is a
// handler the owning unit installs for it, found by the register's id (one table lookup, no
// chain of comparisons).
#pragma once

#include <array>
#include <cstdint>

#include "vnic/hw/nic/core.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::hw {

class RegisterFile {
 public:
  // A read handler returns the value; a write handler gets the value with the register's
  // non-writable bits cleared (`value`) and as written (`raw`), and stores what it keeps.
  using ReadFn = uint32_t (*)(void* ctx, unsigned index);
  using WriteFn = void (*)(void* ctx, unsigned index, uint32_t value, uint32_t raw);

  explicit RegisterFile(NicCore& core) : core_(core) {}

  template <auto MemFn, class T>
  void on_read(const model::regs::Reg& r, T* obj) {
    reads_[id(r)] = {[](void* c, unsigned i) -> uint32_t { return (static_cast<T*>(c)->*MemFn)(i); }, obj};
  }
  template <auto MemFn, class T>
  void on_write(const model::regs::Reg& r, T* obj) {
    writes_[id(r)] = {[](void* c, unsigned i, uint32_t v, uint32_t raw) { (static_cast<T*>(c)->*MemFn)(i, v, raw); },
                      obj};
  }

  uint32_t read(const model::regs::Hit& h);
  void write(const model::regs::Hit& h, uint32_t v);
  // Every register to its reset value; those the PCI function keeps (ResetSrc::Keep) only when
  // `keep_function` is false (power-on).
  void reset(bool keep_function);

 private:
  template <class Fn>
  struct Handler {
    Fn fn = nullptr;
    void* ctx = nullptr;
  };
  static std::size_t id(const model::regs::Reg& r) { return model::regs::id_of(r); }
  bool absent_queue(const model::regs::Reg& r, unsigned i) const {
    return r.offset >= model::regs::kQpBase && r.offset < model::regs::kQpBase + model::regs::kQpStride &&
           i >= core_.cfg.num_qp;
  }

  NicCore& core_;
  std::array<Handler<ReadFn>, model::regs::kNumRegs> reads_{};
  std::array<Handler<WriteFn>, model::regs::kNumRegs> writes_{};
};

}  // namespace vnic::hw
