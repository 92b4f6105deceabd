#pragma once
// InFlightTable: a channel's in-flight messages, found by ID (FIN, REQ, TOUCH) and ordered by
// deadline (timeouts). Built for the delivery hot path, where the node-per-entry hash map and
// pointer heap it replaces spent ~12% of nsqd's CPU (perf, publish + consume):
//  - entries live in fixed blocks of kBlock with a free list, so inserting allocates nothing
//    in steady state and an Entry* stays valid until the entry is taken;
//  - the ID index is an IdIndex (id_index.h): open addressing over {hash, slot} pairs, so a
//    probe or a deletion's backward shift never reads an entry it does not want;
//  - deadlines are kept in delivery order where they rise with it, which they do when a
//    channel's consumers share one msg_timeout (deadline = delivery time + timeout): such an
//    entry is appended to a FIFO list, and FIN unlinks it in O(1). An entry whose deadline
//    falls before the list's last one (a second timeout, a capped TOUCH) goes to a heap of
//    {deadline, slot} pairs instead; the earliest is the first of the list or the heap's top.
//    The heap alone cost a full sift-down (log n levels) for nearly every FIN, as FIN takes
//    the oldest entries, at the root: 5% of nsqd's CPU in fan-out. Links and heap positions
//    sit in dense arrays by slot, so neither touches an entry it does not want.
// Not thread-safe: the channel's mutex guards it.
#include <cstdint>
#include <memory>
#include <vector>

#include "nsq/protocol/message.h"
#include "nsqd/id_index.h"

namespace nsq::nsqd {

class InFlightTable {
 public:
  struct Entry {
    Message msg;
    uint64_t clientId = 0;
    int64_t deliveredMono = 0;
    int64_t deadline = 0;
    uint32_t hash = 0;
    uint32_t slot = 0;  // its place in the table (never changes while it is in flight)
    uint64_t heldPop = 0;  // the backlog's ticket while its disk record is held (Backlog::holdPop); 0: none
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  Entry* find(const MessageId& id) {
    uint32_t s = index_.find(IdIndex::hashOf(id), [&](uint32_t slot) { return at(slot).msg.id == id; });
    return s == IdIndex::kNone ? nullptr : &at(s);
  }

  // Adds msg (moved from) with its owner and deadline. nullptr (msg untouched) if its ID is
  // already in flight.
  Entry* insert(Message& msg, uint64_t clientId, int64_t nowMono, int64_t deadline) {
    uint32_t h = IdIndex::hashOf(msg.id);
    if (index_.find(h, [&](uint32_t s) { return at(s).msg.id == msg.id; }) != IdIndex::kNone) return nullptr;
    uint32_t slot = allocSlot();
    index_.insert(h, slot);
    Entry& e = at(slot);
    e.msg = std::move(msg);
    e.clientId = clientId;
    e.deliveredMono = nowMono;
    e.deadline = deadline;
    e.hash = h;
    e.slot = slot;
    e.heldPop = 0;
    schedule(slot, deadline);
    ++size_;
    return &e;
  }

  // Removes the entry and returns its message.
  Message take(Entry* e) {
    const uint32_t slot = e->slot;
    unschedule(slot);
    index_.erase(e->hash, slot);
    Message m = std::move(e->msg);
    e->msg = Message();
    free_.push_back(slot);
    if (--size_ == 0 && blocks_.size() > kKeepBlocks) clear();  // a burst is over: give it back
    return m;
  }

  void setDeadline(Entry* e, int64_t deadline) {
    unschedule(e->slot);
    e->deadline = deadline;
    schedule(e->slot, deadline);
  }

  // The entry with the earliest deadline, or nullptr.
  Entry* earliest() {
    if (heap_.empty()) return head_ == kNil ? nullptr : &at(head_);
    if (head_ == kNil) return &at(heap_.front().slot);
    Entry& first = at(head_);
    return first.deadline <= heap_.front().deadline ? &first : &at(heap_.front().slot);
  }

  template <typename Fn>
  void forEach(Fn&& fn) {
    for (uint32_t s = head_; s != kNil; s = links_[s].next) fn(at(s));
    for (const auto& h : heap_) fn(at(h.slot));
  }

  // Mean number of index positions a successful lookup visits (1 = no collisions).
  double meanProbeLength() const { return index_.meanProbeLength(); }

  void clear() {
    blocks_.clear();
    free_.clear();
    heap_.clear();
    heapPos_.clear();
    links_.clear();
    head_ = tail_ = kNil;
    index_.clear();
    size_ = 0;
    slots_ = 0;
  }

 private:
  static constexpr std::size_t kBlock = 1024;
  static constexpr std::size_t kKeepBlocks = 4;
  static constexpr uint32_t kNil = UINT32_MAX;     // no slot (list ends)
  static constexpr uint32_t kInList = UINT32_MAX;  // heapPos_ of an entry on the list
  struct HeapItem {
    int64_t deadline;
    uint32_t slot;
  };

  Entry& at(uint32_t slot) { return blocks_[slot / kBlock][slot % kBlock]; }

  uint32_t allocSlot() {
    if (!free_.empty()) {
      uint32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    if (slots_ == blocks_.size() * kBlock) {
      blocks_.emplace_back(new Entry[kBlock]);
      heapPos_.resize(blocks_.size() * kBlock);
      links_.resize(blocks_.size() * kBlock);
    }
    return static_cast<uint32_t>(slots_++);
  }

  void schedule(uint32_t slot, int64_t deadline) {
    if (tail_ != kNil && deadline < tailDeadline_) {
      heapPos_[slot] = static_cast<uint32_t>(heap_.size());
      heap_.push_back({deadline, slot});
      siftUp(heapPos_[slot]);
      return;
    }
    heapPos_[slot] = kInList;
    links_[slot] = {tail_, kNil};
    (tail_ == kNil ? head_ : links_[tail_].next) = slot;
    tail_ = slot;
    tailDeadline_ = deadline;
  }
  void unschedule(uint32_t slot) {
    if (heapPos_[slot] != kInList) {
      removeFromHeap(heapPos_[slot]);
      return;
    }
    const Link l = links_[slot];
    (l.prev == kNil ? head_ : links_[l.prev].next) = l.next;
    if (l.next != kNil) {
      links_[l.next].prev = l.prev;
    } else {
      tail_ = l.prev;  // tailDeadline_ may now be above the new last one's: a bound, still safe
    }
  }

  void place(std::size_t i, HeapItem item) {
    heap_[i] = item;
    heapPos_[item.slot] = static_cast<uint32_t>(i);
  }
  void siftUp(std::size_t i) {
    HeapItem item = heap_[i];
    while (i > 0) {
      std::size_t parent = (i - 1) / 2;
      if (heap_[parent].deadline <= item.deadline) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, item);
  }
  void siftDown(std::size_t i) {
    HeapItem item = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t l = 2 * i + 1, m = l;
      if (l >= n) break;
      if (l + 1 < n && heap_[l + 1].deadline < heap_[l].deadline) m = l + 1;
      if (item.deadline <= heap_[m].deadline) break;
      place(i, heap_[m]);
      i = m;
    }
    place(i, item);
  }
  void removeFromHeap(std::size_t i) {
    HeapItem last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    heap_[i] = last;
    siftUp(i);
    siftDown(heapPos_[last.slot]);
  }

  std::vector<std::unique_ptr<Entry[]>> blocks_;
  std::size_t slots_ = 0;  // slots handed out so far (used or on the free list)
  std::vector<uint32_t> free_;
  std::vector<HeapItem> heap_;
  std::vector<uint32_t> heapPos_;  // by slot: its item's index in heap_, or kInList
  struct Link {
    uint32_t prev, next;
  };
  std::vector<Link> links_;  // by slot, while on the list
  uint32_t head_ = kNil, tail_ = kNil;
  int64_t tailDeadline_ = 0;  // the last appended deadline: the list's entries are all <= it
  IdIndex index_;
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
