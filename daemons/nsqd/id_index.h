#pragma once
// IdIndex: message ID -> slot number (the owner's storage), for the in-flight table and the
// message journal, which look an ID up on every delivery, FIN and disk pop. Open addressing with
// linear probing, at most half full, deleted by backward shift (no tombstones). Each position
// holds the ID's 32-bit hash beside the slot, so a probe past another ID, an absent key and a
// backward shift all stay inside this array: the owner's entry is read only to confirm a hash
// match. (The journal's std::unordered_map it replaces chased a cold node per probe, 15% of
// nsqd's CPU while it drained a disk backlog.) Not thread-safe: the owner's lock guards it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "nsq/protocol/message.h"

namespace nsq::nsqd {

class IdIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;  // "no slot"; never a valid slot number

  // An ID's hash keeps the delivery order's locality: IDs are the hex of a time-ordered guid,
  // so consecutive ones differ first in their last digit. The other 15 bytes, mixed, choose an
  // aligned run of 16 positions and the digit the place in it (XORed with the mix, so that a
  // quiet topic, whose IDs all end in 0, still spreads over the run). A channel delivers and
  // FINs in ID order, so 16 consecutive lookups share the run's two cache lines instead of
  // missing on 16 random ones (with a fully mixed hash the index's first load was ~65% of the
  // in-flight table's time in fan-out profiles). Any 16 bytes hash; non-hex ones spread worse.
  static uint32_t hashOf(const MessageId& id) {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 7, 8);  // bytes 7-14: the run ignores the last byte
    return static_cast<uint32_t>(MessageIdHash::mix(a, b)) ^ digitOf(static_cast<unsigned char>(id.bytes[15]));
  }
  static constexpr uint32_t kRunMask = 15;  // positions per run, less one

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The slot stored under hash h for which same(slot) is true, or kNone.
  template <typename Same>
  uint32_t find(uint32_t h, Same&& same) const {
    if (size_ == 0) return kNone;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Item& it = items_[i];
      if (it.slot == kNone) return kNone;
      if (it.hash == h && same(it.slot)) return it.slot;
    }
  }

  // Stores slot under hash h. The caller knows no equal ID is stored (find() said kNone).
  void insert(uint32_t h, uint32_t slot) {
    if ((size_ + 1) * 2 > items_.size()) rehash(items_.empty() ? 64 : items_.size() * 2);
    std::size_t i = h & mask_;
    while (items_[i].slot != kNone) i = (i + 1) & mask_;
    items_[i] = {h, slot};
    ++size_;
  }

  // Removes slot, stored under hash h (it must be there).
  void erase(uint32_t h, uint32_t slot) {
    std::size_t i = h & mask_;
    while (items_[i].slot != slot) i = (i + 1) & mask_;
    // Backward shift: pull later members of the probe run into the hole when their home
    // position does not lie cyclically in (hole, j].
    for (std::size_t j = (i + 1) & mask_; items_[j].slot != kNone; j = (j + 1) & mask_) {
      std::size_t home = items_[j].hash & mask_;
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      items_[i] = items_[j];
      i = j;
    }
    items_[i] = {0, kNone};
    --size_;
  }

  // Calls fn(slot) for every stored slot, in no particular order.
  template <typename Fn>
  void forEach(Fn&& fn) const {
    for (const Item& it : items_)
      if (it.slot != kNone) fn(it.slot);
  }

  // Mean number of positions a successful lookup visits (1 = no collisions).
  double meanProbeLength() const {
    std::size_t total = 0;
    for (std::size_t i = 0; i < items_.size(); ++i)
      if (items_[i].slot != kNone) total += ((i - (items_[i].hash & mask_)) & mask_) + 1;
    return size_ ? static_cast<double>(total) / static_cast<double>(size_) : 0.0;
  }

  void clear() {
    items_.clear();
    items_.shrink_to_fit();
    mask_ = 0;
    size_ = 0;
  }

 private:
  // '0'-'9' -> 0-9, 'a'-'f' -> 10-15 (other bytes: some value in 0-15).
  static uint32_t digitOf(unsigned c) { return ((c & 15u) + (c >> 6) * 9u) & kRunMask; }

  struct Item {
    uint32_t hash;
    uint32_t slot;  // kNone: empty
  };

  void rehash(std::size_t capacity) {
    std::vector<Item> old(capacity, Item{0, kNone});
    old.swap(items_);
    mask_ = capacity - 1;
    for (const Item& it : old) {
      if (it.slot == kNone) continue;
      std::size_t i = it.hash & mask_;
      while (items_[i].slot != kNone) i = (i + 1) & mask_;
      items_[i] = it;
    }
  }

  std::vector<Item> items_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nsq::nsqd
