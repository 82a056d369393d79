#include "lws_client.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace edgewatch::cli {

namespace {
void EmitLwsLine(int level, const char* line) {
  (void)level;
  std::fprintf(stderr, "edgewatch: lws: %s", line);
}
}  // namespace

struct lws_context* CreateClientContext(const struct lws_protocols* protocols, void* user,
                                        bool verbose) {
  lws_set_log_level(verbose ? (LLL_ERR | LLL_WARN | LLL_NOTICE) : 0, EmitLwsLine);
  struct lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.user = user;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.fd_limit_per_thread = 16;  // one connection, the signalfd, lws's own pipe
  return lws_create_context(&info);
}

Status WatchSignals(struct lws_context* context, const char* protocol) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return ErrnoToStatus(errno, "sigprocmask");
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, "signalfd");
  struct lws_vhost* vh = lws_get_vhost_by_name(context, "default");
  lws_sock_file_fd_type desc;
  desc.filefd = fd;
  if (vh == nullptr ||
      lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, desc, protocol, nullptr) == nullptr) {
    close(fd);
    return Internal("cannot adopt the signalfd into lws");
  }
  return OkStatus();
}

int ConsumeSignal(struct lws* wsi) {
  struct signalfd_siginfo si;
  ssize_t n = read(lws_get_socket_fd(wsi), &si, sizeof(si));
  return n == static_cast<ssize_t>(sizeof(si)) ? static_cast<int>(si.ssi_signo) : 0;
}

int ClientTlsFlags(bool tls, bool insecure) {
  if (!tls) return 0;
  int flags = LCCSCF_USE_SSL;
  if (insecure) {
    flags |=
        LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED;
  }
  return flags;
}

}  // namespace edgewatch::cli
