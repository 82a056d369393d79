#include "edgewatch/app/store/alert_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <utility>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  topic TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  acked_by TEXT,
  ack_via TEXT,
  acked_at INTEGER);
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, created_at);
CREATE TABLE IF NOT EXISTS notifications(
  id TEXT PRIMARY KEY,
  recipient TEXT NOT NULL,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  message TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  action TEXT,
  alert_id TEXT);
CREATE INDEX IF NOT EXISTS notifications_unread ON notifications(read, created_at);
CREATE TABLE IF NOT EXISTS command_audit(
  seq INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  command_id TEXT,
  sub TEXT NOT NULL,
  session TEXT NOT NULL,
  target TEXT NOT NULL,
  name TEXT NOT NULL,
  args TEXT NOT NULL,
  ok INTEGER NOT NULL,
  result TEXT NOT NULL,
  message TEXT NOT NULL,
  duration_ms INTEGER NOT NULL);
PRAGMA user_version = 2;
)sql";

constexpr const char* kUpsertAlert = R"sql(
INSERT INTO alerts(id, rule, topic, severity, message, created_at, state, acked_by, ack_via,
                   acked_at)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT(id) DO UPDATE SET state = excluded.state, acked_by = excluded.acked_by,
  ack_via = excluded.ack_via, acked_at = excluded.acked_at, message = excluded.message)sql";

constexpr const char* kUpsertNotification = R"sql(
INSERT INTO notifications(id, recipient, type, title, message, read, created_at, action, alert_id)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT(id) DO UPDATE SET read = excluded.read)sql";

constexpr const char* kMarkRead = "UPDATE notifications SET read = 1 WHERE id = ?1";

constexpr const char* kInsertAudit = R"sql(
INSERT INTO command_audit(ts, command_id, sub, session, target, name, args, ok, result, message,
                          duration_ms)
VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql";

// Keeps the newest ?1 rows (seq grows with every insert).
constexpr const char* kTrimAudit =
    "DELETE FROM command_audit WHERE seq <= (SELECT MAX(seq) FROM command_audit) - ?1";

constexpr const char* kSelectAudit = R"sql(
SELECT ts, command_id, sub, session, target, name, args, ok, result, message, duration_ms
FROM (SELECT * FROM command_audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq)sql";

// Owns a prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void Text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void TextOrNull(int i, const std::string& s) {
    if (s.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Text(i, s);
    }
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  std::string Col(int i) {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Status SqlError(sqlite3* db, std::string_view what) {
  return Internal(std::string(what) + ": " + sqlite3_errmsg(db));
}

}  // namespace

Result<std::unique_ptr<SqliteAlertStore>> SqliteAlertStore::Open(const std::string& dir,
                                                                 Poster poster, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoToStatus(ec.value(), "state directory " + dir);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoToStatus(errno, "state directory " + dir);
  std::string path = dir + "/alerts.db";
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Internal("cannot open " + path + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return s;
  }
  // WAL: readers never block the writer and a commit is one append; synchronous=FULL syncs the
  // WAL on every commit, so a committed alert survives power loss (NORMAL would not).
  char* err = nullptr;
  rc =
      sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, &err);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, kSchema, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s = Internal(path + ": " + (err != nullptr ? err : sqlite3_errstr(rc)));
    sqlite3_free(err);
    sqlite3_close(db);
    return s;
  }
  return std::unique_ptr<SqliteAlertStore>(
      new SqliteAlertStore(std::move(path), db, std::move(poster), options));
}

SqliteAlertStore::SqliteAlertStore(std::string path, sqlite3* db, Poster poster, Options options)
    : path_(std::move(path)), db_(db), poster_(std::move(poster)), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
}

SqliteAlertStore::~SqliteAlertStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
  sqlite3_close(db_);
}

Result<UnreadSnapshot> SqliteAlertStore::LoadUnread() {
  UnreadSnapshot snap;
  {
    Stmt q(db_,
           "SELECT id, rule, topic, severity, message, created_at, state, acked_by, ack_via, "
           "acked_at FROM (SELECT * FROM alerts WHERE state = 'active' "
           "ORDER BY created_at DESC, rowid DESC LIMIT ?1) ORDER BY created_at, rowid");
    if (!q.ok()) return SqlError(db_, "load alerts");
    q.Int(1, static_cast<int64_t>(options_.max_unread_alerts));
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      AlertRecord a;
      a.id = q.Col(0);
      a.rule = q.Col(1);
      a.topic = q.Col(2);
      a.severity = q.Col(3);
      a.message = q.Col(4);
      a.created_at_ms = sqlite3_column_int64(q.get(), 5);
      a.state = q.Col(6);
      a.acked_by = q.Col(7);
      a.ack_via = q.Col(8);
      a.acked_at_ms = sqlite3_column_int64(q.get(), 9);
      snap.alerts.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "load alerts");
  }
  {
    Stmt q(db_,
           "SELECT id, recipient, type, title, message, read, created_at, action, alert_id FROM "
           "(SELECT rowid AS r, * FROM notifications WHERE read = 0 "
           "ORDER BY created_at DESC, rowid DESC LIMIT ?1) ORDER BY created_at, r");
    if (!q.ok()) return SqlError(db_, "load notifications");
    q.Int(1, static_cast<int64_t>(options_.max_unread_notifications));
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      NotificationRecord n;
      n.id = q.Col(0);
      n.recipient = q.Col(1);
      n.type = q.Col(2);
      n.title = q.Col(3);
      n.message = q.Col(4);
      n.read = sqlite3_column_int(q.get(), 5) != 0;
      n.created_at_ms = sqlite3_column_int64(q.get(), 6);
      n.action_json = q.Col(7);
      n.alert_id = q.Col(8);
      snap.notifications.push_back(std::move(n));
    }
    if (rc != SQLITE_DONE) return SqlError(db_, "load notifications");
  }
  return snap;
}

Status SqliteAlertStore::Write(StoreWrite write, Done done) {
  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return FailedPrecondition("the alert store is shutting down");
    if (queue_.size() >= options_.max_queue) {
      ++stats_.rejected;
      return ResourceExhausted("the alert store's write queue is full (" +
                               std::to_string(options_.max_queue) + " writes): disk stalled?");
    }
    queue_.push_back(Pending{std::move(write), std::move(done)});
    ++enqueued_;
    ++stats_.enqueued;
    int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    stats_.enqueue_ns_max = std::max(stats_.enqueue_ns_max, ns);
    stats_.enqueue_ns_total += ns;
  }
  wake_.notify_one();
  return OkStatus();
}

void SqliteAlertStore::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  committed_.wait(lock, [&] { return finished_ >= target; });
}

StoreStats SqliteAlertStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  StoreStats s = stats_;
  s.queued = queue_.size();
  return s;
}

Status SqliteAlertStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return OkStatus();
  Status s = Internal(std::string(sql) + ": " + (err != nullptr ? err : sqlite3_errstr(rc)));
  sqlite3_free(err);
  return s;
}

Status SqliteAlertStore::Apply(const StoreWrite& w) {
  if (!w.alerts.empty()) {
    Stmt st(db_, kUpsertAlert);
    if (!st.ok()) return SqlError(db_, "prepare alert upsert");
    for (const AlertRecord& a : w.alerts) {
      sqlite3_reset(st.get());
      st.Text(1, a.id);
      st.Text(2, a.rule);
      st.Text(3, a.topic);
      st.Text(4, a.severity);
      st.Text(5, a.message);
      st.Int(6, a.created_at_ms);
      st.Text(7, a.state);
      st.TextOrNull(8, a.acked_by);
      st.TextOrNull(9, a.ack_via);
      if (a.acked_at_ms != 0) {
        st.Int(10, a.acked_at_ms);
      } else {
        sqlite3_bind_null(st.get(), 10);
      }
      if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(db_, "store alert " + a.id);
    }
  }
  if (!w.notifications.empty()) {
    Stmt st(db_, kUpsertNotification);
    if (!st.ok()) return SqlError(db_, "prepare notification upsert");
    for (const NotificationRecord& n : w.notifications) {
      sqlite3_reset(st.get());
      st.Text(1, n.id);
      st.Text(2, n.recipient);
      st.Text(3, n.type);
      st.Text(4, n.title);
      st.Text(5, n.message);
      st.Int(6, n.read ? 1 : 0);
      st.Int(7, n.created_at_ms);
      st.TextOrNull(8, n.action_json);
      st.TextOrNull(9, n.alert_id);
      if (sqlite3_step(st.get()) != SQLITE_DONE) {
        return SqlError(db_, "store notification " + n.id);
      }
    }
  }
  if (!w.mark_read.empty()) {
    Stmt st(db_, kMarkRead);
    if (!st.ok()) return SqlError(db_, "prepare mark read");
    for (const std::string& id : w.mark_read) {
      sqlite3_reset(st.get());
      st.Text(1, id);
      if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(db_, "mark read " + id);
    }
  }
  if (!w.audits.empty()) {
    Stmt st(db_, kInsertAudit);
    if (!st.ok()) return SqlError(db_, "prepare audit insert");
    for (const CommandAuditRecord& a : w.audits) {
      sqlite3_reset(st.get());
      st.Int(1, a.ts_ms);
      st.TextOrNull(2, a.command_id);
      st.Text(3, a.from);
      st.Text(4, a.session);
      st.Text(5, a.target);
      st.Text(6, a.name);
      st.Text(7, a.args_json.empty() ? std::string("{}") : a.args_json);
      st.Int(8, a.ok ? 1 : 0);
      st.Text(9, a.result);
      st.Text(10, a.message);
      st.Int(11, a.duration_ms);
      if (sqlite3_step(st.get()) != SQLITE_DONE) return SqlError(db_, "store command audit");
    }
    Stmt trim(db_, kTrimAudit);
    if (!trim.ok()) return SqlError(db_, "prepare audit trim");
    trim.Int(1, static_cast<int64_t>(options_.max_audit_rows));
    if (sqlite3_step(trim.get()) != SQLITE_DONE) return SqlError(db_, "trim command audit");
  }
  return OkStatus();
}

Result<std::vector<CommandAuditRecord>> SqliteAlertStore::LoadAudit(size_t limit) {
  // The writer thread owns db_ between transactions; a read connection of our own keeps this
  // call independent of it (WAL lets it read while the writer commits).
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Internal("cannot open " + path_ + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return s;
  }
  std::vector<CommandAuditRecord> out;
  Status status = OkStatus();
  {
    Stmt st(db, kSelectAudit);
    if (!st.ok()) {
      status = SqlError(db, "prepare audit select");
    } else {
      st.Int(1, static_cast<int64_t>(limit));
      while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
        CommandAuditRecord a;
        a.ts_ms = sqlite3_column_int64(st.get(), 0);
        a.command_id = st.Col(1);
        a.from = st.Col(2);
        a.session = st.Col(3);
        a.target = st.Col(4);
        a.name = st.Col(5);
        a.args_json = st.Col(6);
        a.ok = sqlite3_column_int(st.get(), 7) != 0;
        a.result = st.Col(8);
        a.message = st.Col(9);
        a.duration_ms = sqlite3_column_int64(st.get(), 10);
        out.push_back(std::move(a));
      }
      if (rc != SQLITE_DONE) status = SqlError(db, "read command audit");
    }
  }
  sqlite3_close(db);
  if (!status.ok()) return status;
  return out;
}

void SqliteAlertStore::WriterLoop() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is committed
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const int64_t t0 = MonotonicMicros();
    std::vector<Status> results(batch.size());
    // One transaction for the batch; if it fails, retry each write alone so that one bad write
    // does not fail the others.
    Status s = Exec("BEGIN IMMEDIATE");
    for (size_t i = 0; s.ok() && i < batch.size(); ++i) s = Apply(batch[i].write);
    if (s.ok()) s = Exec("COMMIT");
    uint64_t batches = 1;
    if (!s.ok()) {
      Exec("ROLLBACK").IgnoreError();
      EW_WARN("store", "batch of %zu writes failed (%s); retrying one by one", batch.size(),
              s.ToString().c_str());
      batches = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        Status one = Exec("BEGIN IMMEDIATE");
        if (one.ok()) one = Apply(batch[i].write);
        if (one.ok()) one = Exec("COMMIT");
        if (!one.ok()) {
          Exec("ROLLBACK").IgnoreError();
          EW_ERROR("store", "write failed: %s", one.ToString().c_str());
        } else {
          ++batches;
        }
        results[i] = one;
      }
    }
    const int64_t took = MonotonicMicros() - t0;
    uint64_t failed = 0;
    for (const Status& r : results) failed += r.ok() ? 0 : 1;
    {
      // Counted before the completions run, so a completion sees its own write in stats().
      std::lock_guard<std::mutex> lock(mu_);
      stats_.writes += batch.size() - failed;
      stats_.failed += failed;
      stats_.batches += batches;
      stats_.commit_us_max = std::max(stats_.commit_us_max, took);
      stats_.commit_us_total += took;
    }
    // Hand every completion back to the loop in one closure, in queue order.
    auto completions = std::make_shared<std::vector<std::pair<Done, Status>>>();
    completions->reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      completions->emplace_back(std::move(batch[i].done), results[i]);
    }
    if (poster_) {
      poster_([completions] {
        for (auto& [done, status] : *completions) {
          if (done) done(status);
        }
      });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ += batch.size();
    }
    committed_.notify_all();
  }
}

}  // namespace edgewatch::app::store
