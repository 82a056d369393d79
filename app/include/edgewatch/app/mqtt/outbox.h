// Outbox: the bounded, on-disk queue of QoS 1 uplink messages (SQLite, WAL).
//
// Every QoS 1 message is appended here before it is handed to the broker and removed only when
// the broker acknowledged it (PUBACK), so messages survive a broker outage (and a restart of
// edgewatchd) and go out in order. The loop keeps the pending messages in memory (bounded by
// `max_messages` and `max_bytes`, and accounted in bytes()); the disk copy is written by a
// writer thread, so the loop never waits for the disk. At open, the pending messages of the
// previous run are loaded (blocking: call Open() at start, before the loop runs).
//
// Threading: Open() and the destructor on the thread that owns the outbox (the loop thread,
// before Run() / after it returned); every other method loop thread only. The writer thread
// only touches SQLite.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgewatch/base/status.h"

struct sqlite3;

namespace edgewatch::app::mqtt {

class Outbox {
 public:
  struct Message {
    int64_t id;  // increasing: the order of Append()
    std::string topic;
    std::string payload;
  };

  // Opens (creating) the database at `path`, loads its pending messages (oldest first; those
  // beyond the bounds are dropped and counted in overflowed()), and starts the writer thread.
  // Errors name the file (Internal/PermissionDenied).
  static Result<std::unique_ptr<Outbox>> Open(const std::string& path, size_t max_messages,
                                              size_t max_bytes);
  // Writes what is queued, then joins the writer.
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Appends a message. Returns false (and counts it in overflowed()) when it would exceed a
  // bound; nothing is stored then.
  bool Append(std::string topic, std::string payload);
  // Removes the message with `id` (acknowledged by the broker). No-op when it is not pending.
  void Remove(int64_t id);

  const std::deque<Message>& pending() const { return pending_; }
  size_t bytes() const { return bytes_; }
  uint64_t overflowed() const { return overflowed_; }
  uint64_t appended() const { return appended_; }
  uint64_t loaded() const { return loaded_; }
  // Disk writes that failed (logged); the in-memory queue is unaffected.
  uint64_t disk_errors() const { return disk_errors_.load(); }
  // Blocks until the writer has committed everything queued so far (tests, shutdown).
  void Flush();

 private:
  struct Op {
    bool insert;  // else delete
    int64_t id;
    std::string topic;
    std::string payload;
  };

  Outbox(std::string path, sqlite3* db, size_t max_messages, size_t max_bytes);
  void WriterLoop();
  void Commit(std::vector<Op>& ops);
  void Enqueue(Op op);

  const std::string path_;
  sqlite3* db_;  // writer thread only (after Open)
  const size_t max_messages_;
  const size_t max_bytes_;
  std::deque<Message> pending_;
  size_t bytes_ = 0;
  int64_t next_id_ = 1;
  uint64_t overflowed_ = 0;
  uint64_t appended_ = 0;
  uint64_t loaded_ = 0;
  std::atomic<uint64_t> disk_errors_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::vector<Op> queue_;   // guarded by mu_
  uint64_t enqueued_ = 0;   // guarded by mu_
  uint64_t committed_ = 0;  // guarded by mu_
  bool stop_ = false;       // guarded by mu_
  std::thread writer_;
};

}  // namespace edgewatch::app::mqtt
