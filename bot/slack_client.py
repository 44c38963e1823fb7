"""The Web API client: Slack's URL or SLACK_API_URL, with retries on Slack's transient faults."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

DEFAULT_API_URL = "https://slack.com/api/"


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


def make_client(token: str, api_url: str | None) -> WebClient:
    return WebClient(
        token=token,
        base_url=api_url or DEFAULT_API_URL,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
