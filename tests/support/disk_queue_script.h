#pragma once
// DiskQueueScript: a disk queue driven by a script of operations (bytes, as a fuzzer makes them)
// and checked against a model of what disk_queue.h promises its owner. The operations are the
// write side's in every order nsqd may call them: records appended one by one, as encoded
// records or as runs; batches published, aborted, or reserved (prepare(error, &w)) and then
// written, published in reservation order or taken back in any order (which takes back every
// batch reserved after them); pops, syncs, empty() and a close and reopen, over segments small
// enough to roll inside a batch. The model is what was published and not yet popped, in order:
// every pop must return its oldest record, depth() its size, and a reopened queue the rest.
// Used by the fuzz target fuzz_disk_queue_writes and by DiskQueueScriptTest (random scripts).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nsq/storage/disk_queue.h"
#include "nsq/storage/record.h"

namespace nsq::test {

class DiskQueueScript {
 public:
  // `dir` must exist and be empty. fail(what) is called for the first broken promise; run()
  // then stops.
  DiskQueueScript(std::string dir, std::function<void(const std::string&)> fail)
      : dir_(std::move(dir)), fail_(std::move(fail)) {}

  void run(std::string_view script) {
    script_ = script;
    at_ = 0;
    opts_.dataPath = dir_;
    opts_.name = "q";
    opts_.maxBytesPerFile = 256 + 256 * static_cast<int64_t>(next() % 8);
    opts_.minMsgSize = 1;
    opts_.maxMsgSize = 200;
    opts_.syncEvery = 1000;
    opts_.onSyncDue = [] {};  // deferred syncs, as in nsqd: only then are batches reserved
    opts_.logError = [](const std::string&) {};
    q_ = std::make_unique<DiskQueue>(opts_);
    while (ok_ && at_ < script_.size()) step(next());
    if (ok_) finish();
    if (q_) q_->close();
  }

 private:
  struct Reserved {
    std::unique_ptr<DiskQueue::Write> w = std::make_unique<DiskQueue::Write>();
    std::vector<std::string> records;
    bool written = false;
    bool doomed = false;  // a batch reserved before it was taken back
  };

  uint8_t next() { return at_ < script_.size() ? static_cast<uint8_t>(script_[at_++]) : 0; }

  void check(bool ok, const std::string& what) {
    if (ok || !ok_) return;
    ok_ = false;
    fail_(what + " (at script byte " + std::to_string(at_) + ")");
  }

  // A payload no other has: its number, then filler up to a size the script chooses.
  std::string payload() {
    std::string p = std::to_string(serial_++) + ":";
    const std::size_t len = 1 + next() % 200;
    if (p.size() < len) p.append(len - p.size(), static_cast<char>('a' + serial_ % 26));
    return p;
  }

  void step(uint8_t op) {
    switch (op % 14) {
      case 0:
      case 1: {
        std::string p = payload();
        check(q_->append(p), "append refused");
        open_.push_back(std::move(p));
        break;
      }
      case 2: {
        std::string p = payload(), rec;
        appendRecord(rec, p);
        check(q_->appendEncoded(rec), "appendEncoded refused");
        open_.push_back(std::move(p));
        break;
      }
      case 3: {
        const std::size_t n = 1 + next() % 8;
        std::string run;
        std::vector<std::string> ps;
        for (std::size_t i = 0; i < n; ++i) {
          ps.push_back(payload());
          appendRecord(run, ps.back());
        }
        check(q_->appendEncodedRun(run, n), "appendEncodedRun refused");
        for (auto& p : ps) open_.push_back(std::move(p));
        break;
      }
      case 4:
        publishOpen();
        break;
      case 5:
        q_->abort();
        open_.clear();
        break;
      case 6:
        reserve();
        break;
      case 7:
        if (!reserved_.empty()) writeReserved(*reserved_[next() % reserved_.size()]);
        break;
      case 8:
        completeFront();
        break;
      case 9:
        if (!reserved_.empty()) takeBack(next() % reserved_.size());
        break;
      case 10:
        pop();
        break;
      case 11:
        if (next() % 2) q_->sync(); else q_->syncIfNeeded();
        break;
      case 12:
        if (reserved_.empty()) reopen();
        break;
      case 13:
        if (reserved_.empty()) {
          settleOpen();
          q_->empty();
          visible_.clear();
        }
        break;
    }
    if (ok_) check(q_->depth() == static_cast<int64_t>(visible_.size()),
                   "depth " + std::to_string(q_->depth()) + ", published and not popped " +
                       std::to_string(visible_.size()));
  }

  // A taken-back batch may still hold its place (its queue is cut back once every batch
  // reserved after it has left and no batch is open): until then a batch that follows it may
  // be refused, which takes it back too.
  bool cutBackPending() const { return !takenBack_.empty(); }

  void publishOpen() {
    if (!reserved_.empty()) return;  // a batch prepared as usual waits for the reserved ones
    std::string err;
    const bool prepared = q_->prepare(&err);
    if (!prepared) {
      check(cutBackPending(), "prepare failed: " + err);
      open_.clear();
      return;
    }
    const int64_t n = q_->publish();
    check(n == static_cast<int64_t>(open_.size()),
          "publish made " + std::to_string(n) + " records visible, appended " + std::to_string(open_.size()));
    for (auto& p : open_) visible_.push_back(std::move(p));
    open_.clear();
    awaitCutBacks();
  }

  void reserve() {
    if (open_.empty()) return;
    auto r = std::make_unique<Reserved>();
    std::string err;
    if (!q_->prepare(&err, r->w.get())) {
      check(cutBackPending(), "reserving failed: " + err);
      open_.clear();
      return;
    }
    if (!r->w->active()) {  // prepared as usual instead
      check(false, "a batch of " + std::to_string(open_.size()) + " records was not reserved");
      return;
    }
    check(r->w->records() == static_cast<int64_t>(open_.size()), "reserved batch holds the wrong count");
    r->records = std::move(open_);
    open_.clear();
    reserved_.push_back(std::move(r));
  }

  void writeReserved(Reserved& r) {
    if (r.written) return;
    std::string err;
    check(q_->write(*r.w, &err), "write failed: " + err);
    r.written = true;
  }

  void completeFront() {
    if (reserved_.empty()) return;
    Reserved& r = *reserved_.front();
    writeReserved(r);
    const bool turn = q_->awaitTurn(*r.w);
    check(turn == !r.doomed, r.doomed ? "a doomed batch got its turn" : "a batch's turn never came");
    const bool published = q_->complete(*r.w, turn);
    check(published == !r.doomed, r.doomed ? "a doomed batch was published" : "a batch was not published");
    if (published) {
      for (auto& p : r.records) visible_.push_back(std::move(p));
    } else {
      takenBack_.push_back(std::move(r.w));
    }
    reserved_.erase(reserved_.begin());
    awaitCutBacks();
  }

  void takeBack(std::size_t i) {
    check(!q_->complete(*reserved_[i]->w, false), "complete(w, false) reported the batch published");
    for (std::size_t j = i + 1; j < reserved_.size(); ++j) reserved_[j]->doomed = true;
    takenBack_.push_back(std::move(reserved_[i]->w));
    reserved_.erase(reserved_.begin() + static_cast<std::ptrdiff_t>(i));
    awaitCutBacks();
  }

  // Once every batch is completed and none is open, the files are cut back: awaitCutBack()
  // must return at once (with one thread here, waiting would never end).
  void awaitCutBacks() {
    if (!reserved_.empty() || !open_.empty()) return;
    for (auto& w : takenBack_) {
      check(DiskQueue::cutBackMade(*w),
            "a taken-back batch is still owed its cut back with no batch reserved or open: "
            "awaitCutBack() would wait forever");
      if (!ok_) return;
      DiskQueue::awaitCutBack(*w);
    }
    takenBack_.clear();
  }

  void pop() {
    std::string out;
    const bool got = q_->pop(out);
    if (visible_.empty()) {
      check(!got, "popped a record nobody published: " + out.substr(0, 40));
      return;
    }
    check(got, "pop found nothing, " + std::to_string(visible_.size()) + " published and not popped");
    if (!got) return;
    check(out == visible_.front(), "popped " + out.substr(0, 40) + ", expected " + visible_.front().substr(0, 40));
    visible_.pop_front();
  }

  // Ends the open batch the way the script says: published or aborted.
  void settleOpen() {
    if (next() % 2) {
      publishOpen();
    } else {
      q_->abort();
      open_.clear();
    }
    awaitCutBacks();
  }

  void reopen() {
    settleOpen();
    q_->close();
    q_ = std::make_unique<DiskQueue>(opts_);
  }

  // Completes every reserved batch, ends the open one, reads everything and reopens: nothing
  // published may be missing and nothing else may be there.
  void finish() {
    while (ok_ && !reserved_.empty()) completeFront();
    if (!ok_) return;
    q_->abort();
    open_.clear();
    awaitCutBacks();
    while (ok_ && !visible_.empty()) pop();
    if (!ok_) return;
    pop();  // nothing more
    q_->close();
    q_ = std::make_unique<DiskQueue>(opts_);
    check(q_->depth() == 0, "reopened queue holds " + std::to_string(q_->depth()) + " records, all were popped");
    std::string p = payload();
    check(q_->put(p), "put refused after reopen");
    visible_.push_back(p);
    pop();
  }

  std::string dir_;
  std::function<void(const std::string&)> fail_;
  std::string_view script_;
  std::size_t at_ = 0;
  bool ok_ = true;
  DiskQueueOptions opts_;
  std::unique_ptr<DiskQueue> q_;
  uint64_t serial_ = 0;
  std::deque<std::string> visible_;  // published, not yet popped
  std::vector<std::string> open_;    // appended to the open batch
  std::vector<std::unique_ptr<Reserved>> reserved_;  // in reservation order
  std::vector<std::unique_ptr<DiskQueue::Write>> takenBack_;  // awaiting their cut back
};

}  // namespace nsq::test
