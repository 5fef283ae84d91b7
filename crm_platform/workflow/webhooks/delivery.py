"""The ``webhook`` job: one signed POST of the body an action enqueued.

What an answer means for the run: 2xx delivered; 5xx, 408, 429, a timeout or a broken
connection is tried again with the outbox's exponential backoff (a ``Retry-After`` is
honoured, within the outbox's longest wait); any other 4xx, a redirect (never followed:
it could lead anywhere) or a destination the policy refuses fails the run at once —
the dead-letter list, from which an admin retries it once the receiver is fixed.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from datetime import timedelta

from crm_platform.core.webhook_settings import WebhookSettings

from ..jobs import JobContext, JobFailed, RetryLater
from ..outbox import MAX_BACKOFF
from .action import JOB
from .policy import Refused, Resolver, Target, Unresolved, WebhookPolicy, default_resolver
from .signing import body_bytes, signed_headers

USER_AGENT = "crm-platform-webhooks/1"
SNIPPET = 200  # characters of a refusing answer kept in the run's error
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Answer:
    """What the receiver said (the start of its body, for the run's error)."""

    status: int
    reason: str
    location: str | None
    retry_after: str | None
    text: str


def send(target: Target, body: bytes, headers: dict[str, str], settings: WebhookSettings) -> Answer:
    """POST ``body`` to the judged address of ``target``: TLS names (SNI) and verifies the
    certificate of the host name; no redirect followed, no proxy from the environment."""
    import httpx  # here: only a process that delivers webhooks needs it (and rich, under it)

    url = httpx.URL(target.url)
    pinned = url.copy_with(host=str(target.address))
    host_header = url.host if url.port is None else f"{url.host}:{url.port}"
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    with (
        httpx.Client(
            verify=tls_context(settings), timeout=timeout, follow_redirects=False, trust_env=False
        ) as client,
        client.stream(
            "POST",
            pinned,
            content=body,
            headers={**headers, "Host": host_header},
            extensions={"sni_hostname": target.host},
        ) as response,
    ):
        text = b""
        for chunk in response.iter_bytes():
            text += chunk
            if len(text) >= SNIPPET:
                break
        return Answer(
            status=response.status_code,
            reason=response.reason_phrase,
            location=response.headers.get("location"),
            retry_after=response.headers.get("retry-after"),
            text=text[:SNIPPET].decode("utf-8", "replace"),
        )


def tls_context(settings: WebhookSettings) -> ssl.SSLContext:
    """The system's CAs, plus the deployment's own (``CRM_WEBHOOK_CA_FILE``)."""
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


@dataclass(frozen=True)
class WebhookJob:
    """Delivers webhook runs (``resolve``: how host names become addresses)."""

    name: str = JOB
    resolve: Resolver = field(default=default_resolver)

    def run(self, job: JobContext) -> None:
        import httpx  # see send

        payload = job.payload
        step = payload.get("action") or JOB
        settings: WebhookSettings = job.org.settings.webhooks
        secret = settings.secret(payload["secret_ref"])
        if secret is None:
            variable = WebhookSettings.secret_variable(payload["secret_ref"])
            raise JobFailed(f"no webhook secret '{payload['secret_ref']}' ({variable})", step=step)
        try:
            target = WebhookPolicy(settings).target(payload["url"], self.resolve)
        except Refused as exc:
            raise JobFailed(exc.reason, step=step) from None
        except Unresolved as exc:
            raise RetryLater(str(exc), step=step) from None
        body = body_bytes(payload["body"])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": job.step_key(0),
            **signed_headers(secret, int(job.now.timestamp()), body),
        }
        try:
            answer = send(target, body, headers, settings)
        except httpx.TimeoutException as exc:
            raise RetryLater(f"{target.host} timed out ({type(exc).__name__})", step=step) from None
        except httpx.TransportError as exc:
            raise RetryLater(f"{target.host} unreachable: {exc}", step=step) from None
        judge(answer, target, step)


def judge(answer: Answer, target: Target, step: str) -> None:
    """Return for a delivered webhook; raise what the run should do otherwise."""
    status = answer.status
    if 200 <= status < 300:
        return
    said = f"{target.host} answered {status} {answer.reason}".rstrip()
    if answer.text.strip():
        said += f": {answer.text.strip()}"
    if status >= 500 or status in RETRIED_STATUSES:
        raise RetryLater(said, step=step, after=_retry_after(answer.retry_after))
    if 300 <= status < 400:
        raise JobFailed(
            f"{target.host} answered {status} (to {answer.location or 'nowhere'}): "
            "redirects are not followed; use the final URL",
            step=step,
        )
    raise JobFailed(said, step=step)


def _retry_after(text: str | None) -> timedelta | None:
    """A ``Retry-After`` in seconds, within the outbox's longest wait (dates: ignored)."""
    if text is None or not text.strip().isdigit():
        return None
    return min(timedelta(seconds=int(text.strip())), MAX_BACKOFF)
