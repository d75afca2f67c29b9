// Frame: a move-only handle to pooled byte storage, so steady-state traffic allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vnic::model {

class FramePool;

// The pooled storage behind a Frame.
struct FrameBuf {
  explicit FrameBuf(std::size_t n) : bytes(new uint8_t[n]), cap(n) {}
  std::unique_ptr<uint8_t[]> bytes;
  std::size_t cap;
};

class Frame {
 public:
  Frame() = default;
  Frame(Frame&& o) noexcept { swap(o); }
  Frame& operator=(Frame&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() { release(); }

  explicit operator bool() const { return buf_ != nullptr; }
  std::size_t size() const { return len_; }
  std::size_t capacity() const { return buf_ ? buf_->cap : 0; }
  uint8_t* data() { return buf_ ? buf_->bytes.get() : nullptr; }
  const uint8_t* data() const { return buf_ ? buf_->bytes.get() : nullptr; }
  std::span<uint8_t> bytes() { return {data(), len_}; }
  std::span<const uint8_t> bytes() const { return {data(), len_}; }
  // Changes the length within the capacity; returns false (unchanged) if n is too large.
  bool resize(std::size_t n);
  // Appends bytes; returns false (unchanged) if they do not fit.
  bool append(std::span<const uint8_t> b);

  uint64_t id = 0;  // a sequence number for traces and pcap
  // Returns the storage to its pool now (the destructor does the same).
  void release() {
    if (buf_ != nullptr) give_back();
  }

 private:
  friend class FramePool;
  using Buf = FrameBuf;
  Frame(FramePool* pool, Buf* buf) : pool_(pool), buf_(buf) {}
  void give_back();
  void swap(Frame& o) noexcept {
    std::swap(pool_, o.pool_);
    std::swap(buf_, o.buf_);
    std::swap(len_, o.len_);
    std::swap(id, o.id);
  }
  FramePool* pool_ = nullptr;
  Buf* buf_ = nullptr;
  std::size_t len_ = 0;
};

// Hands out Frames with at least `capacity` bytes; buffers come back when a Frame dies.
// The pool must outlive every Frame it handed out.
class FramePool {
 public:
  static constexpr std::size_t kDefaultCapacity = 16384;  // a jumbo frame plus room
  explicit FramePool(std::size_t capacity = kDefaultCapacity);
  ~FramePool();
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;

  // A frame of `len` bytes (contents unspecified). len above the capacity gives an empty Frame.
  Frame alloc(std::size_t len);
  Frame copy_of(std::span<const uint8_t> b);

  std::size_t capacity() const { return capacity_; }
  std::size_t in_use() const { return in_use_; }
  std::size_t buffers() const { return all_.size(); }  // ever allocated = peak in use

 private:
  friend class Frame;
  void give_back(Frame::Buf* b);
  std::size_t capacity_;
  std::vector<std::unique_ptr<Frame::Buf>> all_;
  std::vector<Frame::Buf*> free_;
  std::size_t in_use_ = 0;
};

}  // namespace vnic::model
