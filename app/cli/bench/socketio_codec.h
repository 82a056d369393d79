// The Engine.IO 4 / Socket.IO 5 text packets `edgewatch bench` needs to measure a Socket.IO
// server over its WebSocket transport (Flask-SocketIO in bench/peers.sh). Pure functions, no I/O.
//
// Over WebSocket each text message is one Engine.IO packet: a type digit, then data.
//   "0{...}" open (the server's first message), "1" close, "2" ping (the server pings in EIO 4;
//   the client answers "3" pong), "4..." a message carrying one Socket.IO packet: a type digit
//   ("0" connect, "1" disconnect, "2" event, "3" ack, "4" connect error), an optional
//   "/namespace," and JSON: "40" connects to "/", "42[\"name\",arg]" is an event.
// Binary attachments (Socket.IO "5"/"6") and long polling are not supported.
#pragma once

#include <string>
#include <string_view>

namespace edgewatch::cli::bench::socketio {

// The upgrade query of the WebSocket transport (no long-polling handshake first).
inline constexpr std::string_view kQuery = "?EIO=4&transport=websocket";
// Socket.IO CONNECT to the default namespace; Engine.IO pong.
inline constexpr std::string_view kConnect = "40";
inline constexpr std::string_view kPong = "3";

enum class Kind {
  kOpen,          // Engine.IO open: the handshake object
  kClose,         // Engine.IO close
  kPing,          // answer with kPong
  kPong,          //
  kNoop,          // Engine.IO noop / upgrade
  kConnected,     // Socket.IO CONNECT acknowledged (namespace joined)
  kConnectError,  // Socket.IO CONNECT_ERROR: `data` says why
  kDisconnect,    // Socket.IO DISCONNECT from the server
  kEvent,         // Socket.IO EVENT: `name` and `data` (the whole JSON array)
  kOther,         // ack, binary packets: not used by the bench
  kInvalid,       // not an Engine.IO packet
};

struct Packet {
  Kind kind = Kind::kInvalid;
  std::string_view name_space;  // "" for the default namespace "/"
  std::string_view name;        // kEvent: the event name (unescaped names only)
  std::string_view data;        // JSON after the type digits and namespace; views into the input
};

// Classifies one Engine.IO text message.
Packet Parse(std::string_view text);

// "42[\"name\",<json_arg>]": an event to the default namespace. `json_arg` is serialised JSON;
// `name` must need no escaping (letters, digits, '_', '-').
std::string Event(std::string_view name, std::string_view json_arg);
void AppendEvent(std::string* out, std::string_view name, std::string_view json_arg);

}  // namespace edgewatch::cli::bench::socketio
