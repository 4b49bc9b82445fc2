"""Webhook exports: which events exist, what each says, how it is signed, and when it is retried.

* `ExportEvent` is one event as the bot saw it; `export_payload` turns it into the JSON a receiver
  gets, reduced to what the guild's ``analytics_mode`` allows (`vectobeat_core.telemetry.
  redacted_track`): ``none`` names no track, ``basic`` only its source and length, ``advanced``
  adds title, author and URI, ``predictive`` the requesting user's id.
* `wants` says whether a guild's settings export an event (the ``test`` event always, when a URL
  is set). `encode_body` is the exact bytes that are signed and sent.
* `sign` / `verify` — ``X-VectoBeat-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
  HMAC-SHA256 over ``"<t>." + body`` with the guild's signing secret (`guild_secret`), as Stripe
  does; receivers compare in constant time and reject old timestamps.
* `RetrySchedule` — bounded attempts, waiting by the core's one back-off; `retryable` says which
  outcomes are worth another attempt (timeouts, transport errors, 408, 429 and 5xx).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from typing import Literal, TypeAlias

import attrs

from vectobeat_core.backoff import ExponentialBackoff
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, NodeName, UserId
from vectobeat_core.jsontypes import JSONObject
from vectobeat_core.plans import AnalyticsLevel
from vectobeat_core.settings import WEBHOOK_EVENTS, ServerSettings
from vectobeat_core.telemetry import redacted_track
from vectobeat_core.tracks import Track

__all__ = [
    "DELIVERY_HEADER",
    "DELIVERY_LOG_KEEP",
    "EVENT_HEADER",
    "EXPORT_KINDS",
    "MAX_ERROR_CHARS",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "TEST_EVENT",
    "ExportEvent",
    "ExportKind",
    "Outcome",
    "RetrySchedule",
    "WebhookDelivery",
    "encode_body",
    "export_payload",
    "guild_secret",
    "retryable",
    "sign",
    "verify",
    "wants",
]

ExportKind: TypeAlias = Literal[
    "automation_action",
    "node_failover",
    "queue_finished",
    "queue_updated",
    "settings_changed",
    "track_finished",
    "track_started",
    "test",
]
TEST_EVENT: Literal["test"] = "test"
EXPORT_KINDS: tuple[str, ...] = (*WEBHOOK_EVENTS, TEST_EVENT)
"""Every event a receiver may get: the ones a guild selects, and the panel's test event."""

SIGNATURE_HEADER = "X-VectoBeat-Signature"
EVENT_HEADER = "X-VectoBeat-Event"
DELIVERY_HEADER = "X-VectoBeat-Delivery"
SIGNATURE_TOLERANCE_S = 300
"""How old a signed timestamp receivers should accept (seconds; `verify`'s default)."""


@attrs.frozen(slots=True)
class ExportEvent:
    """One event before redaction. Only the fields its kind uses are set."""

    kind: ExportKind
    guild_id: GuildId
    at: float
    track: Track | None = None
    user_id: UserId | None = None
    queue_length: int | None = None
    reason: str | None = None
    fields: tuple[str, ...] = ()
    version: int | None = None
    from_node: NodeName | None = None
    to_node: NodeName | None = None
    action: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in EXPORT_KINDS:
            raise InvalidInput(
                f"Unknown export event {self.kind!r}; choose from {', '.join(EXPORT_KINDS)}."
            )
        if isinstance(self.at, bool) or not isinstance(self.at, int | float):
            raise InvalidInput(f"An export event's time must be a number, got {self.at!r}.")
        if not math.isfinite(self.at) or self.at < 0:
            raise InvalidInput(f"An export event's time must be finite and positive: {self.at!r}.")


def wants(settings: ServerSettings, kind: str) -> bool:
    """Whether ``settings`` export ``kind`` (needs a URL; the test event needs nothing more)."""
    if settings.webhook_export_url is None:
        return False
    return kind == TEST_EVENT or kind in settings.webhook_export_events


def export_payload(event: ExportEvent, mode: AnalyticsLevel, delivery_id: str) -> JSONObject:
    """The JSON a receiver gets for ``event`` under analytics ``mode``."""
    data: JSONObject = {}
    if event.track is not None or event.user_id is not None:
        track = redacted_track(event.track, event.user_id, mode)
        if track:
            data["track"] = track
    for key, value in (
        ("queue_length", event.queue_length),
        ("reason", event.reason),
        ("version", event.version),
        ("from_node", event.from_node),
        ("to_node", event.to_node),
        ("action", event.action),
    ):
        if value is not None:
            data[key] = value
    if event.fields:
        data["fields"] = list(event.fields)
    return {
        "id": delivery_id,
        "type": event.kind,
        "guild_id": str(event.guild_id),
        "created_at": event.at,
        "data": data,
    }


def encode_body(payload: JSONObject) -> bytes:
    """The exact bytes sent and signed: compact, sorted keys, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def guild_secret(master: str, guild_id: GuildId) -> str:
    """A guild's signing secret, derived from the operator's ``WEBHOOK_SIGNING_SECRET``: each guild
    gets its own, so one guild's receiver cannot forge another's deliveries."""
    if not isinstance(master, str) or len(master) < 16:
        raise InvalidInput("The webhook signing secret must be at least 16 characters.")
    digest = hmac.new(master.encode(), f"webhook:{int(guild_id)}".encode(), hashlib.sha256)
    return "whsec_" + digest.hexdigest()


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-VectoBeat-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidInput(f"A signature timestamp is whole unix seconds, got {timestamp!r}.")
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: float, tolerance: float = SIGNATURE_TOLERANCE_S
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of ``now``."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(key, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or len(stamps[0]) > 15:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


Outcome: TypeAlias = int | Literal["timeout", "error"]
"""What one attempt got: an HTTP status, no answer in time, or a transport error."""


def retryable(outcome: Outcome) -> bool:
    """Timeouts, transport errors, 408, 429 and 5xx are retried; any other status is final."""
    if outcome in ("timeout", "error"):
        return True
    if isinstance(outcome, bool) or not isinstance(outcome, int):
        raise InvalidInput(f"An attempt's outcome is a status, 'timeout' or 'error': {outcome!r}.")
    return outcome in (408, 429) or outcome >= 500


@attrs.frozen(slots=True)
class RetrySchedule:
    """``attempts`` tries; before try ``n + 1`` wait between half and all of
    ``min(cap_s, base_s * 2**n)`` (``jitter`` in [0, 1] picks where), never less than a receiver's
    ``Retry-After`` up to ``cap_s`` (the core's one back-off, `ExponentialBackoff`)."""

    attempts: int = 5
    base_s: float = 0.5
    cap_s: float = 30.0
    _backoff: ExponentialBackoff = attrs.field(init=False, repr=False, eq=False)

    @_backoff.default
    def _equal_jitter(self) -> ExponentialBackoff:
        return ExponentialBackoff(self.base_s, self.cap_s)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise InvalidInput(f"Retry attempts must be a whole number, got {self.attempts!r}.")
        if not 1 <= self.attempts <= 20:
            raise InvalidInput(f"Retry attempts must be from 1 to 20, got {self.attempts}.")

    def delay(self, attempt: int, jitter: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if not 0.0 <= jitter <= 1.0:
            raise InvalidInput(f"Jitter must be from 0 to 1, got {jitter!r}.")
        return self._backoff.delay(attempt, 1.0 - jitter, retry_after)

    def more_after(self, attempt: int) -> bool:
        """Whether another try follows failed attempt ``attempt`` (0-based)."""
        return attempt + 1 < self.attempts


MAX_ERROR_CHARS = 300
DELIVERY_LOG_KEEP = 50
"""Attempts the delivery log keeps per guild (older ones are pruned as new ones arrive)."""


@attrs.frozen(slots=True)
class WebhookDelivery:
    """One delivery attempt as the log keeps it: an HTTP status, or an error saying what failed."""

    guild_id: GuildId
    delivery_id: str
    event: str
    attempt: int
    at: float
    latency_ms: float
    status_code: int | None = None
    error: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.event not in EXPORT_KINDS:
            raise InvalidInput(f"Unknown export event {self.event!r}.")
        if not isinstance(self.delivery_id, str) or not 1 <= len(self.delivery_id) <= 64:
            raise InvalidInput("A delivery id is 1 to 64 characters.")
        if isinstance(self.attempt, bool) or not isinstance(self.attempt, int):
            raise InvalidInput(f"A delivery attempt is a whole number, got {self.attempt!r}.")
        if not 1 <= self.attempt <= 100:
            raise InvalidInput(f"A delivery attempt is from 1 to 100, got {self.attempt}.")
        for name in ("at", "latency_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(f"A delivery's {name} must be a number, got {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"A delivery's {name} must be finite and >= 0, got {value!r}.")
        if (self.status_code is None) == (self.error is None):
            raise InvalidInput("A delivery has either an HTTP status or an error, not both.")
        if self.status_code is not None and not 100 <= self.status_code <= 599:
            raise InvalidInput(f"An HTTP status is from 100 to 599, got {self.status_code!r}.")
        if self.error is not None and not 1 <= len(self.error) <= MAX_ERROR_CHARS:
            raise InvalidInput(f"A delivery error is 1 to {MAX_ERROR_CHARS} characters.")

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def outcome(self) -> str:
        """``HTTP 200`` or the error, for people."""
        return f"HTTP {self.status_code}" if self.status_code is not None else str(self.error)
