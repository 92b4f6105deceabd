#pragma once
// RingQueue: a FIFO over one power-of-two array that keeps its capacity, for queues that take a
// push and a pop per message. std::deque allocates a block for every few hundred bytes pushed
// and frees it once popped past, so a steady stream through it costs a malloc and a free every
// few elements; this one allocates only when it grows past its high-water mark, and gives
// memory back only when it has drained to an eighth of a large capacity (or on clear()).
#include <cstddef>
#include <utility>
#include <vector>

namespace nsq {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }

  // i-th from the front; i < size().
  T& operator[](std::size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  T& front() { return (*this)[0]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (size_ == slots_.size()) reallocate(slots_.empty() ? kMinCapacity : slots_.size() * 2);
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(value);
    ++size_;
  }

  // Not empty().
  void pop_front() {
    slots_[head_] = T{};  // whatever it holds goes now, not when the slot is reused
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    if (slots_.size() > kShrinkAbove && size_ <= slots_.size() / 8) reallocate(slots_.size() / 2);
  }

  // Empties it and gives its memory back.
  void clear() {
    std::vector<T>().swap(slots_);
    head_ = 0;
    size_ = 0;
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;
  static constexpr std::size_t kShrinkAbove = 1024;  // smaller ones keep their capacity

  void reallocate(std::size_t capacity) {
    std::vector<T> next(capacity);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
    slots_.swap(next);
    head_ = 0;
  }

  std::vector<T> slots_;  // capacity a power of two, or empty
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nsq
