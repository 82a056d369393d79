#include "edgewatch/app/mqtt/outbox.h"

#include <sqlite3.h>

#include "edgewatch/base/log.h"

namespace edgewatch::app::mqtt {
namespace {

constexpr const char* kSchema =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, topic TEXT NOT NULL,"
    " payload BLOB NOT NULL);";

size_t Cost(const std::string& topic, const std::string& payload) {
  return topic.size() + payload.size();
}

}  // namespace

Result<std::unique_ptr<Outbox>> Outbox::Open(const std::string& path, size_t max_messages,
                                             size_t max_bytes) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Internal("MQTT outbox " + path + ": " + msg);
  }
  char* err = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "schema";
    sqlite3_free(err);
    sqlite3_close(db);
    return Internal("MQTT outbox " + path + ": " + msg);
  }
  std::unique_ptr<Outbox> box(new Outbox(path, db, max_messages, max_bytes));
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, topic, payload FROM outbox ORDER BY id", -1, &st, nullptr);
  std::vector<int64_t> dropped;
  while (st != nullptr && sqlite3_step(st) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(st, 0);
    std::string topic(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    const void* blob = sqlite3_column_blob(st, 2);
    std::string payload(static_cast<const char*>(blob),
                        static_cast<size_t>(sqlite3_column_bytes(st, 2)));
    box->next_id_ = id + 1;
    size_t cost = Cost(topic, payload);
    if (box->pending_.size() >= max_messages || box->bytes_ + cost > max_bytes) {
      dropped.push_back(id);  // the bounds shrank since the last run
      ++box->overflowed_;
      continue;
    }
    box->bytes_ += cost;
    box->pending_.push_back({id, std::move(topic), std::move(payload)});
    ++box->loaded_;
  }
  sqlite3_finalize(st);
  for (int64_t id : dropped) box->Enqueue({false, id, {}, {}});
  box->writer_ = std::thread([b = box.get()] { b->WriterLoop(); });
  return box;
}

Outbox::Outbox(std::string path, sqlite3* db, size_t max_messages, size_t max_bytes)
    : path_(std::move(path)), db_(db), max_messages_(max_messages), max_bytes_(max_bytes) {}

Outbox::~Outbox() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  sqlite3_close(db_);
}

bool Outbox::Append(std::string topic, std::string payload) {
  size_t cost = Cost(topic, payload);
  if (pending_.size() >= max_messages_ || bytes_ + cost > max_bytes_) {
    ++overflowed_;
    return false;
  }
  int64_t id = next_id_++;
  Enqueue({true, id, topic, payload});
  bytes_ += cost;
  pending_.push_back({id, std::move(topic), std::move(payload)});
  ++appended_;
  return true;
}

void Outbox::Remove(int64_t id) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->id != id) continue;
    bytes_ -= Cost(it->topic, it->payload);
    pending_.erase(it);
    Enqueue({false, id, {}, {}});
    return;
  }
}

void Outbox::Enqueue(Op op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(op));
    ++enqueued_;
  }
  cv_.notify_one();
}

void Outbox::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = enqueued_;
  flushed_cv_.wait(lock, [&] { return committed_ >= target; });
}

void Outbox::WriterLoop() {
  std::vector<Op> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    Commit(batch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      committed_ += batch.size();
    }
    flushed_cv_.notify_all();
    batch.clear();
  }
}

// Writer thread: one transaction per batch.
void Outbox::Commit(std::vector<Op>& ops) {
  sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_stmt* del = nullptr;
  sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO outbox (id, topic, payload) VALUES (?, ?, ?)", -1,
                     &ins, nullptr);
  sqlite3_prepare_v2(db_, "DELETE FROM outbox WHERE id = ?", -1, &del, nullptr);
  bool failed = ins == nullptr || del == nullptr;
  for (const Op& op : ops) {
    if (failed) break;
    sqlite3_stmt* st = op.insert ? ins : del;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, op.id);
    if (op.insert) {
      sqlite3_bind_text(st, 2, op.topic.data(), static_cast<int>(op.topic.size()), SQLITE_STATIC);
      sqlite3_bind_blob(st, 3, op.payload.data(), static_cast<int>(op.payload.size()),
                        SQLITE_STATIC);
    }
    if (sqlite3_step(st) != SQLITE_DONE) failed = true;
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(del);
  if (failed || sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    uint64_t n = ++disk_errors_;
    if (n == 1 || n % 100 == 0) {
      EW_WARN("mqtt", "outbox %s: writing %zu changes failed (%s); %llu failures so far",
              path_.c_str(), ops.size(), sqlite3_errmsg(db_), static_cast<unsigned long long>(n));
    }
  }
}

}  // namespace edgewatch::app::mqtt
