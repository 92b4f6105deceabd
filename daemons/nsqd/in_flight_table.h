#pragma once
// InFlightTable: a channel's in-flight messages, found by ID (FIN, REQ, TOUCH) and ordered by
// deadline (timeouts). Built for the delivery hot path, where the node-per-entry hash map and
// pointer heap it replaces spent ~12% of nsqd's CPU (perf, publish + consume):
//  - entries live in fixed blocks of kBlock with a free list, so inserting allocates nothing
//    in steady state and an Entry* stays valid until the entry is taken;
//  - the ID index is open addressing with linear probing over 32-bit slot numbers, deleted by
//    backward shift (no tombstones), at most half full;
//  - the deadline heap holds {deadline, slot} pairs, so sifting compares adjacent memory.
// Not thread-safe: the channel's mutex guards it.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "nsq/protocol/message.h"

namespace nsq::nsqd {

class InFlightTable {
 public:
  struct Entry {
    Message msg;
    uint64_t clientId = 0;
    int64_t deliveredMono = 0;
    int64_t deadline = 0;
    uint32_t hash = 0;
    uint32_t heapIndex = 0;
  };

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  Entry* find(const MessageId& id) {
    if (size_ == 0) return nullptr;
    uint32_t h = hashOf(id);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      uint32_t s = index_[i];
      if (s == 0) return nullptr;
      Entry& e = at(s - 1);
      if (e.hash == h && e.msg.id == id) return &e;
    }
  }

  // Adds msg (moved from) with its owner and deadline. nullptr (msg untouched) if its ID is
  // already in flight.
  Entry* insert(Message& msg, uint64_t clientId, int64_t nowMono, int64_t deadline) {
    if ((size_ + 1) * 2 > index_.size()) rehash(index_.empty() ? 64 : index_.size() * 2);
    uint32_t h = hashOf(msg.id);
    std::size_t i = h & mask_;
    for (; index_[i] != 0; i = (i + 1) & mask_) {
      const Entry& e = at(index_[i] - 1);
      if (e.hash == h && e.msg.id == msg.id) return nullptr;
    }
    uint32_t slot = allocSlot();
    index_[i] = slot + 1;
    Entry& e = at(slot);
    e.msg = std::move(msg);
    e.clientId = clientId;
    e.deliveredMono = nowMono;
    e.deadline = deadline;
    e.hash = h;
    e.heapIndex = static_cast<uint32_t>(heap_.size());
    heap_.push_back({deadline, slot});
    siftUp(e.heapIndex);
    ++size_;
    return &e;
  }

  // Removes the entry and returns its message.
  Message take(Entry* e) {
    uint32_t slot = heap_[e->heapIndex].slot;
    removeFromHeap(e->heapIndex);
    eraseIndex(e->hash, slot);
    Message m = std::move(e->msg);
    e->msg = Message();
    free_.push_back(slot);
    if (--size_ == 0 && blocks_.size() > kKeepBlocks) clear();  // a burst is over: give it back
    return m;
  }

  void setDeadline(Entry* e, int64_t deadline) {
    e->deadline = deadline;
    heap_[e->heapIndex].deadline = deadline;
    siftUp(e->heapIndex);
    siftDown(e->heapIndex);
  }

  // The entry with the earliest deadline, or nullptr.
  Entry* earliest() { return heap_.empty() ? nullptr : &at(heap_.front().slot); }

  template <typename Fn>
  void forEach(Fn&& fn) {
    for (const auto& h : heap_) fn(at(h.slot));
  }

  // Mean number of index positions a successful lookup visits (1 = no collisions).
  double meanProbeLength() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < index_.size(); ++i) {
      if (index_[i] == 0) continue;
      std::size_t home = atConst(index_[i] - 1).hash & mask_;
      total += ((i - home) & mask_) + 1;
    }
    return size_ ? static_cast<double>(total) / static_cast<double>(size_) : 0.0;
  }

  void clear() {
    blocks_.clear();
    free_.clear();
    heap_.clear();
    index_.clear();
    mask_ = 0;
    size_ = 0;
    slots_ = 0;
  }

 private:
  static constexpr std::size_t kBlock = 1024;
  static constexpr std::size_t kKeepBlocks = 4;
  struct HeapItem {
    int64_t deadline;
    uint32_t slot;
  };

  // IDs are hex of a time-ordered counter: consecutive ones differ only in the last bytes,
  // which land in the high bits of b. A full avalanche (murmur3's fmix64) spreads them over
  // the low bits the index uses; a plain multiply would not (it carries only upwards).
  static uint32_t hashOf(const MessageId& id) {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    uint64_t h = b ^ (a * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return static_cast<uint32_t>(h);
  }

  Entry& at(uint32_t slot) { return blocks_[slot / kBlock][slot % kBlock]; }
  const Entry& atConst(uint32_t slot) const { return blocks_[slot / kBlock][slot % kBlock]; }

  uint32_t allocSlot() {
    if (!free_.empty()) {
      uint32_t s = free_.back();
      free_.pop_back();
      return s;
    }
    if (slots_ == blocks_.size() * kBlock) blocks_.emplace_back(new Entry[kBlock]);
    return static_cast<uint32_t>(slots_++);
  }

  void rehash(std::size_t capacity) {
    std::vector<uint32_t> old;
    old.swap(index_);
    index_.assign(capacity, 0);
    mask_ = capacity - 1;
    for (uint32_t s : old) {
      if (s == 0) continue;
      std::size_t i = at(s - 1).hash & mask_;
      while (index_[i] != 0) i = (i + 1) & mask_;
      index_[i] = s;
    }
  }

  void eraseIndex(uint32_t hash, uint32_t slot) {
    std::size_t i = hash & mask_;
    while (index_[i] != slot + 1) i = (i + 1) & mask_;
    // Backward shift: pull later members of the probe run into the hole when their home
    // position does not lie cyclically in (hole, j].
    for (std::size_t j = (i + 1) & mask_; index_[j] != 0; j = (j + 1) & mask_) {
      std::size_t home = at(index_[j] - 1).hash & mask_;
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      index_[i] = index_[j];
      i = j;
    }
    index_[i] = 0;
  }

  void place(std::size_t i, HeapItem item) {
    heap_[i] = item;
    at(item.slot).heapIndex = static_cast<uint32_t>(i);
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
    siftDown(at(last.slot).heapIndex);
  }

  std::vector<std::unique_ptr<Entry[]>> blocks_;
  std::size_t slots_ = 0;  // slots handed out so far (used or on the free list)
  std::vector<uint32_t> free_;
  std::vector<HeapItem> heap_;
  std::vector<uint32_t> index_;  // slot + 1; 0 = empty
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
