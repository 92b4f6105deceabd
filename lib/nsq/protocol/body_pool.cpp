// BodyPool: size classes over slabs over 2 MiB chunks (body_pool.h). The choice worth knowing:
// slabs are aligned to their size and keep their header at their start, so a freed block finds
// its slab, its class and its chunk from its address alone; nothing per block is stored.
// Under AddressSanitizer every block comes from malloc, so the sanitizer still sees bodies.
#include "nsq/protocol/body_pool.h"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "nsq/base/sanitizers.h"

// Under ASan every block comes from malloc, so the sanitizer sees each one. A constant rather than
// #if around the pool code, so that code is still compiled (and -Werror sees no unused function).
#ifdef NSQ_ASAN
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif

namespace nsq {
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kClasses = kMaxPooledBlock / kGranule;  // class c holds blocks of c * 16 bytes
constexpr std::size_t kSlabBytes = 64 * 1024;
constexpr std::size_t kChunkBytes = 2 * 1024 * 1024;
constexpr uint32_t kSlabsPerChunk = kChunkBytes / kSlabBytes;
constexpr uint32_t kAllSlabs = 0xFFFFFFFFu;
constexpr std::size_t kSlabHeader = 64;
static_assert(kSlabsPerChunk == 32);

struct FreeBlock {
  FreeBlock* next;
};
struct Chunk;

struct Slab {
  Slab* prev;       // in its class's partial list (free blocks, not the current slab)
  Slab* next;
  FreeBlock* free;  // freed blocks
  char* bump;       // blocks from here to the slab's end were never handed out
  Chunk* chunk;
  uint32_t size;    // block bytes
  uint32_t live;    // blocks handed out, thread caches included
  bool partial;
};
static_assert(sizeof(Slab) <= kSlabHeader);

struct Chunk {
  char* base;
  uint32_t used = 0;          // bit i: slab i belongs to a class
  uint32_t residentFree = 0;  // bit i: slab i is free and still resident
  std::size_t open = SIZE_MAX;  // index in Chunks::open while it has a free slab
};

// The chunks, under one mutex (taken once per slab).
class Chunks {
 public:
  Slab* take(uint32_t size) {
    std::unique_lock lock(mu_);
    while (open_.empty()) {
      char* base = nullptr;
      if (!spares_.empty()) {
        base = spares_.back();
        spares_.pop_back();
      } else {
        // The refill fell behind: fault a chunk in here, without the lock, so that the other
        // threads' takes and gives (and their own faults) go on meanwhile. Each chunk faulted
        // this way is opened, even if another thread opened one first: it is used next.
        lock.unlock();
        base = mapChunk();
        lock.lock();
        if (!base && !open_.empty()) break;
      }
      if (!add(base)) return nullptr;
      if (spares_.size() < kSpareChunks && !refillWanted_) {
        refillWanted_ = true;
        refillCv_.notify_one();
      }
    }
    Chunk* c = open_.back();
    if (c->used == 0) --empty_;
    const auto i = static_cast<uint32_t>(__builtin_ctz(~c->used));
    const uint32_t bit = 1u << i;
    c->used |= bit;
    if (c->residentFree & bit) {
      c->residentFree &= ~bit;
      --freeResident_;
    }
    if (c->used == kAllSlabs) closeChunk(c);
    ++slabsInUse_;
    auto* s = reinterpret_cast<Slab*>(c->base + i * kSlabBytes);
    *s = Slab{nullptr, nullptr, nullptr, reinterpret_cast<char*>(s) + kSlabHeader, c, size, 0, false};
    return s;
  }

  void give(Slab* s) {
    std::lock_guard lock(mu_);
    Chunk* c = s->chunk;
    const auto i = static_cast<uint32_t>((reinterpret_cast<char*>(s) - c->base) / kSlabBytes);
    const uint32_t bit = 1u << i;
    if (c->used == kAllSlabs) openChunk(c);
    c->used &= ~bit;
    --slabsInUse_;
    if (c->used == 0 && empty_ > 0) {  // one empty chunk is kept as a spare
      unmap(c);
      return;
    }
    if (c->used == 0) ++empty_;
    if (freeResident_ < kMaxFreeResidentSlabs) {
      c->residentFree |= bit;
      ++freeResident_;
    } else {
      (void)::madvise(s, kSlabBytes, MADV_DONTNEED);
    }
  }

  BodyPoolStats stats() {
    std::lock_guard lock(mu_);
    return {chunks_, slabsInUse_, spares_.size()};
  }

 private:
  // Maps a chunk and faults it in; no lock needed. nullptr when out of memory.
  static char* mapChunk() {
    // Twice the size, then trimmed to a 2 MiB-aligned chunk, so it can be one huge page.
    void* p = ::mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    auto start = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = (start + kChunkBytes - 1) & ~(kChunkBytes - 1);
    if (aligned > start) ::munmap(p, aligned - start);
    if (uintptr_t tail = start + 2 * kChunkBytes - (aligned + kChunkBytes); tail > 0)
      ::munmap(reinterpret_cast<void*>(aligned + kChunkBytes), tail);
    auto* base = reinterpret_cast<char*>(aligned);
    (void)::madvise(base, kChunkBytes, MADV_HUGEPAGE);
    // Fault it in now (one write per 4 KiB page: one huge-page fault where THP is on).
    for (std::size_t off = 0; off < kChunkBytes; off += 4096) *static_cast<volatile char*>(base + off) = 0;
    return base;
  }
  // Takes a mapped chunk in; false (and unmaps it) if its bookkeeping cannot be allocated. mu_ held.
  bool add(char* base) {
    if (!base) return false;
    auto* c = new (std::nothrow) Chunk{base};
    if (!c) {
      ::munmap(base, kChunkBytes);
      return false;
    }
    openChunk(c);
    ++chunks_;
    ++empty_;
    return true;
  }
  // The refill thread: maps and faults in chunks, without the lock, until kSpareChunks wait.
  void refill() {
    sigset_t all;  // process signals are for the thread that waits for them, never this one
    sigfillset(&all);
    (void)::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    (void)::pthread_setname_np(::pthread_self(), "body-refill");
    std::unique_lock lock(mu_);
    for (;;) {
      refillCv_.wait(lock, [&] { return refillWanted_; });
      while (spares_.size() < kSpareChunks) {
        lock.unlock();
        char* base = mapChunk();
        lock.lock();
        if (!base) break;  // out of memory: take() will try (and report) itself
        spares_.push_back(base);
      }
      refillWanted_ = false;
    }
  }
  void unmap(Chunk* c) {
    closeChunk(c);
    freeResident_ -= static_cast<std::size_t>(__builtin_popcount(c->residentFree));
    ::munmap(c->base, kChunkBytes);
    delete c;
    --chunks_;
  }
  void openChunk(Chunk* c) {
    c->open = open_.size();
    open_.push_back(c);
  }
  void closeChunk(Chunk* c) {
    Chunk* last = open_.back();
    open_[c->open] = last;
    last->open = c->open;
    open_.pop_back();
    c->open = SIZE_MAX;
  }

  std::mutex mu_;
  std::condition_variable refillCv_;
  bool refillWanted_ = false;
  std::vector<Chunk*> open_;  // chunks with a free slab
  std::vector<char*> spares_;  // mapped and faulted in, taken when no chunk has a free slab
  std::size_t chunks_ = 0;
  std::size_t empty_ = 0;          // chunks without a slab in use (at most one stays)
  std::size_t freeResident_ = 0;   // free slabs not yet given back to the kernel
  std::size_t slabsInUse_ = 0;
  std::thread refiller_{[this] { refill(); }};  // last: never joined, the pool outlives every thread
};

// One size class: its slabs, under its own mutex (taken once per batch of blocks).
struct alignas(64) SizeClass {
  std::mutex mu;
  Slab* current = nullptr;  // blocks are taken from here first
  Slab* partial = nullptr;  // other slabs with free blocks
};

struct Pool {
  Chunks chunks;
  SizeClass classes[kClasses + 1];
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: threads may free blocks during exit
  return *p;
}

inline Slab* slabOf(void* block) {
  return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(block) & ~(kSlabBytes - 1));
}

void unlinkPartial(SizeClass& k, Slab* s) {
  if (s->prev) s->prev->next = s->next;
  else k.partial = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
  s->partial = false;
}

// Takes up to n blocks of class c onto *list; returns how many (0 only when out of memory).
// k.mu held.
std::size_t takeBlocks(SizeClass& k, std::size_t c, FreeBlock** list, std::size_t n) {
  const std::size_t size = c * kGranule;
  std::size_t got = 0;
  while (got < n) {
    Slab* s = k.current;
    FreeBlock* b = nullptr;
    if (s && s->free) {
      b = s->free;
      s->free = b->next;
    } else if (s && s->bump + size <= reinterpret_cast<char*>(s) + kSlabBytes) {
      b = reinterpret_cast<FreeBlock*>(s->bump);
      s->bump += size;
    } else {
      // The current slab is full (it leaves every list until a block comes back).
      if (k.partial) {
        s = k.partial;
        unlinkPartial(k, s);
      } else if (!(s = pool().chunks.take(static_cast<uint32_t>(size)))) {
        break;
      }
      k.current = s;
      continue;
    }
    ++s->live;
    b->next = *list;
    *list = b;
    ++got;
  }
  return got;
}

// Returns one block to its slab; a slab left empty goes back to the chunks. k.mu held.
void putBlock(SizeClass& k, FreeBlock* b) {
  Slab* s = slabOf(b);
  b->next = s->free;
  s->free = b;
  --s->live;
  if (s == k.current) return;  // kept even when empty
  if (s->live == 0) {
    if (s->partial) unlinkPartial(k, s);
    pool().chunks.give(s);
  } else if (!s->partial) {
    s->partial = true;
    s->prev = nullptr;
    s->next = k.partial;
    if (k.partial) k.partial->prev = s;
    k.partial = s;
  }
}

// A thread's free blocks per class: most allocations and frees take no lock.
struct ThreadCache {
  struct Bin {
    FreeBlock* head = nullptr;
    uint32_t count = 0;
  };
  Bin bins[kClasses + 1];
  ~ThreadCache();
};

thread_local bool tCacheGone = false;

// A class's cache holds up to this many blocks (about 16 KiB, 8 to 64 blocks); half of that
// moves to or from the class at a time.
inline uint32_t binLimit(std::size_t c) {
  std::size_t n = 16384 / (c * kGranule);
  return static_cast<uint32_t>(n < 8 ? 8 : n > 64 ? 64 : n);
}

void giveBack(std::size_t c, ThreadCache::Bin& bin, uint32_t n) {
  SizeClass& k = pool().classes[c];
  std::lock_guard lock(k.mu);
  for (; n > 0 && bin.head; --n, --bin.count) {
    FreeBlock* b = bin.head;
    bin.head = b->next;
    putBlock(k, b);
  }
}

ThreadCache::~ThreadCache() {
  for (std::size_t c = 1; c <= kClasses; ++c)
    if (bins[c].count > 0) giveBack(c, bins[c], bins[c].count);
  tCacheGone = true;
}

ThreadCache* threadCache() {
  if (tCacheGone) return nullptr;  // the thread is exiting: straight to the class
  thread_local ThreadCache cache;
  return &cache;
}

inline std::size_t classOf(std::size_t bytes) { return bytes == 0 ? 1 : (bytes + kGranule - 1) / kGranule; }

}  // namespace

void* allocateBodyBlock(std::size_t bytes) {
  if (kPooled && bytes <= kMaxPooledBlock) {
    const std::size_t c = classOf(bytes);
    FreeBlock* b = nullptr;
    if (ThreadCache* tc = threadCache()) {
      ThreadCache::Bin& bin = tc->bins[c];
      if (!bin.head) {
        SizeClass& k = pool().classes[c];
        std::lock_guard lock(k.mu);
        bin.count = static_cast<uint32_t>(takeBlocks(k, c, &bin.head, binLimit(c) / 2));
      }
      if ((b = bin.head)) {
        bin.head = b->next;
        --bin.count;
      }
    } else {
      SizeClass& k = pool().classes[c];
      std::lock_guard lock(k.mu);
      takeBlocks(k, c, &b, 1);
    }
    if (!b) throw std::bad_alloc();
    return b;
  }
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

void freeBodyBlock(void* block, std::size_t bytes) noexcept {
  if (kPooled && bytes <= kMaxPooledBlock) {
    const std::size_t c = classOf(bytes);
    auto* b = static_cast<FreeBlock*>(block);
    if (ThreadCache* tc = threadCache()) {
      ThreadCache::Bin& bin = tc->bins[c];
      b->next = bin.head;
      bin.head = b;
      const uint32_t limit = binLimit(c);
      if (++bin.count > limit) giveBack(c, bin, bin.count - limit / 2);
    } else {
      SizeClass& k = pool().classes[c];
      std::lock_guard lock(k.mu);
      putBlock(k, b);
    }
    return;
  }
  std::free(block);
}

BodyPoolStats bodyPoolStats() { return pool().chunks.stats(); }

void flushBodyBlockCache() {
  if (!kPooled) return;
  if (ThreadCache* tc = threadCache())
    for (std::size_t c = 1; c <= kClasses; ++c)
      if (tc->bins[c].count > 0) giveBack(c, tc->bins[c], tc->bins[c].count);
}

}  // namespace nsq
