"""All listeners, grouped by kind as in Slack's bolt-python starter template."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.alerts import webhooks as alert_webhooks
from bot.listeners import actions, commands, events, views
from bot.services import Services


class ProvideServices(Middleware):
    """Every listener can ask for `services` by name (Bolt injects context entries). A Middleware
    class, not a function: Bolt builds a function's arguments by introspection on every request."""

    def __init__(self, services: Services):
        self.services = services

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        req.context["services"] = self.services
        return next()


def register_listeners(app: App, services: Services) -> None:
    app.use(ProvideServices(services))
    # Events first: Bolt tries listeners in this order, and message events are most of the traffic.
    events.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    alert_webhooks.attach(app, services)  # /alerts/*, served beside /slack/events
