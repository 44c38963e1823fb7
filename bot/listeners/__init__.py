"""All listeners, grouped by kind as in Slack's bolt-python starter template."""

from __future__ import annotations

from slack_bolt import App

from bot.alerts import webhooks as alert_webhooks
from bot.listeners import actions, commands, events, views
from bot.services import Services


def register_listeners(app: App, services: Services) -> None:
    def provide_services(context, next) -> None:
        # Every listener can ask for `services` by name (Bolt injects context entries).
        context["services"] = services
        next()

    app.use(provide_services)
    commands.register(app)
    events.register(app)
    actions.register(app)
    views.register(app)
    alert_webhooks.attach(app, services)  # /alerts/*, served beside /slack/events
