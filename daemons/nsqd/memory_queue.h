#pragma once
// MemoryQueue: a FIFO of messages in fixed-size blocks (kBlock messages each). Pushing appends
// to the last block and takes a new one when it is full; popping frees a block as soon as its
// last message leaves (one spare is kept, so a queue that hovers around a block boundary does
// not allocate). Growth never copies or re-initialises what is queued, and a drained backlog
// gives its memory back block by block.
//
// The owner bounds it (it checks size() against --mem-queue-size before pushing new messages);
// requeues may push past the mark, since a message already accepted must never be refused. Not
// thread-safe: the owning topic or channel guards it with its own mutex.
#include <cstddef>
#include <deque>
#include <memory>

#include "nsq/protocol/message.h"

namespace nsq::nsqd {

class MemoryQueue {
 public:
  static constexpr std::size_t kBlock = 512;  // 512 x 40-byte Message = 20 KiB

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void push(Message&& m) {
    if (blocks_.empty() || tail_ == kBlock) {
      blocks_.push_back(takeBlock());
      tail_ = 0;
    }
    blocks_.back()[tail_++] = std::move(m);
    ++size_;
  }
  bool pop(Message& out) {
    if (size_ == 0) return false;
    out = std::move(blocks_.front()[head_++]);
    --size_;
    if (size_ == 0) {
      head_ = tail_ = 0;  // reuse the one block left from its start
      while (blocks_.size() > 1) dropFront();
    } else if (head_ == kBlock) {
      dropFront();
      head_ = 0;
    }
    return true;
  }
  // Whether a queued message has this ID (a linear scan: for rare checks, not hot paths).
  bool contains(const MessageId& id) const {
    std::size_t i = head_;
    for (std::size_t b = 0, left = size_; left > 0; ++b, i = 0)
      for (; i < kBlock && left > 0; ++i, --left)
        if (blocks_[b][i].id == id) return true;
    return false;
  }
  void clear() {
    blocks_.clear();
    spare_.reset();
    head_ = tail_ = size_ = 0;
  }

 private:
  using Block = std::unique_ptr<Message[]>;
  Block takeBlock() { return spare_ ? std::move(spare_) : Block(new Message[kBlock]); }
  void dropFront() {
    if (!spare_) spare_ = std::move(blocks_.front());  // its messages are moved-from: empty
    blocks_.pop_front();
  }

  std::deque<Block> blocks_;
  Block spare_;
  std::size_t head_ = 0;  // next to pop, in blocks_.front()
  std::size_t tail_ = 0;  // next free slot, in blocks_.back()
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
