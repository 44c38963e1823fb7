"""The incident domain: lifecycle, milestones, durations, timeline rules.

Nothing in this package imports Slack; it works on plain values and on the
storage models, so every rule can be tested and reused outside Slack.
"""
