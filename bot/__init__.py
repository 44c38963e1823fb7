"""Slack-facing side of the incident bot: listeners, Block Kit views, Slack calls."""
