// Frame and FramePool.
#include "vnic/model/frame.hpp"

#include <cstring>

namespace vnic::model {

bool Frame::resize(std::size_t n) {
  if (n > capacity()) return false;
  len_ = n;
  return true;
}

bool Frame::append(std::span<const uint8_t> b) {
  if (b.empty()) return true;
  if (len_ + b.size() > capacity()) return false;
  std::memcpy(data() + len_, b.data(), b.size());
  len_ += b.size();
  return true;
}

void Frame::give_back() {
  if (pool_ != nullptr) pool_->give_back(buf_);
  buf_ = nullptr;
  pool_ = nullptr;
  len_ = 0;
  id = 0;
}

FramePool::FramePool(std::size_t capacity) : capacity_(capacity) {}
FramePool::~FramePool() = default;

Frame FramePool::alloc(std::size_t len) {
  if (len > capacity_) return Frame{};
  Frame::Buf* b;
  if (free_.empty()) {
    all_.push_back(std::make_unique<Frame::Buf>(capacity_));
    b = all_.back().get();
  } else {
    b = free_.back();
    free_.pop_back();
  }
  ++in_use_;
  Frame f(this, b);
  f.len_ = len;
  return f;
}

Frame FramePool::copy_of(std::span<const uint8_t> b) {
  Frame f = alloc(b.size());
  if (f && !b.empty()) std::memcpy(f.data(), b.data(), b.size());
  return f;
}

void FramePool::give_back(Frame::Buf* b) {
  free_.push_back(b);
  --in_use_;
}

}  // namespace vnic::model
