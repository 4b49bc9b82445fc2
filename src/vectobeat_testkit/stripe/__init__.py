"""A fake Stripe API (for the official ``stripe`` SDK) and Stripe-style signed webhooks.

async with FakeStripe(api_key="sk_test_x") as fake:
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake.api_base})
    ...  # create a Checkout Session, then:
    for event in fake.complete_checkout(session_id):
        await WebhookSigner("whsec_x").deliver(webhook_url, event)
"""

from __future__ import annotations

from vectobeat_testkit.stripe.forms import FormError, decode_form
from vectobeat_testkit.stripe.server import API_VERSION, FakeStripe, StripeFault
from vectobeat_testkit.stripe.webhooks import SignedDelivery, WebhookSigner, sign_payload

__all__ = [
    "API_VERSION",
    "FakeStripe",
    "FormError",
    "SignedDelivery",
    "StripeFault",
    "WebhookSigner",
    "decode_form",
    "sign_payload",
]
