"""Signing and delivering webhook events the way Stripe does.

``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>`` over the exact
bytes delivered (compact JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs

__all__ = ["SignedDelivery", "WebhookSigner", "sign_payload"]


def sign_payload(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` signed at ``timestamp``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@attrs.frozen
class SignedDelivery:
    """The body and headers of one webhook request."""

    body: bytes
    headers: dict[str, str]


@attrs.frozen
class WebhookSigner:
    """Signs events with an endpoint's secret (``whsec_...``) and delivers them."""

    secret: str = attrs.field(repr=False)

    def sign(self, event: Mapping[str, Any], *, timestamp: int | None = None) -> SignedDelivery:
        body = json.dumps(event, separators=(",", ":")).encode()
        when = int(time.time()) if timestamp is None else timestamp
        return SignedDelivery(
            body,
            {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign_payload(body, self.secret, when),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )

    async def deliver(
        self, url: str, event: Mapping[str, Any], *, timestamp: int | None = None
    ) -> tuple[int, str]:
        """POST ``event`` to ``url`` signed; returns the status and the response text."""
        delivery = self.sign(event, timestamp=timestamp)
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=delivery.body, headers=delivery.headers) as response,
        ):
            return response.status, await response.text()
