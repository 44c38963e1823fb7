"""Slack-facing side of the incident bot: listeners, Block Kit views, Slack calls."""

__version__ = "0.1.0"
