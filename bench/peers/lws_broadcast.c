/*
 * lws_broadcast: the minimal libwebsockets broadcast server, as a benchmark peer (not part of
 * edgewatch). It is the canonical pattern of lws's own minimal examples (minimal-ws-server-ring):
 * one lws_ring of messages shared by every client, a tail per client, and
 * lws_callback_on_writable_all_protocol() after each insert; each SERVER_WRITEABLE writes one
 * message with one lws_write() and asks for another callback while the client's tail is behind.
 * The one liberty taken: consumed messages are garbage-collected lazily (the oldest tail is
 * recomputed when the ring is over half full, or when a client leaves) instead of by the
 * examples' lws_ring_consume_and_update_oldest_tail(), which rescans every client on each
 * consume while the clients move in step: O(N) per delivery, 10 us per delivery at 1000 clients
 * on the bench machine. `--gc scan` restores the examples' macro to measure that.
 *
 * A WebSocket connection whose path is /pub is the publisher: every message it sends (text or
 * binary, reassembled when fragmented) is broadcast to every other client. Anything else is a
 * subscriber, whatever its path; what subscribers send is ignored. No authentication.
 *
 *   lws_broadcast [--port N (default 9001; 0: ephemeral)] [--host ADDR (default 127.0.0.1)]
 *                 [--ring N (messages, default 4096)] [--gc lazy|scan (default lazy)]
 *
 * When listening it prints one line {"port":N,"pid":N} on stdout. SIGINT/SIGTERM stop it. When
 * the ring is full the new message is dropped and counted (reported on stderr at exit); the
 * bench's bounded window keeps it from filling.
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct msg {
  void *payload; /* LWS_PRE bytes of headroom, then the message */
  size_t len;
  int binary;
};

struct pss {
  struct pss *pss_list;
  struct lws *wsi;
  uint32_t tail;
  int publisher;
  unsigned char *rx; /* the publisher's message being reassembled */
  size_t rx_len, rx_cap;
};

struct vhd {
  struct lws_ring *ring;
  struct pss *pss_list; /* subscribers only */
};

static volatile sig_atomic_t interrupted;
static unsigned int ring_size = 4096;
static unsigned long dropped;
static int gc_scan; /* 1: lws_ring_consume_and_update_oldest_tail() on every consume */

static void destroy_message(void *m) {
  struct msg *msg = m;
  free(msg->payload);
  msg->payload = NULL;
  msg->len = 0;
}

static int is_publisher(struct lws *wsi) {
  char uri[64];
  if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0) return 0;
  return strcmp(uri, "/pub") == 0;
}

/* Frees every message all clients have consumed: one pass over the clients. */
static void collect(struct vhd *vhd) {
  uint32_t oldest = 0;
  size_t most = 0;
  int any = 0;
  lws_start_foreach_llp(struct pss **, ppss, vhd->pss_list) {
    size_t waiting = lws_ring_get_count_waiting_elements(vhd->ring, &(*ppss)->tail);
    if (!any || waiting > most) {
      most = waiting;
      oldest = (*ppss)->tail;
      any = 1;
    }
  }
  lws_end_foreach_llp(ppss, pss_list);
  if (!any) { /* no subscriber: everything can go */
    oldest = lws_ring_get_oldest_tail(vhd->ring);
    lws_ring_consume(vhd->ring, &oldest, NULL, lws_ring_get_count_waiting_elements(vhd->ring, &oldest));
  }
  lws_ring_update_oldest_tail(vhd->ring, oldest);
}

static int broadcast(struct lws *wsi, struct vhd *vhd, const void *in, size_t len, int binary) {
  struct msg amsg;
  if (!gc_scan && lws_ring_get_count_free_elements(vhd->ring) < ring_size / 2) collect(vhd);
  if (!lws_ring_get_count_free_elements(vhd->ring)) {
    dropped++;
    return 0;
  }
  amsg.len = len;
  amsg.binary = binary;
  amsg.payload = malloc(LWS_PRE + len);
  if (!amsg.payload) return -1;
  memcpy((char *)amsg.payload + LWS_PRE, in, len);
  if (!lws_ring_insert(vhd->ring, &amsg, 1)) {
    destroy_message(&amsg);
    dropped++;
    return 0;
  }
  lws_callback_on_writable_all_protocol(lws_get_context(wsi), lws_get_protocol(wsi));
  return 0;
}

static int callback_broadcast(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                              void *in, size_t len) {
  struct pss *pss = (struct pss *)user;
  struct vhd *vhd =
      (struct vhd *)lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));
  const struct msg *pmsg;
  int m;

  switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
      vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi),
                                        sizeof(struct vhd));
      if (!vhd) return -1;
      vhd->ring = lws_ring_create(sizeof(struct msg), ring_size, destroy_message);
      if (!vhd->ring) return 1;
      break;

    case LWS_CALLBACK_PROTOCOL_DESTROY:
      if (vhd && vhd->ring) lws_ring_destroy(vhd->ring);
      break;

    case LWS_CALLBACK_ESTABLISHED:
      pss->wsi = wsi;
      pss->publisher = is_publisher(wsi);
      if (pss->publisher) break;
      lws_ll_fwd_insert(pss, pss_list, vhd->pss_list);
      pss->tail = lws_ring_get_oldest_tail(vhd->ring);
      /* Lazy GC keeps consumed messages around: a new client starts at the newest. */
      if (!gc_scan)
        lws_ring_consume(vhd->ring, &pss->tail, NULL,
                         lws_ring_get_count_waiting_elements(vhd->ring, &pss->tail));
      break;

    case LWS_CALLBACK_CLOSED:
      if (pss->publisher) {
        free(pss->rx);
        pss->rx = NULL;
        break;
      }
      lws_ll_fwd_remove(struct pss, pss_list, pss, vhd->pss_list);
      if (!gc_scan) collect(vhd);
      break;

    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (pss->publisher) break;
      pmsg = lws_ring_get_element(vhd->ring, &pss->tail);
      if (!pmsg) break;
      m = lws_write(wsi, ((unsigned char *)pmsg->payload) + LWS_PRE, pmsg->len,
                    pmsg->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
      if (m < (int)pmsg->len) return -1;
      if (gc_scan) {
        lws_ring_consume_and_update_oldest_tail(vhd->ring, struct pss, &pss->tail, 1,
                                                vhd->pss_list, tail, pss_list);
      } else {
        lws_ring_consume(vhd->ring, &pss->tail, NULL, 1);
      }
      if (lws_ring_get_element(vhd->ring, &pss->tail)) lws_callback_on_writable(pss->wsi);
      break;

    case LWS_CALLBACK_RECEIVE: {
      if (!pss->publisher) break;
      int binary = lws_frame_is_binary(wsi);
      int final = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
      if (final && pss->rx_len == 0) return broadcast(wsi, vhd, in, len, binary);
      if (pss->rx_len + len > pss->rx_cap) {
        size_t cap = (pss->rx_len + len) * 2;
        unsigned char *p = realloc(pss->rx, cap);
        if (!p) return -1;
        pss->rx = p;
        pss->rx_cap = cap;
      }
      memcpy(pss->rx + pss->rx_len, in, len);
      pss->rx_len += len;
      if (!final) break;
      m = broadcast(wsi, vhd, pss->rx, pss->rx_len, binary);
      pss->rx_len = 0;
      return m;
    }

    default:
      break;
  }
  return 0;
}

static struct lws_protocols protocols[] = {
    {"broadcast", callback_broadcast, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void sigint_handler(int sig) {
  (void)sig;
  interrupted = 1;
}

int main(int argc, const char **argv) {
  struct lws_context_creation_info info;
  struct lws_context *context;
  const char *p;
  const char *host = "127.0.0.1";
  int port = 9001, n = 0;

  if ((p = lws_cmdline_option(argc, argv, "--port"))) port = atoi(p);
  if ((p = lws_cmdline_option(argc, argv, "--host"))) host = p;
  if ((p = lws_cmdline_option(argc, argv, "--ring"))) ring_size = (unsigned int)atoi(p);
  if (ring_size < 4) ring_size = 4;
  if ((p = lws_cmdline_option(argc, argv, "--gc"))) gc_scan = !strcmp(p, "scan");

  signal(SIGINT, sigint_handler);
  signal(SIGTERM, sigint_handler);
  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);

  memset(&info, 0, sizeof(info));
  info.port = port;
  info.iface = host;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  info.gid = -1;
  info.uid = -1;

  context = lws_create_context(&info);
  if (!context) {
    fprintf(stderr, "lws_broadcast: lws init failed (port %d in use?)\n", port);
    return 1;
  }
  struct lws_vhost *vh = lws_get_vhost_by_name(context, "default");
  printf("{\"port\":%d,\"pid\":%d}\n", vh ? lws_get_vhost_listen_port(vh) : port, (int)getpid());
  fflush(stdout);

  while (n >= 0 && !interrupted) n = lws_service(context, 0);

  lws_context_destroy(context);
  if (dropped) fprintf(stderr, "lws_broadcast: %lu messages dropped (ring full)\n", dropped);
  return 0;
}
