"""What Slack sends to the bot: slash commands, events and interactions, shaped and signed like Slack's.

Each request is signed with Slack's v0 scheme and POSTed to the bot over real
HTTP. Event builders return the inner `event` dict so a test can adjust it
before sending; they also keep the stand-in's workspace in step (an edit
changes the stored message, a deletion removes it, a join adds the member),
because in Slack the change has happened before the event is delivered.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import secrets
import string
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

from tests.support.slack_standin import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, SlackStandIn

VERIFICATION_TOKEN = "vErIfIcAtIoNtOkEnOfT0TeAm"  # Slack's legacy token, still sent in every payload
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

Response = tuple[int, dict, str]


class SlackRequests:
    def __init__(self, url: str, signing_secret: str, standin: SlackStandIn):
        self.url = url
        self.signing_secret = signing_secret
        self.standin = standin

    # --- sending -----------------------------------------------------------------------

    def signed_post(self, body: bytes, content_type: str, timestamp: int | None = None, secret: str | None = None,
                    headers: dict | None = None) -> Response:
        """POST `body` signed like Slack: X-Slack-Signature = v0=hex(hmac_sha256(secret, "v0:{ts}:{body}"))."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        key = (self.signing_secret if secret is None else secret).encode()
        signature = "v0=" + hmac.new(key, f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": content_type,
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        })
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8")

    def post_form(self, fields: dict, **kwargs) -> Response:
        return self.signed_post(urlencode(fields).encode(), "application/x-www-form-urlencoded", **kwargs)

    def post_interaction(self, payload: dict, **kwargs) -> Response:
        """Interactions arrive as a form with one field, `payload`, holding JSON."""
        return self.post_form({"payload": json.dumps(payload)}, **kwargs)

    # --- slash commands -----------------------------------------------------------------

    def slash_command(self, user: str, text: str, channel: str = "C0GENERAL", command: str = "/incident") -> Response:
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.standin.new_response_url(channel_id=channel, user_id=user),
            "trigger_id": self.standin.new_trigger_id(user),
        }
        return self.post_form(fields)

    # --- events --------------------------------------------------------------------------

    def event(self, event: dict, event_id: str | None = None, retry_num: int | None = None,
              retry_reason: str | None = None) -> Response:
        """Deliver `event` in its event_callback envelope; a retry carries Slack's retry headers."""
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "context_enterprise_id": None,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev0" + random_id(9),
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(48),
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason or "http_timeout"}
        return self.signed_post(json.dumps(envelope).encode(), "application/json", headers=headers)

    def message_event(self, message: dict, channel: str) -> dict:
        """The `message` event for a message stored in the stand-in (as `post_human_message` returns it)."""
        event = {"type": "message"}
        for key in ("subtype", "user", "bot_id", "username", "text", "ts", "team", "blocks", "client_msg_id",
                    "files", "upload", "attachments", "edited"):
            if key in message:
                event[key] = copy.deepcopy(message[key])
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            event["thread_ts"] = message["thread_ts"]
            event["parent_user_id"] = message.get("parent_user_id")
        event.update(channel=channel, event_ts=message["ts"], channel_type=self._channel_type(channel))
        return event

    def message_changed(self, channel: str, ts: str, new_text: str, user: str) -> dict:
        """A person edited their message (the stand-in's copy is edited too)."""
        previous, current = self.standin.edit_message(channel, ts, new_text, user)
        if current is None:  # not in the stand-in: describe the edit from the arguments alone
            previous = {"type": "message", "user": user, "text": "", "ts": ts, "team": TEAM_ID}
            current = {**previous, "text": new_text, "edited": {"user": user, "ts": self.standin.next_ts()}}
        message = {k: v for k, v in current.items() if k not in ("reactions", "pinned_to")}
        message.update(source_team=TEAM_ID, user_team=TEAM_ID)
        event_ts = self.standin.next_ts()
        return {
            "type": "message",
            "subtype": "message_changed",
            "message": message,
            "previous_message": previous,
            "channel": channel,
            "hidden": True,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": self._channel_type(channel),
        }

    def message_deleted(self, channel: str, ts: str) -> dict:
        """A message was deleted (and is gone from the stand-in)."""
        previous = self.standin.delete_message(channel, ts)
        event_ts = self.standin.next_ts()
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": ts,
            "channel": channel,
            "ts": event_ts,
            "event_ts": event_ts,
            "channel_type": self._channel_type(channel),
        }
        if previous is not None:
            event["previous_message"] = previous
        return event

    def bot_message(self, channel: str, text: str, bot_id: str = "B0OTHER", username: str = "deploy-bot") -> dict:
        """Another integration posted (subtype bot_message: `bot_id` and `username`, no `user`)."""
        message = self.standin.post_other_bot_message(channel, text, bot_id=bot_id, username=username)
        return {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "ts": message["ts"],
            "bot_id": bot_id,
            "username": username,
            "icons": {"image_48": f"https://avatars.slack-edge.com/{bot_id}_48.png"},
            "channel": channel,
            "event_ts": message["ts"],
            "channel_type": self._channel_type(channel),
        }

    def channel_join(self, channel: str, user: str, inviter: str | None = None) -> dict:
        """A person joined the channel (and is now a member in the stand-in)."""
        joined = self.standin.add_member(channel, user, inviter=inviter)
        ts = joined["ts"] if joined else self.standin.next_ts()
        event = {
            "type": "message",
            "subtype": "channel_join",
            "ts": ts,
            "user": user,
            "text": f"<@{user}> has joined the channel",
            "team": TEAM_ID,
            "channel": channel,
            "event_ts": ts,
            "channel_type": self._channel_type(channel),
        }
        if inviter:
            event["inviter"] = inviter
        return event

    def reaction_added(self, user: str, channel: str, ts: str, reaction: str, event_ts: str | None = None,
                       join: bool = True) -> dict:
        """A reaction by someone in the channel (`join=False`: by someone who never joined it)."""
        if join and channel in self.standin.channel_ids():
            self.standin.add_member(channel, user)
        message = self.standin.add_reaction(channel, ts, reaction, user)
        return self._reaction("reaction_added", user, channel, ts, reaction, event_ts, message)

    def reaction_removed(self, user: str, channel: str, ts: str, reaction: str, event_ts: str | None = None) -> dict:
        message = self.standin.remove_reaction(channel, ts, reaction, user)
        return self._reaction("reaction_removed", user, channel, ts, reaction, event_ts, message)

    def _reaction(self, kind: str, user: str, channel: str, ts: str, reaction: str, event_ts: str | None,
                  message: dict | None) -> dict:
        event = {
            "type": kind,
            "user": user,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "reaction": reaction,
            "event_ts": event_ts or self.standin.next_ts(),
        }
        if message is not None:
            event["item_user"] = message.get("user") or message.get("bot_id")
        return event

    def app_home_opened(self, user: str, tab: str = "home") -> dict:
        """A person opened the app's Home tab (or its Messages tab, `tab="messages"`).

        `channel` is their DM with the app; Slack adds the Home tab's current `view` once one was published.
        """
        event = {"type": "app_home_opened", "user": user, "channel": self.standin.dm_channel(user), "tab": tab,
                 "event_ts": self.standin.next_ts()}
        view = self.standin.home_view(user)
        if tab == "home" and view is not None:
            event["view"] = view
        return event

    # --- interactions ---------------------------------------------------------------------

    def block_action(self, user: str, action_id: str, value: str = "", channel: str | None = None,
                     message_ts: str | None = None, block_id: str | None = None, trigger_id: str | None = None,
                     **action_fields) -> Response:
        """A person clicked an element of a message. The action is filled in from the stored message when found.

        `action_fields` adds to the action, e.g. `type="static_select", selected_option={...}`.
        """
        message = self.standin.message(channel, message_ts) if channel and message_ts else None
        element, found_block_id = _find_element(message, action_id)
        action = {
            "action_id": action_id,
            "block_id": block_id or found_block_id or "incident_header_actions",
            "text": element.get("text", {"type": "plain_text", "text": action_id, "emoji": True}),
            "value": value or element.get("value", ""),
            "type": element.get("type", "button"),
            "action_ts": self.standin.next_ts(),
        }
        if element.get("style"):
            action["style"] = element["style"]
        action.update(action_fields)
        payload = {
            "type": "block_actions",
            "user": self._user_object(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id or self.standin.new_trigger_id(user),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "response_url": self.standin.new_response_url(channel_id=channel, user_id=user, message_ts=message_ts),
            "actions": [action],
        }
        if channel:
            payload["channel"] = {"id": channel, "name": self._channel_name(channel)}
        if message is not None:
            message.pop("channel", None)  # the stand-in's convenience key; Slack's payload message has none
            payload["message"] = message
        return self.post_interaction(payload)

    def home_block_action(self, user: str, action_id: str, block_id: str, view: dict | None = None) -> Response:
        """A person clicked an element of the Home tab the bot published for them (or of an older `view`
        they still had open): a view container, the whole view, and no channel, message or response_url."""
        view = view or self.standin.home_view(user)
        assert view is not None, f"no Home tab was published for {user}"
        block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
        element, _ = _find_element({"blocks": [block]}, action_id)
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "text": element.get("text", {"type": "plain_text", "text": action_id, "emoji": True}),
            "value": element.get("value", ""),
            "type": element.get("type", "button"),
            "action_ts": self.standin.next_ts(),
        }
        if element.get("style"):
            action["style"] = element["style"]
        payload = {
            "type": "block_actions",
            "user": self._user_object(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.standin.new_trigger_id(user),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
            "actions": [action],
            "state": {"values": {}},
        }
        return self.post_interaction(payload)

    def view_submission(self, user: str, callback_id: str, state_values: dict, private_metadata: str | None = None,
                        view_id: str | None = None) -> Response:
        """A person submitted a modal. The view is the one the bot opened (by id, else latest with the callback_id)."""
        opened = (self.standin.view(view_id) if view_id else None) or self.standin.find_view(callback_id, user) \
            or self.standin.find_view(callback_id) or {}
        view_id = view_id or opened.get("id") or "V0" + random_id(9)
        view = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": opened.get("blocks", []),
            "private_metadata": opened.get("private_metadata", "") if private_metadata is None else private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": opened.get("hash") or f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": opened.get("title") or {"type": "plain_text", "text": "Incident", "emoji": True},
            "clear_on_close": opened.get("clear_on_close", False),
            "notify_on_close": opened.get("notify_on_close", False),
            "close": opened.get("close"),
            "submit": opened.get("submit") or {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": opened.get("root_view_id", view_id),
            "app_id": APP_ID,
            "external_id": opened.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": opened.get("bot_id", "B0BOT"),
        }
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": self._user_object(user),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.standin.new_trigger_id(user),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.post_interaction(payload)

    # --- what Slack knows about people and channels ------------------------------------------

    def _user_name(self, user: str) -> str:
        try:
            return self.standin.user(user)["name"]
        except KeyError:
            return user.lower()

    def _user_object(self, user: str) -> dict:
        name = self._user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}

    def _channel_name(self, channel: str | None) -> str:
        try:
            info = self.standin.channel(channel)
        except KeyError:
            return "unknown"
        if info.get("is_im"):
            return "directmessage"
        return info["name"]

    def _channel_type(self, channel: str) -> str:
        try:
            info = self.standin.channel(channel)
        except KeyError:
            return "channel"
        if info.get("is_im"):
            return "im"
        return "group" if info.get("is_private") else "channel"


def _find_element(message: dict | None, action_id: str) -> tuple[dict, str | None]:
    """The interactive element with `action_id` in a message's blocks, and its block's id."""
    for block in (message or {}).get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element, block.get("block_id")
    return {}, None


def random_id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))
