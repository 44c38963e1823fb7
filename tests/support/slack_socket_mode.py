"""Slack's Socket Mode side, on loopback: the WebSocket that `apps.connections.open` hands out.

The bot (slack_sdk's built-in Socket Mode client) connects here; a test then sends envelopes as
Slack does (`hello`, then `slash_commands`, `events_api`, `interactive`) and reads the bot's
acknowledgements. Only what the protocol needs: the RFC 6455 handshake, text/ping/pong/close
frames, client frames masked and server frames not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class SocketModeStandIn:
    def __init__(self, app_id: str = "A0INCIDENT"):
        self.app_id = app_id
        self._server = socket.create_server(("127.0.0.1", 0))
        self._client: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._acks: dict[str, dict] = {}
        self._received = threading.Condition()
        self.connections = 0
        threading.Thread(target=self._accept, name="socket-mode-standin", daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link/?ticket={uuid.uuid4()}"

    def close(self) -> None:
        self._server.close()
        if self._client is not None:
            self._client.close()

    # --- what a test does ----------------------------------------------------------------------

    def wait_connected(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._received:
            while self._client is None:
                if not self._received.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError("the bot never opened the Socket Mode connection")

    def send(self, envelope_type: str, payload: dict, *, accepts_response_payload: bool) -> str:
        """Deliver an envelope as Slack does; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": envelope_type,
                    "accepts_response_payload": accepts_response_payload}
        if envelope_type == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        self._send_frame(TEXT, json.dumps(envelope).encode())
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10.0) -> dict:
        """The bot's acknowledgement of an envelope: {"envelope_id": …, "payload"?: …}."""
        deadline = time.monotonic() + timeout
        with self._received:
            while envelope_id not in self._acks:
                if not self._received.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"no acknowledgement of envelope {envelope_id}")
            return self._acks[envelope_id]

    # --- the protocol ------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                request += chunk
            headers = dict(line.split(": ", 1) for line in request.decode("latin-1").split("\r\n")[1:] if ": " in line)
            key = {k.lower(): v for k, v in headers.items()}.get("sec-websocket-key", "")
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            connection.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            with self._received:
                self._client = connection
                self.connections += 1
                self._received.notify_all()
            hello = {"type": "hello", "num_connections": 1, "debug_info": {"host": "applink-standin", "approximate_connection_time": 18060},
                     "connection_info": {"app_id": self.app_id}}
            self._send_frame(TEXT, json.dumps(hello).encode())
            threading.Thread(target=self._read, args=(connection,), name="socket-mode-reader", daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        stream = connection.makefile("rb")
        try:
            while True:
                head = stream.read(2)
                if len(head) < 2:
                    return
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = struct.unpack("!H", stream.read(2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", stream.read(8))[0]
                mask = stream.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(stream.read(length)))
                if opcode == PING:
                    self._send_frame(PONG, data)
                elif opcode == CLOSE:
                    return
                elif opcode == TEXT:
                    message = json.loads(data)
                    with self._received:
                        self._acks[message.get("envelope_id", "")] = message
                        self._received.notify_all()
        except (OSError, ValueError):
            return

    def _send_frame(self, opcode: int, data: bytes) -> None:
        header = bytes([0x80 | opcode])
        if len(data) < 126:
            header += bytes([len(data)])
        elif len(data) < 65536:
            header += bytes([126]) + struct.pack("!H", len(data))
        else:
            header += bytes([127]) + struct.pack("!Q", len(data))
        with self._send_lock:
            assert self._client is not None
            self._client.sendall(header + data)
