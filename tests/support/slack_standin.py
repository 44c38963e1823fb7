"""A local stand-in for Slack's Web API, served over HTTP on loopback.

The bot's real `slack_sdk.WebClient` talks to it through `base_url`, so every
request goes over the wire exactly as it would to slack.com: form-encoded or
JSON bodies, a bearer token, Slack's `{"ok": ...}` answers and its refusals.
Tests set up the workspace (people, channels, messages) directly and read back
what the bot did (messages, files, calls, response_url posts).

Only the methods the bot is known to use are implemented; any other method
answers `unknown_method`, so a new call in the bot is noticed rather than
silently faked.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import secrets
import threading
import time
import unicodedata
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

BOT_USER_ID = "UBOT"
BOT_ID = "B0BOT"
APP_ID = "A0APP"
TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "t0team"
GENERAL_CHANNEL_ID = "C0GENERAL"

# Slack's documented limits.
MAX_MESSAGE_TEXT = 40_000  # chat.postMessage truncates beyond this; chat.update/postEphemeral refuse
MAX_CHANNEL_NAME = 80
MAX_TOPIC = 250
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_BYTES = 250_000  # views.publish: view_too_large beyond 250 kB
CANVAS_OPERATIONS = ("insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace", "delete", "rename")
TRIGGER_TTL_SECONDS = 3.0  # a trigger_id expires after 3 seconds and works once
RESPONSE_URL_USES = 5  # a response_url works up to five times (within 30 minutes)

# Arguments that slack_sdk sends as JSON text inside form bodies.
_JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata", "document_content", "changes")
_MESSAGE_BLOCK_TYPES = {
    "actions", "context", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "table", "video", "call", "context_actions",
}
_VIEW_BLOCK_TYPES = _MESSAGE_BLOCK_TYPES - {"file", "table", "call"}


class SlackError(Exception):
    """A Slack refusal: becomes `{"ok": false, "error": error, **extra}`."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Call:
    """One Web API request the stand-in answered."""

    method: str
    args: dict
    response: dict
    status: int = 200
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


# fail_next(method, status=DROP_CONNECTION): the connection closes with no answer at all.
DROP_CONNECTION = 0


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None


_API: dict[str, tuple[Callable, dict[str, str]]] = {}
_APP_TOKEN_METHODS = ("apps.connections.open",)
_IDS = itertools.count(1)


def _api(method: str, required: dict[str, str] | None = None):
    """Register a handler for `method`; `required` maps each required argument to the error Slack gives without it."""

    def register(handler: Callable) -> Callable:
        _API[method] = (handler, required or {})
        return handler

    return register


class SlackStandIn:
    """A small Slack workspace (team T0TEAM, bot UBOT/B0BOT) behind a real HTTP Web API."""

    def __init__(self, token: str, host: str = "127.0.0.1", app_token: str | None = None):
        self.token = token
        # Socket Mode: the app-level token and the WebSocket apps.connections.open hands out
        # (tests/support/slack_socket_mode.py); set both to let the bot connect.
        self.app_token = app_token
        self.socket_mode = None
        self.trigger_ttl = TRIGGER_TTL_SECONDS
        self._host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        # Shared by every stand-in in the process: Slack's ids are unique, and the bot's
        # process-wide caches (membership) must never see one channel id in two workspaces.
        self._ids = _IDS
        self._last_ts_us = 0
        self._users: dict[str, dict] = {}
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, list[dict]] = {}
        self._dms: dict[str, str] = {}  # user id -> D channel id
        self._ephemerals: list[dict] = []
        self._views: dict[str, dict] = {}
        self._view_users: dict[str, str | None] = {}  # view id -> the person it was opened for
        self._home_views: dict[str, dict] = {}
        self._canvases: dict[str, dict] = {}  # canvas (file) id -> title, markdown, channel, who edited
        # Workspace settings a test can change: the Home tab on, canvases on, a paid plan.
        self.home_tab_enabled = True
        self.canvases_enabled = True
        self.free_plan = False
        # Some workspaces refuse channel names outside ASCII (accented letters, less common scripts)
        # with invalid_name_specials; Slack itself takes lowercase letters of any script.
        self.ascii_channel_names_only = False
        self._triggers: dict[str, dict] = {}
        self._uploads: dict[str, dict] = {}  # file id -> pending or completed upload
        self._files: list[dict] = []
        self._response_urls: dict[str, dict] = {}
        self._responses: list[dict] = []
        self._calls: list[Call] = []
        self._fail_next: dict[str, deque[_Failure]] = {}
        self._fail_always: dict[str, _Failure] = {}
        self._late: dict[str, deque[float]] = {}
        self._add_bot_user()
        self._channels[GENERAL_CHANNEL_ID] = self._new_channel(GENERAL_CHANNEL_ID, "general", False, "U0ADMIN", [])
        self._channels[GENERAL_CHANNEL_ID]["is_general"] = True
        self._messages[GENERAL_CHANNEL_ID] = []

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "SlackStandIn":
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer((self._host, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "SlackStandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        return f"http://{self._host}:{self._server.server_port}/"

    @property
    def base_url(self) -> str:
        return self.root_url + "api/"

    # --- the workspace, as tests set it up and read it back --------------------------------

    def add_user(self, user_id: str, name: str, real_name: str, tz: str = "UTC", display_name: str = "",
                 locale: str | None = None) -> dict:
        """A person in the workspace; everyone is in #general, as in Slack. `locale` (e.g. `ko-KR`) is the
        language they chose in Slack, which users.info tells only when asked with include_locale."""
        with self._lock:
            self._users[user_id] = _user(user_id, name, real_name, tz, display_name)
            if locale is not None:
                self._users[user_id]["locale"] = locale
            general = self._channels[GENERAL_CHANNEL_ID]["members"]
            if user_id not in general:
                general.append(user_id)
            return copy.deepcopy(self._users[user_id])

    def user(self, user_id: str) -> dict:
        """The user object users.info returns with include_locale (KeyError for someone not in the workspace)."""
        with self._lock:
            return copy.deepcopy(self._users[user_id])

    def create_channel(self, name: str, members: Iterable[str] = (), is_private: bool = False,
                       creator: str | None = None, channel_id: str | None = None) -> str:
        """A channel a person made, outside the bot. The bot is a member only if "UBOT" is listed.

        `channel_id` gives it a known id (e.g. the one a workspace export names)."""
        with self._lock:
            problem = _channel_name_problem(name)
            if problem or self._channel_named(name):
                raise ValueError(f"cannot create #{name}: {problem or 'name_taken'}")
            if channel_id is not None and channel_id in self._channels:
                raise ValueError(f"cannot create #{name}: {channel_id} exists")
            members = list(dict.fromkeys(members))
            for user in members:
                self._require_user(user)
            creator = creator or next((m for m in members if m != BOT_USER_ID), "U0ADMIN")
            channel_id = channel_id or self._new_id("C")
            self._channels[channel_id] = self._new_channel(channel_id, name, is_private, creator, members)
            self._messages[channel_id] = []
            return channel_id

    def channel_ids(self) -> list[str]:
        with self._lock:
            return list(self._channels)

    def channel(self, channel_id: str) -> dict:
        """The channel object plus `members` (a list of user ids)."""
        with self._lock:
            return copy.deepcopy(self._channels[self._resolve(channel_id)])

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's direct-message channel with `user_id` (opened if need be)."""
        with self._lock:
            return self._open_dm(user_id)

    def messages(self, channel_id: str) -> list[dict]:
        """Every message in the channel, thread replies included, oldest first. A user id means the DM with them.

        Each carries `channel` for convenience (Slack's history omits it).
        """
        with self._lock:
            channel_id = self._resolve(channel_id)
            return [_with_channel(m, channel_id) for m in self._messages[channel_id]]

    def message(self, channel_id: str, ts: str) -> dict | None:
        with self._lock:
            channel_id = self._resolve(channel_id)
            found = self._find_message(channel_id, ts)
            return _with_channel(found, channel_id) if found else None

    def ephemerals(self, channel_id: str | None = None, user_id: str | None = None) -> list[dict]:
        """Ephemeral messages the bot showed (chat.postEphemeral), each with `channel` and `user`."""
        with self._lock:
            return [
                copy.deepcopy(e) for e in self._ephemerals
                if channel_id in (None, e["channel"]) and user_id in (None, e["user"])
            ]

    def post_human_message(self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None,
                           ts: str | None = None) -> dict:
        """A person posts `text` (in Slack's wire format: `<@U…>`, `<!here>`, `&amp;`). Returns the stored message.

        `ts` stamps it at an earlier time (a story told after the fact, tests/support/example_postmortem.py).

        Posting in a public channel joins it, as Slack's "Join channel" does; a private one needs membership.
        """
        with self._lock:
            channel_id = self._resolve(channel_id)
            channel = self._channels[channel_id]
            self._require_user(user_id)
            if user_id not in channel["members"]:
                if channel["is_private"] or channel["is_im"]:
                    raise ValueError(f"{user_id} is not in private channel {channel_id}")
                channel["members"].append(user_id)
            message = {
                "client_msg_id": str(uuid.uuid4()),
                "type": "message",
                "text": text,
                "user": user_id,
                "ts": ts or self._next_ts(),
                "blocks": rich_text_blocks(text),
                "team": TEAM_ID,
            }
            if thread_ts is not None and self._thread_parent(channel_id, thread_ts) is None:
                raise ValueError(f"no message {thread_ts} in {channel_id} to reply to")
            self._append(channel_id, message, thread_ts)
            return _with_channel(message, channel_id)

    def post_other_bot_message(self, channel_id: str, text: str, bot_id: str = "B0OTHER",
                               username: str = "deploy-bot") -> dict:
        """A message from another integration (subtype bot_message: `bot_id`, `username`, no `user`)."""
        with self._lock:
            channel_id = self._resolve(channel_id)
            message = {"type": "message", "subtype": "bot_message", "text": text, "ts": self._next_ts(),
                       "bot_id": bot_id, "username": username}
            self._messages[channel_id].append(message)
            return copy.deepcopy(message)

    def edit_message(self, channel_id: str, ts: str, new_text: str, user_id: str) -> tuple[dict | None, dict | None]:
        """A person edits their message. Returns copies (previous, current), or (None, None) for no such message."""
        with self._lock:
            message = self._find_message(self._resolve(channel_id), ts)
            if message is None:
                return None, None
            previous = copy.deepcopy(message)
            message["text"] = new_text
            message["blocks"] = rich_text_blocks(new_text)
            message["edited"] = {"user": user_id, "ts": self._next_ts()}
            return previous, copy.deepcopy(message)

    def delete_message(self, channel_id: str, ts: str) -> dict | None:
        """Remove a message; returns what it was (None if unknown)."""
        with self._lock:
            channel_id = self._resolve(channel_id)
            message = self._find_message(channel_id, ts)
            if message is None:
                return None
            self._messages[channel_id].remove(message)
            if message.get("thread_ts") and message["thread_ts"] != ts:
                self._refresh_thread(channel_id, message["thread_ts"])
            return copy.deepcopy(message)

    def add_member(self, channel_id: str, user_id: str, inviter: str | None = None) -> dict | None:
        """A person joins; Slack posts a channel_join message, which is returned (None if already a member)."""
        with self._lock:
            channel_id = self._resolve(channel_id)
            return self._join(channel_id, user_id, inviter)

    def add_reaction(self, channel_id: str, ts: str, name: str, user_id: str) -> dict | None:
        with self._lock:
            message = self._find_message(self._resolve(channel_id), ts)
            if message is None:
                return None
            reactions = message.setdefault("reactions", [])
            reaction = next((r for r in reactions if r["name"] == name), None)
            if reaction is None:
                reaction = {"name": name, "users": [], "count": 0}
                reactions.append(reaction)
            if user_id not in reaction["users"]:
                reaction["users"].append(user_id)
                reaction["count"] = len(reaction["users"])
            return copy.deepcopy(message)

    def remove_reaction(self, channel_id: str, ts: str, name: str, user_id: str) -> dict | None:
        with self._lock:
            message = self._find_message(self._resolve(channel_id), ts)
            if message is None:
                return None
            reactions = message.get("reactions", [])
            for reaction in reactions:
                if reaction["name"] == name and user_id in reaction["users"]:
                    reaction["users"].remove(user_id)
                    reaction["count"] = len(reaction["users"])
            message["reactions"] = [r for r in reactions if r["count"]]
            if not message["reactions"]:
                del message["reactions"]
            return copy.deepcopy(message)

    def files(self) -> list[dict]:
        """Completed uploads: `id`, `name`, `title`, `content` (bytes), `channels`, `initial_comment`, `thread_ts`."""
        with self._lock:
            return copy.deepcopy(self._files)

    def views(self) -> list[dict]:
        """Every modal the bot opened, pushed or updated (latest state), oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._views.values()))

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._views.get(view_id))

    def find_view(self, callback_id: str, user_id: str | None = None) -> dict | None:
        """The latest modal with `callback_id` (opened for `user_id`, when given)."""
        with self._lock:
            for view_id, view in reversed(self._views.items()):
                if view.get("callback_id") == callback_id and user_id in (None, self._view_users.get(view_id)):
                    return copy.deepcopy(view)
            return None

    def home_view(self, user_id: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._home_views.get(user_id))

    # --- canvases --------------------------------------------------------------------------------

    def canvases(self) -> list[dict]:
        """Every canvas, oldest first: `id`, `title`, `markdown`, `channel_id` (tabbed in), `is_channel_canvas`,
        `created_by`, `edits` (who changed it and how)."""
        with self._lock:
            return copy.deepcopy(list(self._canvases.values()))

    def canvas(self, canvas_id: str) -> dict | None:
        with self._lock:
            return copy.deepcopy(self._canvases.get(canvas_id))

    def channel_canvas(self, channel_id: str) -> dict | None:
        """The channel's own canvas (conversations.canvases.create), if it has one."""
        with self._lock:
            file_id = self._channels[channel_id].get("properties", {}).get("canvas", {}).get("file_id")
            return copy.deepcopy(self._canvases.get(file_id)) if file_id else None

    def add_channel_canvas(self, channel_id: str, user_id: str, markdown: str = "") -> str:
        """A person made the channel's canvas in Slack (before the bot could)."""
        with self._lock:
            self._require_user(user_id)
            return self._new_canvas("", markdown, channel_id, channel_canvas=True, by=user_id)["id"]

    def edit_canvas(self, canvas_id: str, user_id: str, markdown: str) -> None:
        """A person rewrites a canvas in Slack."""
        with self._lock:
            canvas = self._canvases[canvas_id]
            canvas["markdown"] = markdown
            canvas["edits"].append({"user": user_id, "operation": "typed"})

    def delete_canvas(self, canvas_id: str) -> None:
        """A person deletes a canvas (a deleted channel canvas leaves the channel without one)."""
        with self._lock:
            canvas = self._canvases.pop(canvas_id)
            if canvas["is_channel_canvas"]:
                self._channels[canvas["channel_id"]].pop("properties", None)

    # --- what Slack hands the bot: trigger ids, response URLs, timestamps ----------------------

    def next_ts(self) -> str:
        """A fresh Slack timestamp: now, unique and strictly increasing across everything here."""
        with self._lock:
            return self._next_ts()

    def new_trigger_id(self, user_id: str | None = None) -> str:
        with self._lock:
            trigger_id = f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
            self._triggers[trigger_id] = {"issued": time.monotonic(), "user": user_id, "used": False}
            return trigger_id

    def new_response_url(self, channel_id: str | None = None, user_id: str | None = None,
                         message_ts: str | None = None) -> str:
        """A response_url like a slash command's or a button's; what is POSTed to it shows up in `responses()`."""
        with self._lock:
            url_id = secrets.token_hex(12)
            self._response_urls[url_id] = {"channel": channel_id, "user": user_id, "message_ts": message_ts, "uses": 0}
            return f"{self.root_url}response/{url_id}"

    response_url = new_response_url

    def responses(self) -> list[dict]:
        """JSON bodies POSTed to response URLs, oldest first; each also carries the URL under `_url`."""
        with self._lock:
            return copy.deepcopy(self._responses)

    # --- making Slack fail ------------------------------------------------------------------

    def fail_next(self, method: str, error: str = "internal_error", status: int = 200,
                  retry_after: int | None = None):
        """The next call of `method` fails. Status 429 answers `ratelimited` with Retry-After; 5xx is an HTTP error.

        Call it again to queue more failures.
        """
        with self._lock:
            self._fail_next.setdefault(method, deque()).append(_Failure(error, status, retry_after))

    def fail_always(self, method: str, error: str = "internal_error", status: int = 200,
                    retry_after: int | None = None):
        with self._lock:
            self._fail_always[method] = _Failure(error, status, retry_after)

    def answer_late(self, method: str, seconds: float) -> None:
        """The next call of `method` is carried out, but its answer comes `seconds` late, as when
        Slack acts and the network stalls: a client with a shorter timeout gives up on it."""
        with self._lock:
            self._late.setdefault(method, deque()).append(seconds)

    def take_delay(self, method: str) -> float:
        with self._lock:
            queued = self._late.get(method)
            return queued.popleft() if queued else 0.0

    def clear_failures(self) -> None:
        with self._lock:
            self._fail_next.clear()
            self._fail_always.clear()
            self._late.clear()

    # --- the call log ----------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if method in (None, c.method)]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for(self, method: str, predicate: Callable[[Call], bool] | None = None,
                 timeout: float = 10.0) -> list[Call]:
        """Wait until a call of `method` (matching `predicate`) has been made; return all such calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if predicate is None or predicate(c)]
            if found:
                return found
            if time.monotonic() > deadline:
                made = [c.method for c in self.calls()]
                raise AssertionError(f"no matching {method} call within {timeout}s; calls made: {made}")
            time.sleep(0.02)

    # --- HTTP entry points (called by the request handler) ----------------------------------

    def handle_api(self, method: str, args: dict, bearer: str | None, is_json: bool) -> tuple[int, dict, dict]:
        """Answer one Web API request: (HTTP status, extra headers, JSON body)."""
        with self._lock:
            # JSON bodies must carry the token as a bearer header; forms may also send it as an argument.
            token = bearer if bearer is not None or is_json else args.get("token")
            args = _decode_json_args({k: v for k, v in args.items() if k != "token"})
            status, headers, body = self._answer(method, args, token)
            self._calls.append(Call(method, copy.deepcopy(args), copy.deepcopy(body), status))
            return status, headers, body

    def handle_upload(self, file_id: str, content: bytes) -> tuple[int, str]:
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None or upload["completed"]:
                return 404, "Not Found"
            upload["content"] = content
            return 200, f"OK - {len(content)}"

    def handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, str]:
        with self._lock:
            target = self._response_urls.get(url_id)
            if target is None:
                return 404, "no_service"
            if target["uses"] >= RESPONSE_URL_USES:
                return 404, "used_url"
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                return 400, "invalid_payload"
            if not isinstance(body, dict) or not any(body.get(k) for k in ("text", "blocks", "delete_original")):
                return 400, "no_text"
            try:
                self._apply_response(target, body)
            except SlackError as refusal:
                return 400, refusal.error
            target["uses"] += 1
            self._responses.append({**copy.deepcopy(body), "_url": url_id})
            return 200, "ok"

    # --- dispatch ----------------------------------------------------------------------------

    def _answer(self, method: str, args: dict, token: str | None) -> tuple[int, dict, dict]:
        if method not in _API:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        # Socket Mode's method takes only the app-level token, every other method only the bot token.
        wants_app_token = method in _APP_TOKEN_METHODS
        if self.app_token is not None and token == (self.token if wants_app_token else self.app_token):
            return 200, {}, {"ok": False, "error": "not_allowed_token_type"}
        if token != (self.app_token if wants_app_token else self.token):
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        failure = self._take_failure(method)
        if failure is not None:
            return _failure_answer(failure)
        handler, required = _API[method]
        try:
            for name, error in required.items():
                if args.get(name) in (None, ""):
                    raise SlackError(error, response_metadata={"messages": [f"[ERROR] missing required field: {name}"]})
            return 200, {}, {"ok": True, **handler(self, args)}
        except SlackError as refusal:
            return 200, {}, {"ok": False, "error": refusal.error, **refusal.extra}

    def _take_failure(self, method: str) -> _Failure | None:
        queued = self._fail_next.get(method)
        if queued:
            return queued.popleft()
        return self._fail_always.get(method)

    # --- Web API methods ---------------------------------------------------------------------

    @_api("apps.connections.open")
    def _apps_connections_open(self, args: dict) -> dict:
        if self.socket_mode is None:
            raise SlackError("not_allowed", detail="Socket Mode is not enabled for this app")
        return {"url": self.socket_mode.url}

    @_api("auth.test")
    def _auth_test(self, args: dict) -> dict:
        return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": "Test Team", "user": "incidentbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    @_api("conversations.create", required={"name": "invalid_name_required"})
    def _conversations_create(self, args: dict) -> dict:
        name = str(args["name"])
        problem = _channel_name_problem(name, ascii_only=self.ascii_channel_names_only)
        if problem:
            raise SlackError(problem)
        if self._channel_named(name):
            raise SlackError("name_taken")
        channel_id = self._new_id("C")
        channel = self._new_channel(channel_id, name, _flag(args.get("is_private")), BOT_USER_ID, [BOT_USER_ID])
        self._channels[channel_id] = channel
        self._messages[channel_id] = []
        return {"channel": self._channel_object(channel)}

    @_api("conversations.info", required={"channel": "channel_not_found"})
    def _conversations_info(self, args: dict) -> dict:
        channel = self._visible_channel(args["channel"])
        info = self._channel_object(channel)
        if _flag(args.get("include_num_members")):
            info["num_members"] = len(channel["members"])
        return {"channel": info}

    @_api("conversations.members", required={"channel": "channel_not_found"})
    def _conversations_members(self, args: dict) -> dict:
        channel = self._visible_channel(args["channel"])
        members = sorted(channel["members"])
        try:
            limit = int(args.get("limit") or 100)
            start = int(args.get("cursor") or 0)
        except ValueError:
            raise SlackError("invalid_cursor") from None
        if not 0 < limit <= 1000:
            raise SlackError("invalid_limit")
        page = members[start:start + limit]
        more = start + limit < len(members)
        return {"members": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    @_api("conversations.join", required={"channel": "channel_not_found"})
    def _conversations_join(self, args: dict) -> dict:
        channel = self._visible_channel(args["channel"])
        if channel["is_im"] or channel["is_private"]:
            raise SlackError("method_not_supported_for_channel_type")
        answer: dict = {}
        if BOT_USER_ID in channel["members"]:
            answer = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
        else:
            self._join(channel["id"], BOT_USER_ID, None)
        return {"channel": self._channel_object(channel), **answer}

    @_api("conversations.invite", required={"channel": "channel_not_found", "users": "no_user"})
    def _conversations_invite(self, args: dict) -> dict:
        channel = self._member_channel(args["channel"])
        if channel["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
        if not users:
            raise SlackError("no_user")
        errors, valid = [], []
        for user in dict.fromkeys(users):
            if user == BOT_USER_ID:
                errors.append({"user": user, "ok": False, "error": "cant_invite_self"})
            elif user not in self._users:
                errors.append({"user": user, "ok": False, "error": "user_not_found"})
            elif user in channel["members"]:
                errors.append({"user": user, "ok": False, "error": "already_in_channel"})
            else:
                valid.append(user)
        if errors and not _flag(args.get("force")):
            raise SlackError(errors[0]["error"], errors=errors)
        for user in valid:
            self._join(channel["id"], user, BOT_USER_ID)
        answer = {"channel": self._channel_object(channel)}
        if errors:
            answer["errors"] = errors
        return answer

    @_api("conversations.setTopic", required={"channel": "channel_not_found", "topic": "invalid_arguments"})
    def _conversations_set_topic(self, args: dict) -> dict:
        channel = self._member_channel(args["channel"])
        if channel["is_im"]:
            raise SlackError("method_not_supported_for_channel_type")
        topic = str(args["topic"])
        if len(topic) > MAX_TOPIC:
            raise SlackError("too_long")
        channel["topic"] = {"value": topic, "creator": BOT_USER_ID, "last_set": int(time.time())}
        # Slack announces the change in the channel.
        self._messages[channel["id"]].append({
            "type": "message", "subtype": "channel_topic", "ts": self._next_ts(), "user": BOT_USER_ID,
            "text": f"<@{BOT_USER_ID}> set the channel topic: {topic}", "topic": topic,
        })
        return {"channel": self._channel_object(channel)}

    @_api("conversations.history", required={"channel": "channel_not_found"})
    def _conversations_history(self, args: dict) -> dict:
        channel = self._member_channel(args["channel"])
        oldest, latest, inclusive = _window(args)
        top_level = [
            m for m in self._messages[channel["id"]]
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        in_window = [m for m in reversed(top_level) if _in_window(m["ts"], oldest, latest, inclusive)]  # newest first
        page, has_more, next_cursor = _paginate(in_window, args, default_limit=100)
        return {"messages": copy.deepcopy(page), "has_more": has_more, "pin_count": self._pin_count(channel["id"]),
                "channel_actions_ts": None, "channel_actions_count": 0,
                "response_metadata": {"next_cursor": next_cursor}}

    @_api("conversations.replies", required={"channel": "channel_not_found", "ts": "thread_not_found"})
    def _conversations_replies(self, args: dict) -> dict:
        channel = self._member_channel(args["channel"])
        message = self._find_message(channel["id"], str(args["ts"]))
        if message is None or message.get("subtype") in ("channel_join", "channel_leave"):
            raise SlackError("thread_not_found")
        # Slack answers with the whole thread for a parent's ts or any reply's ts.
        parent = self._find_message(channel["id"], message.get("thread_ts") or message["ts"])
        if parent is None:
            raise SlackError("thread_not_found")
        thread = [m for m in self._messages[channel["id"]] if m is parent or m.get("thread_ts") == parent["ts"]]
        oldest, latest, inclusive = _window(args)
        in_window = [m for m in thread if _in_window(m["ts"], oldest, latest, inclusive)]  # oldest first
        page, has_more, next_cursor = _paginate(in_window, args, default_limit=1000)
        if not args.get("cursor") and all(m is not parent for m in page):
            page = [parent, *page]  # the first page always starts with the thread's parent
        return {"messages": copy.deepcopy(page), "has_more": has_more,
                "response_metadata": {"next_cursor": next_cursor}}

    @_api("chat.postMessage", required={"channel": "channel_not_found"})
    def _chat_post_message(self, args: dict) -> dict:
        channel = self._postable_channel(args["channel"])
        message = self._bot_message(args, truncate=True)
        self._append(channel["id"], message, str(args["thread_ts"]) if args.get("thread_ts") else None)
        if message.get("thread_ts") and _flag(args.get("reply_broadcast")):
            message["subtype"] = "thread_broadcast"
        return {"channel": channel["id"], "ts": message["ts"], "message": copy.deepcopy(message)}

    @_api("chat.getPermalink", required={"channel": "channel_not_found", "message_ts": "message_not_found"})
    def _chat_get_permalink(self, args: dict) -> dict:
        # As Slack answers: /archives/<channel>/p<ts without its dot>, a thread reply naming its thread.
        channel = self._visible_channel(args["channel"])
        message = self._find_message(channel["id"], str(args["message_ts"]))
        if message is None:
            raise SlackError("message_not_found")
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel['id']}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            link += f"?thread_ts={message['thread_ts']}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": link}

    @_api("chat.update", required={"channel": "channel_not_found", "ts": "message_not_found"})
    def _chat_update(self, args: dict) -> dict:
        channel = self._visible_channel(args["channel"])
        message = self._find_message(channel["id"], str(args["ts"]))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != BOT_USER_ID or message.get("bot_id") != BOT_ID:
            raise SlackError("cant_update_message")
        text, blocks, attachments = self._message_content(args, truncate=False)
        if "text" in args:
            message["text"] = text
        for key, value in (("blocks", blocks), ("attachments", attachments)):
            if value is not None:
                message[key] = value
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"channel": channel["id"], "ts": message["ts"], "text": message.get("text", ""),
                "message": copy.deepcopy(message)}

    @_api("chat.postEphemeral", required={"channel": "channel_not_found", "user": "user_not_in_channel"})
    def _chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._postable_channel(args["channel"])
        user = str(args["user"])
        if user not in channel["members"]:
            raise SlackError("user_not_in_channel")
        text, blocks, attachments = self._message_content(args, truncate=False)
        ts = self._next_ts()
        ephemeral = {"channel": channel["id"], "user": user, "text": text, "ts": ts, "thread_ts": args.get("thread_ts")}
        for key, value in (("blocks", blocks), ("attachments", attachments)):
            if value is not None:
                ephemeral[key] = value
        self._ephemerals.append(ephemeral)
        return {"message_ts": ts}

    @_api("pins.add", required={"channel": "channel_not_found"})
    def _pins_add(self, args: dict) -> dict:
        channel = self._member_channel(args["channel"])
        if not args.get("timestamp"):
            raise SlackError("no_item_specified")
        message = self._find_message(channel["id"], str(args["timestamp"]))
        if message is None:
            raise SlackError("message_not_found")
        if channel["id"] in message.get("pinned_to", []):
            raise SlackError("already_pinned")
        message.setdefault("pinned_to", []).append(channel["id"])
        return {}

    @_api("users.info", required={"user": "user_not_found"})
    def _users_info(self, args: dict) -> dict:
        user = self._users.get(str(args["user"]))
        if user is None:
            raise SlackError("user_not_found")
        user = copy.deepcopy(user)
        if not _flag(args.get("include_locale")):
            user.pop("locale", None)  # Slack includes it only when asked
        return {"user": user}

    @_api("views.open", required={"view": "invalid_arguments"})
    def _views_open(self, args: dict) -> dict:
        user = self._exchange_trigger(args)
        view = self._store_view(_checked_view(args["view"], "modal"), user=user)
        return {"view": copy.deepcopy(view)}

    @_api("views.push", required={"view": "invalid_arguments"})
    def _views_push(self, args: dict) -> dict:
        user = self._exchange_trigger(args)
        view = self._store_view(_checked_view(args["view"], "modal"), user=user)
        return {"view": copy.deepcopy(view)}

    @_api("views.update", required={"view": "invalid_arguments"})
    def _views_update(self, args: dict) -> dict:
        if args.get("view_id"):
            current = self._views.get(str(args["view_id"]))
        elif args.get("external_id"):
            current = next((v for v in self._views.values() if v.get("external_id") == args["external_id"]), None)
        else:
            raise _invalid("[ERROR] view_id or external_id required")
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        checked = _checked_view(args["view"], "modal")
        user = self._view_users.get(current["id"])
        view = self._store_view(checked, user=user, view_id=current["id"], previous=current)
        return {"view": copy.deepcopy(view)}

    @_api("views.publish", required={"user_id": "invalid_arguments", "view": "invalid_arguments"})
    def _views_publish(self, args: dict) -> dict:
        user = str(args["user_id"])
        if user not in self._users:
            raise _invalid("[ERROR] invalid user_id")
        if not self.home_tab_enabled:
            raise SlackError("not_enabled")
        if isinstance(args["view"], dict) and len(json.dumps(args["view"]).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        current = self._home_views.get(user)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = _view_record(_checked_view(args["view"], "home"), view_id=(current or {}).get("id") or self._new_id("V"))
        self._home_views[user] = view
        return {"view": copy.deepcopy(view)}

    @_api("conversations.canvases.create", required={"channel_id": "invalid_arguments"})
    def _conversations_canvases_create(self, args: dict) -> dict:
        channel = self._member_channel(args["channel_id"])
        markdown = _document_markdown(args.get("document_content"))
        if not self.canvases_enabled:
            raise SlackError("canvas_disabled_user_team")
        if self.free_plan:
            raise SlackError("team_tier_cannot_create_channel_canvases")
        if channel.get("properties", {}).get("canvas"):
            raise SlackError("channel_canvas_already_exists")
        canvas = self._new_canvas(str(args.get("title") or ""), markdown, channel["id"], channel_canvas=True, by=BOT_USER_ID)
        return {"canvas_id": canvas["id"]}

    @_api("canvases.create")
    def _canvases_create(self, args: dict) -> dict:
        channel = self._member_channel(args["channel_id"]) if args.get("channel_id") else None
        markdown = _document_markdown(args.get("document_content"))
        if not self.canvases_enabled:
            raise SlackError("canvas_disabled_user_team")
        if self.free_plan:
            if channel is None:
                raise SlackError("free_teams_cannot_create_non_tabbed_canvases")
            if any(c["channel_id"] == channel["id"] for c in self._canvases.values()):
                raise SlackError("free_team_canvas_tab_already_exists")
        canvas = self._new_canvas(str(args.get("title") or ""), markdown, channel["id"] if channel else None,
                                  channel_canvas=False, by=BOT_USER_ID)
        return {"canvas_id": canvas["id"]}

    @_api("canvases.edit", required={"canvas_id": "invalid_arguments", "changes": "invalid_arguments"})
    def _canvases_edit(self, args: dict) -> dict:
        changes = args["changes"]
        if not isinstance(changes, list) or not changes:
            raise _invalid("[ERROR] changes must be a non-empty array [json-pointer:/changes]")
        if len(changes) > 1:
            raise _invalid("[ERROR] only one operation per call is supported [json-pointer:/changes]")
        change = changes[0]
        if not isinstance(change, dict) or change.get("operation") not in CANVAS_OPERATIONS:
            raise _invalid("[ERROR] operation must be one of " + ", ".join(CANVAS_OPERATIONS) + " [json-pointer:/changes/0/operation]")
        operation = change["operation"]
        if operation in ("insert_after", "insert_before", "delete") and not change.get("section_id"):
            raise _invalid(f"[ERROR] {operation} requires section_id [json-pointer:/changes/0/section_id]")
        if operation == "rename":
            if change.get("section_id"):
                raise _invalid("[ERROR] rename takes no section_id [json-pointer:/changes/0/section_id]")
            title = _document_markdown(change.get("title_content"), required=True, pointer="/changes/0/title_content")
        elif operation != "delete":
            markdown = _document_markdown(change.get("document_content"), required=True, pointer="/changes/0/document_content")
        canvas = self._canvases.get(str(args["canvas_id"]))
        if canvas is None or not self._bot_can_edit(canvas):
            raise SlackError("canvas_not_found")
        if not self.canvases_enabled:
            raise SlackError("canvas_disabled_user_team")
        if change.get("section_id"):
            # Sections (canvases.sections.lookup) are not modelled: no section id is known here.
            raise SlackError("canvas_editing_failed")
        if operation == "rename":
            canvas["title"] = title
        elif operation == "replace":
            canvas["markdown"] = markdown
        elif operation == "insert_at_start":
            canvas["markdown"] = markdown + canvas["markdown"]
        else:  # insert_at_end
            canvas["markdown"] = canvas["markdown"] + markdown
        canvas["edits"].append({"user": BOT_USER_ID, "operation": operation})
        return {}

    @_api("files.getUploadURLExternal", required={"filename": "invalid_arguments", "length": "invalid_arguments"})
    def _files_get_upload_url(self, args: dict) -> dict:
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise _invalid("[ERROR] length must be an integer")
        if length < 1:
            raise _invalid("[ERROR] length must be positive")
        if len(str(args.get("alt_txt") or "")) > 1000:
            raise SlackError("alt_txt_too_large")
        file_id = self._new_id("F")
        self._uploads[file_id] = {"id": file_id, "filename": str(args["filename"]), "length": length,
                                  "content": None, "completed": False, "alt_txt": args.get("alt_txt")}
        return {"upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    @_api("files.completeUploadExternal", required={"files": "invalid_arguments"})
    def _files_complete_upload(self, args: dict) -> dict:
        wanted = args["files"]
        if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) and f.get("id") for f in wanted):
            raise _invalid("[ERROR] files must be a list of {id, title}")
        uploads = []
        for item in wanted:
            upload = self._uploads.get(str(item["id"]))
            if upload is None or upload["completed"] or upload["content"] is None:
                raise SlackError("file_not_found")
            uploads.append((upload, item.get("title") or upload["filename"]))
        channel_ids = self._share_targets(args)
        channels = [self._member_channel(c) for c in channel_ids]
        done = []
        for upload, title in uploads:
            upload["completed"] = True
            done.append(self._file_object(upload, title, [c["id"] for c in channels]))
            self._files.append({
                "id": upload["id"], "name": upload["filename"], "title": title, "content": upload["content"],
                "size": len(upload["content"]), "channels": [c["id"] for c in channels],
                "initial_comment": args.get("initial_comment"), "thread_ts": args.get("thread_ts"),
                "user": BOT_USER_ID, "created": int(time.time()),
            })
        for channel in channels:  # sharing posts one message carrying the files
            share = {"type": "message", "text": args.get("initial_comment") or "", "files": copy.deepcopy(done),
                     "upload": True, "user": BOT_USER_ID, "bot_id": BOT_ID, "display_as_bot": False,
                     "ts": self._next_ts(), "team": TEAM_ID}
            self._append(channel["id"], share, str(args["thread_ts"]) if args.get("thread_ts") else None)
        return {"files": done}

    # --- helpers: channels ------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08X}"

    def _next_ts(self) -> str:
        now_us = time.time_ns() // 1000
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _require_user(self, user_id: str) -> None:
        if user_id not in self._users:
            raise KeyError(f"no user {user_id} in the stand-in workspace (add_user first)")

    def _add_bot_user(self) -> None:
        bot = _user(BOT_USER_ID, "incidentbot", "Incident Bot", "America/Los_Angeles", "")
        bot.update(is_bot=True, is_app_user=False)
        bot["profile"].update(bot_id=BOT_ID, api_app_id=APP_ID, always_active=True)
        self._users[BOT_USER_ID] = bot

    def _new_channel(self, channel_id: str, name: str, is_private: bool, creator: str, members: list[str]) -> dict:
        now = int(time.time())
        return {
            "id": channel_id, "name": name, "name_normalized": name, "is_channel": True,
            "is_group": False, "is_im": False, "is_mpim": False, "is_private": is_private,
            "created": now, "creator": creator, "is_archived": False, "is_general": False, "unlinked": 0,
            "is_shared": False, "is_org_shared": False, "is_ext_shared": False, "is_pending_ext_shared": False,
            "shared_team_ids": [TEAM_ID], "pending_shared": [], "pending_connected_team_ids": [],
            "context_team_id": TEAM_ID, "updated": now * 1000, "parent_conversation": None,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [], "members": list(members),
        }

    def _channel_object(self, channel: dict) -> dict:
        """The channel as the bot sees it through the API (no member list; `is_member` for the bot)."""
        shown = {k: copy.deepcopy(v) for k, v in channel.items() if k != "members"}
        if not channel["is_im"]:
            shown["is_member"] = BOT_USER_ID in channel["members"]
            shown["last_read"] = "0000000000.000000"
        return shown

    def _channel_named(self, name: str) -> dict | None:
        return next((c for c in self._channels.values() if c.get("name") == name), None)

    def _resolve(self, channel_or_user: str) -> str:
        """A channel id as given, or the DM channel for a user id."""
        if channel_or_user in self._channels:
            return channel_or_user
        if channel_or_user in self._users:
            return self._open_dm(channel_or_user)
        raise KeyError(f"no channel {channel_or_user} in the stand-in workspace")

    def _open_dm(self, user_id: str) -> str:
        if user_id not in self._dms:
            channel_id = self._new_id("D")
            self._channels[channel_id] = {
                "id": channel_id, "created": int(time.time()), "is_archived": False, "is_im": True,
                "is_org_shared": False, "context_team_id": TEAM_ID, "updated": int(time.time() * 1000),
                "user": user_id, "is_user_deleted": False, "priority": 0, "is_private": True,
                "is_channel": False, "is_group": False, "is_mpim": False, "members": [user_id, BOT_USER_ID],
            }
            self._messages[channel_id] = []
            self._dms[user_id] = channel_id
        return self._dms[user_id]

    def _visible_channel(self, channel_id: Any) -> dict:
        """A channel the bot can see; Slack hides private channels the bot is not in (`channel_not_found`)."""
        channel = self._channels.get(str(channel_id))
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            raise SlackError("channel_not_found")
        return channel

    def _member_channel(self, channel_id: Any) -> dict:
        """A channel the bot must be in for the method (history, pins, topic, invites, file shares)."""
        channel = self._visible_channel(channel_id)
        if BOT_USER_ID not in channel["members"]:
            raise SlackError("not_in_channel")
        return channel

    def _postable_channel(self, channel_id: Any) -> dict:
        """Where chat.* can post: a visible channel (public ones without joining: chat:write.public),
        or a user id, which opens the DM with that user."""
        channel_id = str(channel_id)
        if channel_id not in self._channels and channel_id in self._users and channel_id != BOT_USER_ID:
            return self._channels[self._open_dm(channel_id)]
        return self._visible_channel(channel_id)

    def _join(self, channel_id: str, user_id: str, inviter: str | None) -> dict | None:
        channel = self._channels[channel_id]
        if user_id in channel["members"]:
            return None
        channel["members"].append(user_id)
        joined = {"type": "message", "subtype": "channel_join", "ts": self._next_ts(), "user": user_id,
                  "text": f"<@{user_id}> has joined the channel"}
        if inviter:
            joined["inviter"] = inviter
        self._messages[channel_id].append(joined)
        return copy.deepcopy(joined)

    def _new_canvas(self, title: str, markdown: str, channel_id: str | None, channel_canvas: bool, by: str) -> dict:
        canvas_id = self._new_id("F")
        canvas = {"id": canvas_id, "title": title, "markdown": markdown, "channel_id": channel_id,
                  "is_channel_canvas": channel_canvas, "created_by": by, "created": int(time.time()), "edits": []}
        self._canvases[canvas_id] = canvas
        if channel_canvas:
            # conversations.info shows a channel's canvas under properties.canvas, as Slack does.
            self._channels[channel_id]["properties"] = {"canvas": {"file_id": canvas_id, "is_empty": not markdown,
                                                                  "quip_thread_id": "T" + canvas_id}}
        return canvas

    def _bot_can_edit(self, canvas: dict) -> bool:
        """The bot edits canvases it made, and those tabbed in a channel it is in."""
        if canvas["created_by"] == BOT_USER_ID:
            return True
        channel = self._channels.get(canvas["channel_id"] or "")
        return channel is not None and BOT_USER_ID in channel["members"]

    def _pin_count(self, channel_id: str) -> int:
        return sum(1 for m in self._messages[channel_id] if channel_id in m.get("pinned_to", []))

    def _share_targets(self, args: dict) -> list[str]:
        targets = []
        if args.get("channel_id"):
            targets.append(str(args["channel_id"]))
        channels = args.get("channels")
        if isinstance(channels, str):
            channels = [c.strip() for c in channels.split(",") if c.strip()]
        targets.extend(channels or [])
        return list(dict.fromkeys(targets))

    # --- helpers: messages -----------------------------------------------------------------------

    def _find_message(self, channel_id: str, ts: str) -> dict | None:
        return next((m for m in self._messages.get(channel_id, []) if m["ts"] == ts), None)

    def _thread_parent(self, channel_id: str, thread_ts: str) -> dict | None:
        """The parent of the thread `thread_ts` names: a reply's ts stands for its thread, as in Slack."""
        parent = self._find_message(channel_id, thread_ts)
        if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
            parent = self._find_message(channel_id, parent["thread_ts"])
        return parent

    def _append(self, channel_id: str, message: dict, thread_ts: str | None = None) -> None:
        """Store a message, as a reply when `thread_ts` names a thread of the channel.

        Slack posts a message whose thread_ts matches nothing as an ordinary channel message.
        """
        parent = self._thread_parent(channel_id, thread_ts) if thread_ts else None
        if parent is not None:
            message["thread_ts"] = parent["ts"]
            message["parent_user_id"] = parent.get("user") or parent.get("bot_id")
        self._messages[channel_id].append(message)
        if parent is not None:
            self._refresh_thread(channel_id, parent["ts"])

    def _refresh_thread(self, channel_id: str, parent_ts: str) -> None:
        """Keep a parent's thread_ts, reply_count, reply_users and latest_reply as Slack does."""
        parent = self._find_message(channel_id, parent_ts)
        if parent is None:
            return
        replies = [m for m in self._messages[channel_id] if m.get("thread_ts") == parent_ts and m["ts"] != parent_ts]
        if not replies:
            for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply", "thread_ts"):
                parent.pop(key, None)
            return
        users = list(dict.fromkeys(r.get("user") or r.get("bot_id") for r in replies))
        parent.update(thread_ts=parent_ts, reply_count=len(replies), reply_users=users[:5],
                      reply_users_count=len(users), latest_reply=max(r["ts"] for r in replies),
                      is_locked=False, subscribed=False)

    def _message_content(self, args: dict, truncate: bool) -> tuple[str, list | None, list | None]:
        """(text, blocks, attachments) of chat.* arguments, refused the way Slack refuses them."""
        text = args.get("text")
        text = "" if text is None else str(text)
        blocks, attachments = args.get("blocks"), args.get("attachments")
        if isinstance(blocks, str) or isinstance(attachments, str):
            raise SlackError("invalid_blocks_format" if isinstance(blocks, str) else "invalid_attachments")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            problems = _block_problems(blocks, "message")
            if problems:
                raise SlackError("invalid_blocks", errors=problems, response_metadata={"messages": problems})
        if attachments is not None and not isinstance(attachments, list):
            raise SlackError("invalid_attachments")
        if not text.strip() and not blocks and not attachments:
            raise SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            if not truncate:
                raise SlackError("msg_too_long")
            text = text[:MAX_MESSAGE_TEXT]
        return text, blocks, attachments

    def _bot_message(self, args: dict, truncate: bool) -> dict:
        text, blocks, attachments = self._message_content(args, truncate)
        message = {
            "user": BOT_USER_ID, "type": "message", "ts": self._next_ts(), "bot_id": BOT_ID, "app_id": APP_ID,
            "text": text, "team": TEAM_ID,
            "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "Incident Bot", "deleted": False,
                            "updated": int(time.time()), "team_id": TEAM_ID, "icons": {}},
        }
        if blocks is not None:
            message["blocks"] = blocks
        if attachments is not None:
            message["attachments"] = attachments
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        return message

    def _apply_response(self, target: dict, body: dict) -> None:
        """What a response_url post does to the conversation (ephemeral replies only show in `responses()`)."""
        channel_id, message_ts = target["channel"], target["message_ts"]
        if channel_id not in self._messages:
            return
        original = self._find_message(channel_id, message_ts) if message_ts else None
        if body.get("delete_original") and original is not None:
            self._messages[channel_id].remove(original)
        elif body.get("replace_original") and original is not None:
            original.update({k: body[k] for k in ("text", "blocks", "attachments") if k in body})
            original["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        elif body.get("response_type") == "in_channel":
            message = self._bot_message(body, truncate=True)
            self._append(channel_id, message, str(body["thread_ts"]) if body.get("thread_ts") else None)

    # --- helpers: views and files --------------------------------------------------------------------

    def _exchange_trigger(self, args: dict) -> str | None:
        """A trigger_id works once, within 3 seconds of the interaction that issued it."""
        trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger_id:
            raise _invalid("[ERROR] missing required field: trigger_id")
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger["used"]:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger["issued"] > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger["used"] = True
        return trigger["user"]

    def _store_view(self, view: dict, user: str | None, view_id: str | None = None,
                    previous: dict | None = None) -> dict:
        view_id = view_id or self._new_id("V")
        record = _view_record(view, view_id, previous)
        self._views[view_id] = record
        self._view_users[view_id] = user
        return record

    def _file_object(self, upload: dict, title: str, channel_ids: list[str]) -> dict:
        name = upload["filename"]
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        filetype = {"md": "markdown", "txt": "text", "json": "json", "csv": "csv"}.get(extension, extension)
        mimetypes = {"markdown": "text/markdown", "json": "application/json", "csv": "text/csv"}
        mimetype = mimetypes.get(filetype, "text/plain")
        public = [c for c in channel_ids if not self._channels[c]["is_private"]]
        private = [c for c in channel_ids if self._channels[c]["is_private"] and not self._channels[c]["is_im"]]
        ims = [c for c in channel_ids if self._channels[c]["is_im"]]
        now = int(time.time())
        return {
            "id": upload["id"], "created": now, "timestamp": now, "name": name, "title": title,
            "mimetype": mimetype, "filetype": filetype, "pretty_type": filetype.capitalize(), "user": BOT_USER_ID,
            "user_team": TEAM_ID, "editable": True, "size": len(upload["content"]), "mode": "snippet",
            "is_external": False, "external_type": "", "is_public": bool(public), "public_url_shared": False,
            "display_as_bot": False, "username": "", "alt_txt": upload.get("alt_txt"),
            "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload['id']}/{name}",
            "url_private_download": f"https://files.slack.com/files-pri/{TEAM_ID}-{upload['id']}/download/{name}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload['id']}/{name}",
            "permalink_public": f"https://slack-files.com/{TEAM_ID}-{upload['id']}-{secrets.token_hex(5)}",
            "comments_count": 0, "is_starred": False, "shares": {}, "channels": public, "groups": private, "ims": ims,
            "has_more_shares": False, "has_rich_preview": False, "file_access": "visible",
        }


# --- the HTTP layer --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    standin: SlackStandIn

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # Slack accepts GET with query parameters for most methods
        self._route(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._route(self.rfile.read(length) if length else b"")

    def _route(self, raw: bytes) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/api/"):
            args = dict(parse_qsl(parts.query, keep_blank_values=True))
            content_type = self.headers.get("Content-Type", "")
            try:
                args.update(_parse_body(raw, content_type))
            except ValueError:
                self._send(200, {"ok": False, "error": "invalid_form_data"})
                return
            bearer = _bearer(self.headers.get("Authorization"))
            status, headers, body = self.standin.handle_api(
                path[len("/api/"):], args, bearer, content_type.startswith("application/json")
            )
            if status == DROP_CONNECTION:
                self.close_connection = True  # as a network fault: the client sees the connection drop
                return
            delay = self.standin.take_delay(path[len("/api/"):])
            if delay:
                time.sleep(delay)
                try:
                    self._send(status, body, headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should
                return
            self._send(status, body, headers)
        elif path.startswith("/upload/"):
            content = raw
            if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                parsed = _parse_body(raw, self.headers["Content-Type"])
                content = next((v for v in parsed.values() if isinstance(v, bytes)), b"")
            status, text = self.standin.handle_upload(path[len("/upload/"):], content)
            self._send_text(status, text)
        elif path.startswith("/response/"):
            status, text = self.standin.handle_response_url(path[len("/response/"):], raw)
            self._send_text(status, text)
        else:
            self._send_text(404, "Not Found")

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _invalid(message: str) -> SlackError:
    """Slack's answer to a malformed argument: invalid_arguments, with the reason in response_metadata."""
    return SlackError("invalid_arguments", response_metadata={"messages": [message]})


def _with_channel(message: dict, channel_id: str) -> dict:
    return {**copy.deepcopy(message), "channel": channel_id}


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[len("bearer "):].strip()
    return None


def _parse_body(raw: bytes, content_type: str) -> dict:
    """The arguments of a request body: JSON, form-encoded or multipart (file parts stay bytes)."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("a JSON body must be an object")
        return body
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        args: dict = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            args[name] = payload if part.get_filename() else payload.decode("utf-8")
        return args
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _decode_json_args(args: dict) -> dict:
    """Form bodies carry blocks, views and file lists as JSON text; decode them where they parse."""
    decoded = dict(args)
    for key in _JSON_ARGS:
        if isinstance(decoded.get(key), str) and decoded[key].strip()[:1] in ("[", "{"):
            try:
                decoded[key] = json.loads(decoded[key])
            except json.JSONDecodeError:
                pass  # left as text: the method refuses it as badly formatted
    return decoded


def _failure_answer(failure: _Failure) -> tuple[int, dict, dict]:
    if failure.status == DROP_CONNECTION:
        return DROP_CONNECTION, {}, {}
    if failure.status == 429:
        return 429, {"Retry-After": str(1 if failure.retry_after is None else failure.retry_after)}, \
            {"ok": False, "error": "ratelimited"}
    return failure.status, {}, {"ok": False, "error": failure.error}


def _document_markdown(content: Any, required: bool = False, pointer: str = "/document_content") -> str:
    """The Markdown of a `{"type": "markdown", "markdown": "…"}` document_content (or title_content)."""
    if content in (None, ""):
        if required:
            raise _invalid(f"[ERROR] missing required field: {pointer.rsplit('/', 1)[-1]} [json-pointer:{pointer}]")
        return ""
    if not isinstance(content, dict) or content.get("type") != "markdown" or not isinstance(content.get("markdown"), str):
        raise _invalid(f'[ERROR] must be {{"type": "markdown", "markdown": "…"}} [json-pointer:{pointer}]')
    return content["markdown"]


def _flag(value: Any) -> bool:
    """Slack booleans: true/false in JSON, "1"/"0" or "true"/"false" in forms."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


# --- channel names, users, timestamps ----------------------------------------------------------------


def _channel_name_problem(name: str, ascii_only: bool = False) -> str | None:
    """Slack's rule: lowercase letters (any script: Latin with accents, Cyrillic, Greek, Hangul, kana,
    kanji…), digits, hyphens, underscores; at most 80 characters. `ascii_only`: a workspace that
    takes only ASCII letters and digits."""
    if not name:
        return "invalid_name_required"
    if len(name) > MAX_CHANNEL_NAME:
        return "invalid_name_maxlength"
    for char in name:
        allowed = char in "-_" or unicodedata.category(char)[0] in "LNM"
        if not allowed or char != char.lower() or (ascii_only and not char.isascii()):
            return "invalid_name_specials"
    if all(char in "-_" for char in name):
        return "invalid_name_punctuation"
    return None


def _user(user_id: str, name: str, real_name: str, tz: str, display_name: str) -> dict:
    zone = ZoneInfo(tz)
    now = datetime.now(timezone.utc).astimezone(zone)
    offset = int(now.utcoffset().total_seconds()) if now.utcoffset() else 0
    return {
        "id": user_id, "team_id": TEAM_ID, "name": name, "deleted": False, "color": "9f69e7",
        "real_name": real_name, "tz": tz, "tz_label": now.tzname(), "tz_offset": offset,
        "profile": {
            "real_name": real_name, "real_name_normalized": real_name, "display_name": display_name,
            "display_name_normalized": display_name, "first_name": real_name.split(" ")[0], "title": "",
            "phone": "", "skype": "", "status_text": "", "status_emoji": "", "avatar_hash": secrets.token_hex(6),
            "image_72": f"https://avatars.slack-edge.com/{user_id}_72.png", "team": TEAM_ID,
        },
        "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
        "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": int(time.time()),
        "is_email_confirmed": True, "who_can_share_contact_card": "EVERYONE",
    }


def _ts(value: Any, error: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error)


def _window(args: dict) -> tuple[Decimal | None, Decimal | None, bool]:
    return _ts(args.get("oldest"), "invalid_ts_oldest"), _ts(args.get("latest"), "invalid_ts_latest"), \
        _flag(args.get("inclusive"))


def _in_window(ts: str, oldest: Decimal | None, latest: Decimal | None, inclusive: bool) -> bool:
    at = Decimal(ts)
    if oldest is not None and (at < oldest or (at == oldest and not inclusive)):
        return False
    if latest is not None and (at > latest or (at == latest and not inclusive)):
        return False
    return True


def _paginate(items: list, args: dict, default_limit: int) -> tuple[list, bool, str]:
    """Cursor pagination: (page, has_more, next_cursor)."""
    try:
        limit = int(args.get("limit") or default_limit)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit")
    limit = max(1, min(limit, 999 if default_limit == 100 else 1000))
    start = 0
    if args.get("cursor"):
        try:
            start = int(base64.b64decode(str(args["cursor"])).decode().removeprefix("next_ts:"))
        except (ValueError, UnicodeDecodeError):
            raise SlackError("invalid_cursor")
    page = items[start:start + limit]
    has_more = start + limit < len(items)
    next_cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if has_more else ""
    return page, has_more, next_cursor


_MENTION = re.compile(r"<(@[UW][A-Z0-9]+|#C[A-Z0-9]+|!(?:here|channel|everyone))(?:\|[^>]*)?>")


def rich_text_blocks(text: str) -> list[dict]:
    """The rich_text block Slack's clients attach to a person's message."""
    elements: list[dict] = []
    position = 0
    for mention in _MENTION.finditer(text):
        if mention.start() > position:
            elements.append({"type": "text", "text": text[position:mention.start()]})
        ref = mention.group(1)
        if ref[0] == "@":
            elements.append({"type": "user", "user_id": ref[1:]})
        elif ref[0] == "#":
            elements.append({"type": "channel", "channel_id": ref[1:]})
        else:
            elements.append({"type": "broadcast", "range": ref[1:]})
        position = mention.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = base64.b32encode(secrets.token_bytes(3)).decode()[:5]
    section = {"type": "rich_text_section", "elements": elements}
    return [{"type": "rich_text", "block_id": block_id, "elements": [section]}]


# --- Block Kit and view checks (the limits Slack enforces) ------------------------------------------------


def _text_problems(obj: Any, pointer: str, max_len: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"[ERROR] must be a text object [json-pointer:{pointer}]"]
    if plain_only and obj["type"] != "plain_text":
        return [f"[ERROR] must be plain_text [json-pointer:{pointer}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(text) > max_len:
        return [f"[ERROR] must be less than {max_len + 1} characters [json-pointer:{pointer}/text]"]
    return []


def _element_problems(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not element.get("type"):
        return [f"[ERROR] missing required field: type [json-pointer:{pointer}]"]
    problems = []
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/action_id]")
    if element["type"] == "button":
        problems += _text_problems(element.get("text"), f"{pointer}/text", 75, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            problems.append(f"[ERROR] must be less than 2001 characters [json-pointer:{pointer}/value]")
    if element["type"] in ("static_select", "multi_static_select"):
        groups = element.get("option_groups") or []
        options = element.get("options") or [o for g in groups for o in g.get("options", [])]
        if not options or len(options) > 100:
            problems.append(f"[ERROR] must provide 1 to 100 options [json-pointer:{pointer}/options]")
        initial = element.get("initial_option")
        if initial is not None and initial not in options:
            problems.append(f"[ERROR] initial_option must match an option [json-pointer:{pointer}/initial_option]")
    return problems


def _block_problems(blocks: list, surface: str) -> list[str]:
    """Slack's Block Kit limits for a message or a view; empty when Slack would accept the blocks."""
    allowed = _MESSAGE_BLOCK_TYPES if surface == "message" else _VIEW_BLOCK_TYPES
    max_blocks = MAX_MESSAGE_BLOCKS if surface == "message" else MAX_VIEW_BLOCKS
    prefix = "/blocks" if surface == "message" else "/view/blocks"
    if len(blocks) > max_blocks:
        return [f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{prefix}]"]
    problems: list[str] = []
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        pointer = f"{prefix}/{i}"
        if not isinstance(block, dict) or block.get("type") not in allowed:
            problems.append(f"[ERROR] unsupported type: {block.get('type') if isinstance(block, dict) else block!r} "
                            f"[json-pointer:{pointer}/type]")
            continue
        kind, block_id = block["type"], block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"[ERROR] duplicate block_id: {block_id} [json-pointer:{pointer}/block_id]")
            if len(str(block_id)) > 255:
                problems.append(f"[ERROR] must be less than 256 characters [json-pointer:{pointer}/block_id]")
            block_ids.add(block_id)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"[ERROR] must provide text or fields [json-pointer:{pointer}]")
            if "text" in block:
                problems += _text_problems(block["text"], f"{pointer}/text", 3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{pointer}/fields]")
            for j, item in enumerate(fields):
                problems += _text_problems(item, f"{pointer}/fields/{j}", 2000)
            if "accessory" in block:
                problems += _element_problems(block["accessory"], f"{pointer}/accessory")
        elif kind == "header":
            problems += _text_problems(block.get("text"), f"{pointer}/text", 150, plain_only=True)
        elif kind in ("actions", "context"):
            elements, most = block.get("elements"), (25 if kind == "actions" else 10)
            if not isinstance(elements, list) or not elements or len(elements) > most:
                problems.append(f"[ERROR] must provide 1 to {most} elements [json-pointer:{pointer}/elements]")
                continue
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                problems.append(f"[ERROR] duplicate action_id [json-pointer:{pointer}/elements]")
            for j, element in enumerate(elements):
                if kind == "actions":
                    problems += _element_problems(element, f"{pointer}/elements/{j}")
                elif isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                    problems += _text_problems(element, f"{pointer}/elements/{j}", 3000)
        elif kind == "input":
            problems += _text_problems(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
            problems += _element_problems(block.get("element"), f"{pointer}/element")
    return problems


def _checked_view(view: Any, kind: str) -> dict:
    """The view, if Slack would accept it; else `invalid_arguments` with Slack-style messages."""
    if not isinstance(view, dict):
        raise _invalid("[ERROR] must be an object [json-pointer:/view]")
    problems: list[str] = []
    if view.get("type") != kind:
        problems.append(f"[ERROR] must be '{kind}' [json-pointer:/view/type]")
    if kind == "modal":
        problems += _text_problems(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text_problems(view[key], f"/view/{key}", MAX_VIEW_TITLE, plain_only=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view/blocks]")
    else:
        problems += _block_problems(blocks, "view")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if kind == "modal" and "submit" not in view and has_input:
            problems.append("[ERROR] must provide submit when using input blocks [json-pointer:/view/submit]")
    for key, most in (("callback_id", 255), ("private_metadata", 3000), ("external_id", 255)):
        if len(str(view.get(key, ""))) > most:
            problems.append(f"[ERROR] must be less than {most + 1} characters [json-pointer:/view/{key}]")
    if problems:
        raise SlackError("invalid_arguments", response_metadata={"messages": problems})
    return view


def _view_record(view: dict, view_id: str, previous: dict | None = None) -> dict:
    """A view as Slack returns it: the app's view plus ids, state and a fresh hash."""
    record = {
        "id": view_id, "team_id": TEAM_ID, "type": view["type"], "blocks": copy.deepcopy(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
        "state": {"values": {}}, "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "clear_on_close": bool(view.get("clear_on_close")), "notify_on_close": bool(view.get("notify_on_close")),
        "close": view.get("close"), "submit": view.get("submit"), "previous_view_id": None,
        "root_view_id": (previous or {}).get("root_view_id", view_id), "app_id": APP_ID,
        "external_id": view.get("external_id", ""), "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID,
    }
    if "title" in view:
        record["title"] = copy.deepcopy(view["title"])
    return record
