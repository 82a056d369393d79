// AlertStore: durable alerts and notifications (seed 004), in SQLite, written off the event loop.
//
// The event loop never runs SQLite. It queues a StoreWrite (one transaction's worth of upserts)
// with Write(), which only takes a mutex and appends to a bounded queue; a writer thread commits
// queued writes in batches (one transaction each, WAL mode, synchronous=FULL so a commit survives
// power loss) and hands every write's completion back to the loop through the poster
// (fw::Gateway::Post in the daemon). A completion with OK means the rows are on disk: callers
// report a change (publish its event) only then.
//
// Reads happen once, at start-up (LoadUnread), before the daemon serves clients; afterwards the
// application keeps what it must show (unacknowledged alerts, unread notifications) in memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgewatch/base/status.h"

struct sqlite3;

namespace edgewatch::app::store {

struct AlertRecord {
  std::string id;
  std::string rule;
  std::string topic;     // the concrete topic whose event raised it
  std::string severity;  // "info" | "warning" | "error" | "critical"
  std::string message;
  int64_t created_at_ms = 0;     // Unix ms
  std::string state = "active";  // "active" | "acked"
  std::string acked_by;          // token subject, or "button"
  std::string ack_via;           // "ws" | "button"
  int64_t acked_at_ms = 0;
};

struct NotificationRecord {
  std::string id;
  // A user (token subject) or, for a notification addressed to everyone who can read a topic
  // pattern, "scope:<pattern>".
  std::string recipient;
  std::string type;  // "info" | "success" | "warning" | "error"
  std::string title;
  std::string message;
  bool read = false;
  int64_t created_at_ms = 0;
  std::string action_json;  // a JSON object ({"type":...,"payload":...}) or empty
  std::string alert_id;     // the alert that caused it, or empty
};

// One operator command and its outcome, as published on `audit/commands` (docs/protocol.md,
// "Audit"). Appended to the `command_audit` table; never updated.
struct CommandAuditRecord {
  int64_t ts_ms = 0;       // when the command ended (the audit event's time), Unix ms
  std::string command_id;  // the server id; empty for commands refused before they were sent
  std::string from;        // the token's sub
  std::string session;
  std::string target;
  std::string name;
  std::string args_json;  // the command's args object, as sent
  bool ok = false;
  std::string result;  // "ok", "failed" or the error code
  std::string message;
  int64_t duration_ms = 0;
};

// One transaction: upserts of whole records, notification ids to mark read, audit rows to append.
struct StoreWrite {
  std::vector<AlertRecord> alerts;
  std::vector<NotificationRecord> notifications;
  std::vector<std::string> mark_read;
  std::vector<CommandAuditRecord> audits;
};

struct UnreadSnapshot {
  std::vector<AlertRecord> alerts;                // state "active", oldest first
  std::vector<NotificationRecord> notifications;  // read == false, oldest first
};

struct StoreStats {
  uint64_t enqueued = 0;         // Write() calls accepted
  uint64_t writes = 0;           // completed StoreWrites
  uint64_t failed = 0;           // StoreWrites whose transaction failed
  uint64_t rejected = 0;         // Write() calls refused because the queue was full
  uint64_t batches = 0;          // transactions committed
  size_t queued = 0;             // writes waiting now
  int64_t enqueue_ns_max = 0;    // longest Write() call (the cost on the loop)
  int64_t enqueue_ns_total = 0;  // sum over every Write() call
  int64_t commit_us_max = 0;     // longest transaction on the writer thread (incl. fsync)
  int64_t commit_us_total = 0;
};

class AlertStore {
 public:
  using Done = std::function<void(Status)>;
  virtual ~AlertStore() = default;
  // Loop thread. Queues `write`; `done` later runs on the loop thread with OK once committed,
  // or with the error. Returns ResourceExhausted when the queue is full (then `done` never runs)
  // and FailedPrecondition after shutdown began.
  virtual Status Write(StoreWrite write, Done done) = 0;
};

class SqliteAlertStore final : public AlertStore {
 public:
  // Hands a closure to the loop thread (fw::Gateway::Post). Called from the writer thread.
  using Poster = std::function<void(std::function<void()>)>;

  struct Options {
    size_t max_queue = 1024;          // writes waiting; beyond it Write() refuses
    size_t max_batch = 256;           // writes per transaction
    size_t max_unread_alerts = 1000;  // LoadUnread bounds (newest kept)
    size_t max_unread_notifications = 10000;
    // command_audit keeps the newest rows; older ones are deleted in the transaction that
    // appends beyond the bound.
    size_t max_audit_rows = 100000;
  };

  // Creates `dir` (mode 0700, with parents) if needed, opens or creates `dir`/alerts.db, sets WAL
  // and synchronous=FULL and creates the schema. Blocking: call once at start-up. Errors:
  // PermissionDenied/NotFound for the directory, Internal (with SQLite's message) otherwise.
  static Result<std::unique_ptr<SqliteAlertStore>> Open(const std::string& dir, Poster poster,
                                                        Options options);
  static Result<std::unique_ptr<SqliteAlertStore>> Open(const std::string& dir, Poster poster) {
    return Open(dir, std::move(poster), Options());
  }
  // Commits whatever is queued, then stops the writer thread and closes the database. Completions
  // of those last writes are still handed to the poster (which may drop them after shutdown).
  ~SqliteAlertStore() override;

  // Start-up only (before the first Write): unacknowledged alerts and unread notifications,
  // bounded by the options (the newest are kept). Internal on a SQLite error.
  Result<UnreadSnapshot> LoadUnread();

  Status Write(StoreWrite write, Done done) override;

  // Any thread, but blocking (it reads SQLite): the newest `limit` command audit rows, oldest
  // first. For tests, tools and start-up; never on the loop while it serves. Internal on error.
  Result<std::vector<CommandAuditRecord>> LoadAudit(size_t limit);

  // Any thread: blocks until every write queued before the call has been committed (or failed)
  // and its completion handed to the poster. For tests and orderly shutdown; never on the loop
  // while it must stay responsive.
  void Flush();

  // Any thread.
  StoreStats stats() const;
  const std::string& path() const { return path_; }

 private:
  struct Pending {
    StoreWrite write;
    Done done;
  };
  SqliteAlertStore(std::string path, sqlite3* db, Poster poster, Options options);
  void WriterLoop();
  Status Apply(const StoreWrite& w);
  Status Exec(const char* sql);

  const std::string path_;
  sqlite3* db_;
  Poster poster_;
  Options options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;       // writer: work or stop
  std::condition_variable committed_;  // Flush(): progress
  std::deque<Pending> queue_;
  uint64_t enqueued_ = 0;  // writes ever queued
  uint64_t finished_ = 0;  // writes whose completion was handed to the poster
  bool stop_ = false;
  StoreStats stats_;
  std::thread writer_;
};

}  // namespace edgewatch::app::store
