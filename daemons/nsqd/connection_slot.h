#pragma once
// ConnectionSlot: one of the --tcp-max-connections places. The accept thread takes it when it
// admits a socket; it travels with the socket through the IoLoop's mailbox into the loop's
// table of open connections and is given back when whichever of them holds it lets go, so
// every way a connection ends (closed, failed set-up, loop shut down) frees its place once.
// Move-only; any thread.
#include <atomic>
#include <cstddef>
#include <utility>

namespace nsq::nsqd {

class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::atomic<std::size_t>& open) : open_(&open) {
    open.fetch_add(1, std::memory_order_relaxed);
  }
  ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    if (this != &other) {
      release();
      open_ = std::exchange(other.open_, nullptr);
    }
    return *this;
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() { release(); }

 private:
  void release() {
    if (open_) open_->fetch_sub(1, std::memory_order_relaxed);
    open_ = nullptr;
  }
  std::atomic<std::size_t>* open_ = nullptr;
};

}  // namespace nsq::nsqd
