"""manifest.yml asks for exactly what the code uses: every Web API method it calls is covered by a
scope, every event it listens to is subscribed, and nothing else is asked for.

The code is read, not run: each `<client>.<WebClient method>` reference in bot/ and app.py is mapped
to the Slack method(s) it calls by reading slack_sdk's own source (files_upload_v2 is three calls).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

ROOT = Path(__file__).resolve().parent.parent
SHARED_DOCS = ROOT.parent / "shared" / "slack" / "method-docs"  # optional cross-check, see test below

# The bot scopes each method needs here. The bot works in public and private (--private) channels,
# so channel methods need both families. A method missing from this table fails the test: decide
# its scopes, add them to manifest.yml, then here.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.getPermalink": set(),  # Slack asks no scope for it (method-docs: "scopes": {})
    "conversations.create": {"channels:manage", "groups:write"},
    "conversations.invite": {"channels:manage", "groups:write"},
    "conversations.setTopic": {"channels:manage", "groups:write"},
    "conversations.members": {"channels:read", "groups:read"},
    "conversations.info": {"channels:read", "groups:read"},
    "conversations.join": {"channels:join"},
    "conversations.history": {"channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},
    "pins.add": {"pins:write"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
    "users.info": {"users:read"},
    "auth.test": set(),  # the bot's own user, who declares what alerts declare (bot/alerts/webhooks.py)
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
    "canvases.create": {"canvases:write"},
    "canvases.edit": {"canvases:write"},
    "conversations.canvases.create": {"canvases:write"},
    # Socket Mode's first connection (bot/slack/server.py): the app-level token's connections:write, no bot scope.
    "apps.connections.open": set(),
}
# Events a listener takes → what the manifest subscribes to for it.
EVENT_SUBSCRIPTIONS = {
    "message": {"message.channels", "message.groups"},
    "reaction_added": {"reaction_added"},
    "reaction_removed": {"reaction_removed"},
    "member_joined_channel": {"member_joined_channel"},
    "member_left_channel": {"member_left_channel"},
    "app_home_opened": {"app_home_opened"},
}
# Scopes Slack requires to deliver each subscribed event.
EVENT_SCOPES = {
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "app_home_opened": set(),
}
# Scopes no single method call implies.
OTHER_SCOPES = {
    "commands": "the /incident slash command",
    "chat:write.public": "posting in INCIDENT_ANNOUNCE_CHANNEL without being invited to it",
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def _sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "bot").rglob("*.py"))]


def _web_api_methods(sdk_method: str, seen: set[str] | None = None) -> set[str]:
    """The Slack methods a WebClient method calls, read from slack_sdk's source."""
    seen = seen if seen is not None else set()
    if sdk_method in seen:
        return set()
    seen.add(sdk_method)
    source = inspect.getsource(getattr(WebClient, sdk_method))
    found = set(re.findall(r"api_call\(\s*\"([a-zA-Z.]+)\"", source))
    for inner in set(re.findall(r"self\.([a-z]+_[A-Za-z0-9_]+)\(", source)):
        if _is_api_method(inner):
            found |= _web_api_methods(inner, seen)
    return found


def _is_api_method(name: str) -> bool:
    return "_" in name and not name.startswith("_") and name in vars(WebClient) and callable(getattr(WebClient, name))


def called_methods() -> dict[str, set[str]]:
    """Slack method → the files that call it."""
    called: dict[str, set[str]] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            methods: set[str] = set()
            if isinstance(node, ast.Attribute) and _is_api_method(node.attr):
                methods = _web_api_methods(node.attr)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "api_call"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                methods = {node.args[0].value}
            for method in methods:
                called.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return called


def _listener_calls(kind: str) -> list[ast.Call]:
    """Every `app.<kind>(…)` in the code (kind: event, command, action, view)."""
    return [
        node
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == kind
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "app"
    ]


def _listener_arguments(kind: str) -> set[str]:
    """The literal string arguments of every `app.<kind>("…")`."""
    return {a.value for call in _listener_calls(kind) for a in call.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str)}


def test_the_code_reading_finds_what_it_should():
    # Guards the test itself: known calls must be seen, or every check below would pass vacuously.
    called = called_methods()
    assert {"chat.postMessage", "conversations.create", "files.completeUploadExternal", "views.open"} <= set(called)
    assert {"message", "reaction_added"} <= _listener_arguments("event")


def test_every_method_the_code_calls_is_covered_by_a_scope_in_the_manifest(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = called_methods()
    unknown = {m: sorted(files) for m, files in called.items() if m not in METHOD_SCOPES}
    assert not unknown, f"methods called with no scopes decided in METHOD_SCOPES: {unknown}"
    missing = {m: sorted(METHOD_SCOPES[m] - scopes) for m in called if METHOD_SCOPES[m] - scopes}
    assert not missing, f"manifest.yml lacks scopes for: {missing}"


def test_every_event_the_code_listens_to_is_subscribed_and_nothing_else(manifest):
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    listened = _listener_arguments("event")
    unknown = listened - set(EVENT_SUBSCRIPTIONS)
    assert not unknown, f"events listened to with no subscription decided in EVENT_SUBSCRIPTIONS: {unknown}"
    needed = set().union(*(EVENT_SUBSCRIPTIONS[e] for e in listened))
    assert subscribed == needed, f"subscribed but not listened to: {subscribed - needed}; missing: {needed - subscribed}"


def test_the_manifest_asks_for_no_scope_the_code_does_not_need(manifest):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    used = set(OTHER_SCOPES).union(*(METHOD_SCOPES[m] for m in called_methods()))
    used |= set().union(*(EVENT_SCOPES[e] for e in manifest["settings"]["event_subscriptions"]["bot_events"]))
    assert scopes <= used, f"scopes nothing uses: {sorted(scopes - used)}"
    assert "user" not in manifest["oauth_config"]["scopes"], "the bot acts as itself, never as a user"


def test_command_interactivity_home_and_socket_mode_settings_match_the_listeners(manifest):
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == _listener_arguments("command") == {"/incident"}
    assert commands["/incident"]["should_escape"] is True  # `lead @ana` must arrive as <@U…>
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert _listener_calls("action") and _listener_calls("view")  # buttons and forms post interactions
    assert manifest["features"]["app_home"]["home_tab_enabled"] == ("app_home_opened" in _listener_arguments("event"))
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # reminders are DMs from the app
    # One URL for everything, the path the server serves (HTTP mode).
    urls = {manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"], commands["/incident"]["url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert manifest["settings"]["socket_mode_enabled"] in (True, False)


@pytest.mark.skipif(not SHARED_DOCS.is_dir(), reason="Slack's method docs (../shared) are not in this checkout")
def test_the_scopes_table_agrees_with_slacks_documentation():
    for method, scopes in METHOD_SCOPES.items():
        doc = SHARED_DOCS / f"{method}.json"
        if not doc.exists():
            continue
        documented = {s["name"] for s in json.loads(doc.read_text())["scopes"].get("bot", [])}
        assert scopes <= documented, f"{method}: {sorted(scopes - documented)} is not one of Slack's {sorted(documented)}"
        if documented:
            assert scopes, f"{method} needs one of {sorted(documented)}"
