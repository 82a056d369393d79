// The SQLite alert store: round trips through a real database in a temporary directory, the
// writer thread's completions delivered through a poster the test drains, a full queue, and the
// cost of Write() on the calling (loop) thread. Waits are condition variables, never sleeps.
#include "edgewatch/app/store/alert_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace edgewatch::app::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-store-XXXXXX";
    char* made = ::mkdtemp(templ.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Collects the closures the writer thread hands back, for the test thread to run.
class Mailbox {
 public:
  SqliteAlertStore::Poster Poster() {
    return [this](std::function<void()> fn) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(fn));
    };
  }
  int Drain() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(queue_);
    }
    for (auto& fn : batch) fn();
    return static_cast<int>(batch.size());
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
};

AlertRecord Alert(std::string id, int64_t created) {
  AlertRecord a;
  a.id = std::move(id);
  a.rule = "intrusion";
  a.topic = "pipeline/cam1/analytics";
  a.severity = "critical";
  a.message = "Intrusion on cam1";
  a.created_at_ms = created;
  return a;
}

NotificationRecord Note(std::string id, std::string recipient, int64_t created) {
  NotificationRecord n;
  n.id = std::move(id);
  n.recipient = std::move(recipient);
  n.type = "error";
  n.title = "Intrusion";
  n.message = "Intrusion on cam1";
  n.created_at_ms = created;
  n.action_json = R"({"type":"open_alert","payload":{"alert":"a1"}})";
  n.alert_id = "a1";
  return n;
}

TEST(AlertStoreTest, WritesSurviveReopenWithTheirUnreadState) {
  TempDir dir;
  const std::string state = dir.path() + "/state/nested";  // created with its parents
  Mailbox mb;
  std::vector<std::string> done;
  {
    auto st = SqliteAlertStore::Open(state, mb.Poster());
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto snap = (*st)->LoadUnread();
    ASSERT_TRUE(snap.ok());
    EXPECT_TRUE(snap->alerts.empty());

    StoreWrite w1;
    w1.alerts = {Alert("a1", 100), Alert("a2", 200), Alert("a3", 300)};
    w1.notifications = {Note("n1", "alice", 100), Note("n2", "scope:alerts", 100),
                        Note("n3", "bob", 100)};
    ASSERT_TRUE((*st)->Write(w1, [&](Status s) { done.push_back("w1:" + s.ToString()); }).ok());
    AlertRecord acked = Alert("a2", 200);
    acked.state = "acked";
    acked.acked_by = "alice";
    acked.ack_via = "ws";
    acked.acked_at_ms = 250;
    StoreWrite w2;
    w2.alerts = {acked};
    w2.mark_read = {"n3"};
    ASSERT_TRUE((*st)->Write(w2, [&](Status s) { done.push_back("w2:" + s.ToString()); }).ok());
    (*st)->Flush();
    EXPECT_TRUE(done.empty());  // completions run on the "loop", i.e. when the test drains
    mb.Drain();
    EXPECT_THAT(done, ElementsAre("w1:ok", "w2:ok"));
    StoreStats stats = (*st)->stats();
    EXPECT_EQ(stats.writes, 2u);
    EXPECT_EQ(stats.enqueued, 2u);
    EXPECT_EQ(stats.queued, 0u);
    EXPECT_GE(stats.batches, 1u);
  }
  EXPECT_TRUE(std::filesystem::exists(state + "/alerts.db"));
  auto st = SqliteAlertStore::Open(state, mb.Poster());
  ASSERT_TRUE(st.ok());
  auto snap = (*st)->LoadUnread();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  ASSERT_THAT(snap->alerts, SizeIs(2));
  EXPECT_EQ(snap->alerts[0].id, "a1");
  EXPECT_EQ(snap->alerts[1].id, "a3");
  EXPECT_EQ(snap->alerts[0].message, "Intrusion on cam1");
  EXPECT_EQ(snap->alerts[0].created_at_ms, 100);
  ASSERT_THAT(snap->notifications, SizeIs(2));
  EXPECT_EQ(snap->notifications[0].id, "n1");
  EXPECT_EQ(snap->notifications[0].action_json,
            R"({"type":"open_alert","payload":{"alert":"a1"}})");
  EXPECT_EQ(snap->notifications[1].recipient, "scope:alerts");
}

TEST(AlertStoreTest, LoadUnreadKeepsTheNewestWithinItsBounds) {
  TempDir dir;
  Mailbox mb;
  SqliteAlertStore::Options o;
  o.max_unread_alerts = 2;
  o.max_unread_notifications = 1;
  auto st = SqliteAlertStore::Open(dir.path(), mb.Poster(), o);
  ASSERT_TRUE(st.ok());
  StoreWrite w;
  w.alerts = {Alert("old", 1), Alert("mid", 2), Alert("new", 3)};
  w.notifications = {Note("n-old", "a", 1), Note("n-new", "a", 2)};
  ASSERT_TRUE((*st)->Write(w, nullptr).ok());
  (*st)->Flush();
  auto snap = (*st)->LoadUnread();
  ASSERT_TRUE(snap.ok());
  ASSERT_THAT(snap->alerts, SizeIs(2));
  EXPECT_EQ(snap->alerts[0].id, "mid");  // oldest first among the newest two
  EXPECT_EQ(snap->alerts[1].id, "new");
  ASSERT_THAT(snap->notifications, SizeIs(1));
  EXPECT_EQ(snap->notifications[0].id, "n-new");
}

CommandAuditRecord Audit(int64_t ts, std::string result) {
  CommandAuditRecord a;
  a.ts_ms = ts;
  a.command_id = result == "forbidden" ? "" : "c" + std::to_string(ts);
  a.from = "alice";
  a.session = "s1";
  a.target = "pipeline/cam1";
  a.name = "set_threshold";
  a.args_json = R"({"value":0.7})";
  a.ok = result == "ok";
  a.result = std::move(result);
  a.message = "cam1 threshold 0.70";
  a.duration_ms = 3;
  return a;
}

TEST(AlertStoreTest, CommandAuditsAreAppendedInOrderAndSurviveReopen) {
  TempDir dir;
  Mailbox mb;
  {
    auto st = SqliteAlertStore::Open(dir.path(), mb.Poster());
    ASSERT_TRUE(st.ok());
    StoreWrite w1;
    w1.audits = {Audit(10, "ok"), Audit(20, "forbidden")};
    ASSERT_TRUE((*st)->Write(w1, nullptr).ok());
    StoreWrite w2;
    w2.audits = {Audit(30, "timeout")};
    ASSERT_TRUE((*st)->Write(w2, nullptr).ok());
    (*st)->Flush();
  }
  auto st = SqliteAlertStore::Open(dir.path(), mb.Poster());
  ASSERT_TRUE(st.ok());
  auto rows = (*st)->LoadAudit(10);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_THAT(*rows, SizeIs(3));
  EXPECT_EQ((*rows)[0].ts_ms, 10);
  EXPECT_EQ((*rows)[0].command_id, "c10");
  EXPECT_TRUE((*rows)[0].ok);
  EXPECT_EQ((*rows)[0].args_json, R"({"value":0.7})");
  EXPECT_EQ((*rows)[0].message, "cam1 threshold 0.70");
  EXPECT_EQ((*rows)[0].duration_ms, 3);
  EXPECT_EQ((*rows)[1].result, "forbidden");
  EXPECT_EQ((*rows)[1].command_id, "");  // stored as NULL
  EXPECT_FALSE((*rows)[1].ok);
  EXPECT_EQ((*rows)[2].result, "timeout");
  // A limit returns the newest rows, oldest first.
  auto last = (*st)->LoadAudit(2);
  ASSERT_TRUE(last.ok());
  ASSERT_THAT(*last, SizeIs(2));
  EXPECT_EQ((*last)[0].ts_ms, 20);
  EXPECT_EQ((*last)[1].ts_ms, 30);
}

TEST(AlertStoreTest, CommandAuditKeepsOnlyTheNewestRowsWithinItsBound) {
  TempDir dir;
  Mailbox mb;
  SqliteAlertStore::Options o;
  o.max_audit_rows = 3;
  auto st = SqliteAlertStore::Open(dir.path(), mb.Poster(), o);
  ASSERT_TRUE(st.ok());
  for (int64_t ts = 1; ts <= 5; ++ts) {
    StoreWrite w;
    w.audits = {Audit(ts, "ok")};
    ASSERT_TRUE((*st)->Write(w, nullptr).ok());
  }
  (*st)->Flush();
  auto rows = (*st)->LoadAudit(100);
  ASSERT_TRUE(rows.ok());
  ASSERT_THAT(*rows, SizeIs(3));
  EXPECT_EQ((*rows)[0].ts_ms, 3);
  EXPECT_EQ((*rows)[2].ts_ms, 5);
}

TEST(AlertStoreTest, UsesWalMode) {
  TempDir dir;
  Mailbox mb;
  {
    auto st = SqliteAlertStore::Open(dir.path(), mb.Poster());
    ASSERT_TRUE(st.ok());
    StoreWrite w;
    w.alerts = {Alert("a", 1)};
    ASSERT_TRUE((*st)->Write(w, nullptr).ok());
    (*st)->Flush();
    // In WAL mode the commit went to the -wal file first.
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/alerts.db-wal"));
  }
}

TEST(AlertStoreTest, AFullQueueRefusesInsteadOfBlocking) {
  TempDir dir;
  // The poster blocks the writer thread after its first commit until the test releases it, so the
  // queue fills deterministically.
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  std::vector<std::function<void()>> completions;
  SqliteAlertStore::Options o;
  o.max_queue = 1;
  auto st = SqliteAlertStore::Open(
      dir.path(),
      [&](std::function<void()> fn) {
        std::unique_lock<std::mutex> lock(mu);
        completions.push_back(std::move(fn));
        entered = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      },
      o);
  ASSERT_TRUE(st.ok());
  auto write = [&](const char* id) {
    StoreWrite w;
    w.alerts = {Alert(id, 1)};
    return (*st)->Write(w, nullptr);
  };
  ASSERT_TRUE(write("a").ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  EXPECT_TRUE(write("b").ok());  // waits in the queue
  Status full = write("c");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("queue is full"));
  EXPECT_EQ((*st)->stats().rejected, 1u);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  (*st)->Flush();
  EXPECT_EQ((*st)->stats().writes, 2u);
}

TEST(AlertStoreTest, OpenErrors) {
  TempDir dir;
  Mailbox mb;
  std::FILE* f = std::fopen((dir.path() + "/file").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto st = SqliteAlertStore::Open(dir.path() + "/file/sub", mb.Poster());
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.status().message(), HasSubstr("state directory"));
}

// Not a benchmark with a threshold: records what a Write() costs the event loop (a mutex and a
// queue append) next to what a commit costs the writer thread (SQLite + fsync), for the docs.
TEST(AlertStoreTest, MeasuresTheCostOnTheLoop) {
  TempDir dir;
  Mailbox mb;
  auto st = SqliteAlertStore::Open(dir.path(), mb.Poster());
  ASSERT_TRUE(st.ok());
  constexpr int kWrites = 500;
  int completed = 0;
  for (int i = 0; i < kWrites; ++i) {
    StoreWrite w;
    w.alerts = {Alert("a" + std::to_string(i), i)};
    w.notifications = {Note("n" + std::to_string(i), "alice", i)};
    ASSERT_TRUE((*st)->Write(w, [&](Status s) { completed += s.ok() ? 1 : 0; }).ok());
  }
  (*st)->Flush();
  mb.Drain();
  EXPECT_EQ(completed, kWrites);
  StoreStats s = (*st)->stats();
  std::printf(
      "store: %d writes in %llu transactions; Write() on the loop: avg %lld ns, max %lld "
      "ns; commit on the writer: avg %lld us, max %lld us\n",
      kWrites, static_cast<unsigned long long>(s.batches),
      static_cast<long long>(s.enqueue_ns_total / kWrites),
      static_cast<long long>(s.enqueue_ns_max),
      static_cast<long long>(s.commit_us_total / static_cast<int64_t>(s.batches)),
      static_cast<long long>(s.commit_us_max));
  RecordProperty("enqueue_ns_avg", std::to_string(s.enqueue_ns_total / kWrites));
  RecordProperty("commit_us_avg",
                 std::to_string(s.commit_us_total / static_cast<int64_t>(s.batches)));
}

}  // namespace
}  // namespace edgewatch::app::store
