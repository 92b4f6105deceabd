#pragma once
// BodyPool: the memory behind message bodies (Body blocks, message.h). A block of up to
// kMaxPooledBlock bytes comes from a size class of 16-byte steps, carved from 64 KiB slabs that
// are cut from 2 MiB chunks mapped with MADV_HUGEPAGE; larger blocks use malloc.
//
// Why not malloc: glibc grows a thread's arena a page at a time with an mprotect() each, and
// faults every 4 KiB in on first touch; publishing 1 KB messages into the memory queue spent a
// third of nsqd's CPU there (perf: sysmalloc 33.5%, __mprotect 28%). A chunk faults in once per
// 2 MiB. A 200-byte body takes 208 bytes here, not malloc's 224.
//
// Fresh chunks are faulted in ahead, off the publishing threads: a refill thread keeps
// kSpareChunks chunks mapped and resident for the moment no chunk has a free slab left. A
// chunk's first touch zeroes a 2 MiB huge page, which on a VM whose balloon hands freed memory
// back to the host took ~1.5 ms, 40% of nsqd's CPU while 1 KB publishes filled the memory
// queue, and it came inside the class's and the chunks' mutexes, stalling every other thread
// that needed a block of that class.
//
// Memory goes back: a slab whose blocks are all free returns to its chunk, and a chunk whose
// slabs are all free is unmapped (one spare is kept, beside the refill's). Free slabs of a chunk still in use stay
// resident up to kMaxFreeResidentSlabs, past that they are madvise(MADV_DONTNEED)ed. A slab is
// kept while any of its blocks is alive.
//
// Threads: any thread allocates and frees (a body published on one IO thread is freed on
// another at FIN). Each thread caches a few free blocks per class; a class's slabs are guarded by
// the class's mutex, taken once per batch of blocks, and the chunks by one mutex taken once per
// slab. A thread's cached blocks go back when it exits.
#include <cstddef>

namespace nsq {

constexpr std::size_t kMaxPooledBlock = 4096;  // larger blocks come from malloc
constexpr std::size_t kMaxFreeResidentSlabs = 64;
constexpr std::size_t kSpareChunks = 1;  // 2 MiB chunks the refill keeps faulted in ahead

// Storage for a block of `bytes` (16-byte aligned). Throws std::bad_alloc. Any thread.
void* allocateBodyBlock(std::size_t bytes);
// Gives back what allocateBodyBlock(bytes) returned, with the same `bytes`. Any thread.
void freeBodyBlock(void* block, std::size_t bytes) noexcept;

struct BodyPoolStats {
  std::size_t chunks = 0;       // 2 MiB chunks mapped
  std::size_t slabsInUse = 0;   // slabs holding (or reserved for) a class's blocks
  std::size_t spareChunks = 0;  // faulted in ahead by the refill, not yet taken
};
BodyPoolStats bodyPoolStats();
// Gives the calling thread's cached blocks back to their slabs (tests; a thread's exit does it).
void flushBodyBlockCache();

}  // namespace nsq
