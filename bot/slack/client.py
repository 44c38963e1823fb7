"""The Web API client: Slack's URL or SLACK_API_URL, with retries on Slack's transient faults."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings
from bot.slack.formatting import outgoing


class ServerErrorRetryHandler(RetryHandler):
    """Retry Slack's 5xx answers (slack_sdk only ships handlers for 429 and connection errors)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code >= 500


class TimeoutRetryHandler(RetryHandler):
    """Retry a call whose answer did not come in time, unless repeating it would act twice.

    Slack may already have acted on a timed-out call. For most calls a repeat is harmless or
    better than losing the step (a notice posted twice rather than never); a second
    conversations.create would open a second channel (a second canvases.create a second
    canvas), and a trigger id works only once.
    """

    NOT_REPEATED = (
        "conversations.create", "views.open", "views.push",
        "conversations.canvases.create", "canvases.create", "canvases.edit",
    )

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not isinstance(error, TimeoutError):
            return False
        method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        return method not in self.NOT_REPEATED


class SafeWebClient(WebClient):
    """A WebClient whose every call passes its shown texts through formatting.outgoing: whatever a
    listener or renderer builds, no person's `<!channel>` or bidi override reaches Slack live."""

    def api_call(self, api_method: str, *, json: dict | None = None, params: dict | None = None, data: dict | None = None, **kwargs):
        return super().api_call(api_method, json=outgoing(json), params=outgoing(params), data=outgoing(data), **kwargs)

    @classmethod
    def like(cls, client: WebClient) -> "SafeWebClient":
        """The same connection settings as `client` (Bolt makes a fresh plain WebClient per request)."""
        return cls(
            token=client.token, base_url=client.base_url, timeout=client.timeout, ssl=client.ssl, proxy=client.proxy,
            headers=client.headers, team_id=client.default_params.get("team_id"), logger=client.logger,
            retry_handlers=client.retry_handlers.copy() if client.retry_handlers is not None else None,
        )


class UseSafeClient(Middleware):
    """Bolt global middleware: listeners get a SafeWebClient instead of Bolt's per-request WebClient.
    A Middleware class, not a function: Bolt builds a function's arguments by introspection on every
    request (BENCHMARKS.md)."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        body, context = req.body, req.context
        event = body.get("event") if isinstance(body, dict) else None
        if isinstance(event, dict) and event.get("type") == "message":
            # The message listener calls no Slack method (bot/listeners/events.py), and messages are
            # most of the traffic: a second client per message was a tenth of its cost (BENCHMARKS.md).
            return next()
        if context.client is not None and not isinstance(context.client, SafeWebClient):
            context["client"] = SafeWebClient.like(context.client)
        return next()


def make_client(settings: Settings) -> WebClient:
    return configure_client(SafeWebClient(token=settings.bot_token), settings)


def configure_client(client: WebClient, settings: Settings) -> WebClient:
    """Slack's URL or SLACK_API_URL, our timeout and our retries, also on the client Bolt makes itself
    (bot/slack/server.py: bolt_app)."""
    client.base_url = settings.api_url
    client.timeout = settings.api_timeout_seconds
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
        TimeoutRetryHandler(max_retry_count=2),
    ]
    return client
