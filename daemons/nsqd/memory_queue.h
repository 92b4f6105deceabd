#pragma once
// MemoryQueue: a FIFO of messages in fixed-size blocks (kBlock messages each). Pushing appends
// to the last block and takes a new one when it is full; popping frees a block as soon as its
// last message leaves (one spare is kept, so a queue that hovers around a block boundary does
// not allocate). Growth never copies or re-initialises what is queued, and a drained backlog
// gives its memory back block by block.
//
// A queued message takes a 32-byte Slot, not a 40-byte Message: its ID is kept as the 64-bit
// number its 16 hex digits spell, the form fromGuid() gives every ID nsqd makes. An ID of any
// other form (from a disk queue or journal nsqd did not write) waits in a side FIFO that pops
// in step. With 1M queued 200-byte messages that is 8 MB (3%) of nsqd's peak RSS.
//
// The owner bounds it (it checks size() against --mem-queue-size before pushing new messages);
// requeues may push past the mark, since a message already accepted must never be refused. Not
// thread-safe: the owning topic or channel guards it with its own mutex.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "nsq/protocol/message.h"

namespace nsq::nsqd {

class MemoryQueue {
 public:
  static constexpr std::size_t kBlock = 512;  // 512 x 32-byte Slot = 16 KiB

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void push(Message&& m) {
    if (blocks_.empty() || tail_ == kBlock) {
      blocks_.push_back(takeBlock());
      tail_ = 0;
    }
    Slot& s = blocks_.back()[tail_++];
    s.foreignId = !m.id.toGuid(s.guid);
    if (s.foreignId) foreign_.push_back(m.id);
    s.timestamp = m.timestamp;
    s.attempts = m.attempts;
    s.body = std::move(m.body);
    ++size_;
  }
  bool pop(Message& out) {
    if (size_ == 0) return false;
    Slot& s = blocks_.front()[head_++];
    if (s.foreignId) {
      out.id = foreign_.front();
      foreign_.pop_front();
    } else {
      out.id = MessageId::fromGuid(s.guid);
    }
    out.timestamp = s.timestamp;
    out.attempts = s.attempts;
    out.body = std::move(s.body);
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
    uint64_t guid = 0;
    if (!id.toGuid(guid)) {
      for (const auto& f : foreign_)
        if (f == id) return true;
      return false;
    }
    std::size_t i = head_;
    for (std::size_t b = 0, left = size_; left > 0; ++b, i = 0)
      for (; i < kBlock && left > 0; ++i, --left)
        if (!blocks_[b][i].foreignId && blocks_[b][i].guid == guid) return true;
    return false;
  }
  void clear() {
    blocks_.clear();
    spare_.reset();
    foreign_.clear();
    head_ = tail_ = size_ = 0;
  }

 private:
  struct Slot {
    uint64_t guid = 0;  // the ID's number, unless foreignId
    int64_t timestamp = 0;
    Body body;
    uint16_t attempts = 0;
    bool foreignId = false;  // the ID is the next in foreign_
  };
  static_assert(sizeof(Slot) == 32);
  using Block = std::unique_ptr<Slot[]>;
  Block takeBlock() { return spare_ ? std::move(spare_) : Block(new Slot[kBlock]); }
  void dropFront() {
    if (!spare_) spare_ = std::move(blocks_.front());  // its messages are moved-from: empty
    blocks_.pop_front();
  }

  std::deque<Block> blocks_;
  Block spare_;
  std::deque<MessageId> foreign_;  // IDs not of fromGuid()'s form, in queue order
  std::size_t head_ = 0;  // next to pop, in blocks_.front()
  std::size_t tail_ = 0;  // next free slot, in blocks_.back()
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
