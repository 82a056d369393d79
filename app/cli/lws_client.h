// Shared lws plumbing for the CLI's network commands: one client-only context per command run,
// served by the command's own loop on the main thread.
#pragma once

#include <libwebsockets.h>

#include "edgewatch/base/status.h"

namespace edgewatch::cli {

// Creates a context with no listener, `protocols` (terminated by an all-zero entry) and `user` as
// the context user pointer (lws_context_user()). TLS is initialised so wss:// and https:// work.
// lws's own log lines go to stderr only when `verbose`. nullptr on failure.
struct lws_context* CreateClientContext(const struct lws_protocols* protocols, void* user,
                                        bool verbose);

// Blocks SIGINT and SIGTERM for the process and adopts a signalfd for them into `context`'s
// default vhost, bound to the protocol named `protocol`: its callback receives
// LWS_CALLBACK_RAW_RX_FILE when a signal is pending, and should call ConsumeSignal(wsi).
// Signals thus arrive in the service loop like any other event (no async handler).
Status WatchSignals(struct lws_context* context, const char* protocol);

// Reads one pending signal from the adopted signalfd; returns its number, or 0.
int ConsumeSignal(struct lws* wsi);

// Sets `ssl_connection` flags for a URL: TLS when `tls`; with `insecure`, self-signed, expired and
// wrong-host certificates are accepted.
int ClientTlsFlags(bool tls, bool insecure);

}  // namespace edgewatch::cli
