#pragma once
// MemoryQueue: a FIFO of messages in one growable ring buffer. The owner bounds it (it checks
// size() against --mem-queue-size before pushing new messages); requeues may push past the
// mark, since a message already accepted must never be refused. Not thread-safe: the owning
// topic or channel guards it with its own mutex.
#include <cstddef>
#include <vector>

#include "nsq/message.h"

namespace nsq::nsqd {

class MemoryQueue {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void push(Message&& m) {
    if (size_ == ring_.size()) grow();
    ring_[(head_ + size_) & (ring_.size() - 1)] = std::move(m);
    ++size_;
  }
  bool pop(Message& out) {
    if (size_ == 0) return false;
    out = std::move(ring_[head_]);
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
    if (size_ == 0 && ring_.size() > kShrinkAbove) shrink();
    return true;
  }
  void clear() {
    std::vector<Message>().swap(ring_);
    head_ = size_ = 0;
  }

 private:
  static constexpr std::size_t kShrinkAbove = 4096;
  void grow() {
    std::size_t cap = ring_.empty() ? 64 : ring_.size() * 2;
    std::vector<Message> next(cap);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move(ring_[(head_ + i) & (ring_.size() - 1)]);
    ring_.swap(next);
    head_ = 0;
  }
  void shrink() {
    std::vector<Message>(64).swap(ring_);
    head_ = 0;
  }
  std::vector<Message> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
