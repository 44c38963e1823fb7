"""Reading Slack's standard workspace export: a folder or the .zip Slack hands out.

The layout (Slack help, "How to read Slack data exports"): `channels.json` (public
channels), `groups.json` (private ones), `dms.json` / `mpims.json`, `users.json`
(`org_users.json` on Enterprise Grid), and for each conversation a folder named
after it holding one JSON array of messages per day, `YYYY-MM-DD.json`. A zip may
hold all of it at its root or under one top folder.

Plain file reading: nothing here talks to Slack. Every problem is an ExportError
whose message is one line naming the file.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.slack.objects import valid_channel, valid_ts
from bot.domain.times import from_slack_ts

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
USERS_FILES = ("users.json", "org_users.json")


class ExportError(Exception):
    """The export cannot be read as one; the message names the file and what is wrong."""


@dataclass(frozen=True)
class ExportChannel:
    id: str
    name: str
    is_private: bool
    topic: str
    purpose: str


@dataclass(frozen=True)
class ExportedMessage:
    file: str  # where it was read, e.g. "inc-…/2026-03-12.json", to name in errors
    raw: dict  # the message exactly as exported


class SlackExport:
    """One export, read on demand: only the files of the channel asked for are opened."""

    def __init__(self, path: Path, files: "_Files"):
        self.path = path
        self._files = files
        self.channels = self._channels()
        self.users = self._users()

    def channel(self, ref: str) -> ExportChannel:
        """By name (`inc-…` or `#inc-…`) or id (`C0…`)."""
        wanted = ref.strip().lstrip("#")
        for channel in self.channels:
            if wanted in (channel.name, channel.id):
                return channel
        names = sorted(c.name for c in self.channels)
        close = [n for n in names if wanted.lower() in n.lower() or n.lower() in wanted.lower()]
        shown = (close + [n for n in names if n not in close])[:8]
        more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
        listed = ", ".join(shown) + more if shown else "none"
        raise ExportError(f"the export has no channel named {wanted!r}; its channels: {listed}")

    def messages(self, channel: ExportChannel) -> list[ExportedMessage]:
        """Every message of the channel, from all its day files, in time order."""
        found: list[ExportedMessage] = []
        for name in self._files.day_files(channel.name):
            data = self._json(name)
            if not isinstance(data, list):
                raise ExportError(f"{name}: expected a JSON array of messages, found {type(data).__name__}")
            for index, raw in enumerate(data):
                if not isinstance(raw, dict) or valid_ts(raw.get("ts")) is None:
                    raise ExportError(f"{name}: message {index + 1} is not a message with a valid ts")
                found.append(ExportedMessage(name, raw))
        found.sort(key=lambda m: from_slack_ts(m.raw["ts"]))
        return found

    def _channels(self) -> list[ExportChannel]:
        channels = []
        for file, private in (("channels.json", False), ("groups.json", True)):
            data = self._json(file, optional=file != "channels.json")
            if data is None:
                continue
            if not isinstance(data, list):
                raise ExportError(f"{file}: expected a JSON array of channels, found {type(data).__name__}")
            for index, raw in enumerate(data):
                if not isinstance(raw, dict) or not valid_channel(raw.get("id")) or not _text(raw.get("name")):
                    raise ExportError(f"{file}: channel {index + 1} has no valid id or no name")
                channels.append(
                    ExportChannel(
                        id=raw["id"],
                        name=raw["name"],
                        is_private=private or raw.get("is_private") is True,
                        topic=_value(raw.get("topic")),
                        purpose=_value(raw.get("purpose")),
                    )
                )
        return channels

    def _users(self) -> dict[str, dict]:
        for file in USERS_FILES:
            data = self._json(file, optional=True)
            if data is None:
                continue
            if not isinstance(data, list) or not all(isinstance(u, dict) and _text(u.get("id")) for u in data):
                raise ExportError(f"{file}: expected a JSON array of users, each with an id")
            return {u["id"]: u for u in data}
        raise ExportError(f"{self.path}: users.json is missing, so the export cannot say who wrote what")

    def _json(self, name: str, optional: bool = False):
        raw = self._files.read(name)
        if raw is None:
            if optional:
                return None
            raise ExportError(f"{self.path}: {name} is missing; is this a Slack export?")
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ExportError(f"{name}: not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise ExportError(f"{name}: not valid JSON ({error})") from None


def open_export(path: str | Path) -> SlackExport:
    """A folder or a .zip holding a Slack export; ExportError when it is neither."""
    path = Path(path).expanduser()
    if path.is_dir():
        return SlackExport(path, _Folder(path))
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder")
    if not zipfile.is_zipfile(path):
        raise ExportError(f"{path}: neither a folder nor a .zip file; give the export folder or the .zip Slack made")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ExportError(f"{path}: cannot open the zip ({error})") from None
    return SlackExport(path, _Zip(path, archive))


class _Files:
    def read(self, name: str) -> bytes | None:
        raise NotImplementedError

    def day_files(self, folder: str) -> list[str]:
        raise NotImplementedError


class _Folder(_Files):
    def __init__(self, root: Path):
        self.root = root

    def read(self, name: str) -> bytes | None:
        path = self.root / name
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError as error:
            raise ExportError(f"{name}: cannot be read ({error.strerror})") from None

    def day_files(self, folder: str) -> list[str]:
        directory = self.root / folder
        if not directory.is_dir():
            return []
        try:
            return sorted(f"{folder}/{p.name}" for p in directory.iterdir() if _DAY_FILE.match(p.name) and p.is_file())
        except OSError as error:
            raise ExportError(f"{folder}/: cannot be read ({error.strerror})") from None


class _Zip(_Files):
    """Members by their path inside the export, whether the zip has a top folder or not."""

    def __init__(self, path: Path, archive: zipfile.ZipFile):
        self.archive = archive
        entries = {
            _member_name(info): info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith("__MACOSX/")  # macOS re-zipping debris
        }
        # The export's root is wherever its channels.json sits (the shallowest one).
        roots = [PurePosixPath(n).parent for n in entries if PurePosixPath(n).name == "channels.json"]
        roots.sort(key=lambda folder: len(folder.parts))
        if not roots:
            raise ExportError(f"{path}: a zip without channels.json; is this a Slack export?")
        prefix = "" if str(roots[0]) == "." else f"{roots[0]}/"
        self.members = {n[len(prefix):]: info for n, info in entries.items() if n.startswith(prefix)}

    def read(self, name: str) -> bytes | None:
        member = self.members.get(name)
        if member is None:
            return None
        try:
            return self.archive.read(member)
        except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError) as error:
            raise ExportError(f"{name}: cannot be read from the zip ({error})") from None

    def day_files(self, folder: str) -> list[str]:
        return sorted(n for n in self.members if n.startswith(f"{folder}/") and _DAY_FILE.match(n[len(folder) + 1 :]))


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's path; a zip tool that stored UTF-8 names without saying so (no flag 0x800) still
    finds `inc-決済…/` folders, which Python would otherwise read as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _value(field: object) -> str:
    """A channel's topic or purpose: `{"value": …, "creator": …, "last_set": …}`."""
    value = field.get("value") if isinstance(field, dict) else None
    return value.strip() if isinstance(value, str) else ""
