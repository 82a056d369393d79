// IngestServer: the producers' Unix socket, adopted into the lws loop (private to net/).
//
// Accepts SOCK_STREAM connections, splits newline-delimited JSON, hands each line to
// Gateway::Submit and answers each rejected line with one JSON error line on the same
// connection; "register" and "result" lines go to the CommandRouter, which writes "command"
// lines back (docs/protocol.md, "Commands"). A producer that half-closes (EOF) gets its pending
// replies and is then closed; one that vanishes mid-line loses only that partial line. Loop thread
// only.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>

#include "command_router.h"
#include "edgewatch/base/status.h"
#include "raw_handler.h"

namespace edgewatch::fw {

class Gateway;
class IngestConnection;

class IngestServer final : public RawHandler {
 public:
  explicit IngestServer(Gateway& gw);
  ~IngestServer() override;

  // Creates the socket at `path` (parent directories 0755, or 0700 under /tmp; a stale socket
  // file is replaced; a live one is AlreadyExists) with `mode` (0..0777) and, when `group` is not
  // empty, owned by that group, and adopts it. The group is looked up before anything is created:
  // NotFound when it does not exist; PermissionDenied when this process may not give the socket
  // to it (neither root nor a member). Producers can connect only once owner and mode are set.
  Status Listen(const std::string& path, int mode, const std::string& group = {});
  // Stops accepting (at shutdown); existing producers are closed by the context teardown.
  void StopListening();

  int OnReadable(lws* wsi) override;
  void OnClosed(lws* wsi) override;

  // Called by connections.
  void Forget(IngestConnection* c);
  Gateway& gateway() { return gw_; }
  CommandRouter& commands() { return commands_; }
  char* read_buffer() { return read_buf_.get(); }
  static constexpr size_t kReadBufferSize = 64 * 1024;

 private:
  Gateway& gw_;
  CommandRouter commands_;  // registers the "command" op
  std::string path_;
  int listen_fd_ = -1;
  lws* listen_wsi_ = nullptr;
  std::unordered_set<IngestConnection*> conns_;
  std::unique_ptr<char[]> read_buf_;
};

}  // namespace edgewatch::fw
