"""``FakeStripe``: the slice of the Stripe API VectoBeat uses, on loopback, for the official SDK.

Point the SDK at ``fake.api_base`` (``StripeClient(key, base_addresses={"api": fake.api_base})``).
Served: customers (create, retrieve, search by metadata), Checkout Sessions (create, retrieve),
Customer Portal sessions (create), subscriptions (retrieve, list by customer). Requests are
Stripe's form encoding; errors are Stripe's shape
``{"error": {"type", "message", "param", "code"}}`` with its statuses (400, 401, 404, 5xx).

What a customer would do on Stripe's pages is driven from the test: `complete_checkout`,
`change_price`, `set_status`, `cancel`, `fail_payment` change the state and return the events
Stripe would send (sign and deliver them with `WebhookSigner`).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from aiohttp import web

from vectobeat_testkit.serving import AppServer
from vectobeat_testkit.stripe.forms import FormError, decode_form

__all__ = ["API_VERSION", "FakeStripe", "StripeFault"]

API_VERSION = "2026-10-28.endive"
Json = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PARAMS = web.RequestKey("stripe_params", dict)
_SEARCH = re.compile(r"metadata\['([A-Za-z0-9_]+)'\]\s*:\s*'([^']*)'")


@attrs.frozen
class StripeFault:
    """An error the next API request(s) answer with instead of their result."""

    status: int = 500
    type: str = "api_error"
    message: str = "An unknown error occurred."
    code: str | None = None


class _StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status, message, type_, param, code,
        )  # fmt: skip

    def response(self) -> web.Response:
        body = {"error": {"type": self.type, "message": self.message}}
        if self.param is not None:
            body["error"]["param"] = self.param
        if self.code is not None:
            body["error"]["code"] = self.code
        return web.json_response(body, status=self.status)


def _missing(param: str) -> _StripeError:
    return _StripeError(
        400, f"Missing required param: {param}.", param=param, code="parameter_missing"
    )


def _no_such(kind: str, object_id: str, param: str = "id") -> _StripeError:
    return _StripeError(404, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def _metadata(value: object, param: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _StripeError(400, f"Invalid hash: {param}.", param=param)
    return dict(value)


class FakeStripe(AppServer):
    """A fake Stripe API server (aiohttp on ``host:port``, port 0 picks a free one)."""

    def __init__(
        self, *, api_key: str = "sk_test_vectobeat", host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key
        self.customers: dict[str, Json] = {}
        self.checkout_sessions: dict[str, Json] = {}
        self.portal_sessions: dict[str, Json] = {}
        self.subscriptions: dict[str, Json] = {}
        self.events: list[Json] = []
        self.requests: list[tuple[str, str, Json]] = []
        """Every API request as (method, path, decoded parameters)."""
        self.clock: Callable[[], float] = time.time
        self._faults: list[StripeFault] = []
        self._ids = itertools.count(1)
        self._line_items: dict[str, list[Json]] = {}
        self._subscription_data: dict[str, Json] = {}

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """What the SDK takes as its ``api`` base address."""
        return self.base_url

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            [
                web.post("/v1/customers", self._create_customer),
                web.get("/v1/customers/search", self._search_customers),
                web.get("/v1/customers/{id}", self._get_customer),
                web.post("/v1/checkout/sessions", self._create_checkout),
                web.get("/v1/checkout/sessions/{id}", self._get_checkout),
                web.post("/v1/billing_portal/sessions", self._create_portal),
                web.get("/v1/subscriptions", self._list_subscriptions),
                web.get("/v1/subscriptions/{id}", self._get_subscription),
                web.get("/pay/{id}", self._hosted_page),
                web.get("/portal/{id}", self._hosted_page),
            ]
        )
        return app

    def fail_next(self, fault: StripeFault, times: int = 1) -> None:
        """Answer the next ``times`` API requests with ``fault``."""
        self._faults.extend([fault] * times)

    # --- plumbing --------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{secrets.token_hex(6)}"

    def _now(self) -> int:
        return int(self.clock())

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        try:
            text = await request.text() if request.method == "POST" else request.query_string
            params = decode_form(text)
            self.requests.append((request.method, request.path, params))
            self._authenticate(request.headers.get("Authorization", ""))
            if self._faults:
                fault = self._faults.pop(0)
                raise _StripeError(fault.status, fault.message, type_=fault.type, code=fault.code)
            request[_PARAMS] = params
            return await handler(request)
        except FormError as exc:
            return _StripeError(400, str(exc), param=exc.param).response()
        except _StripeError as exc:
            return exc.response()

    def _authenticate(self, header: str) -> None:
        scheme, _, key = header.partition(" ")
        if scheme != "Bearer" or not key:
            raise _StripeError(401, "You did not provide an API key.")
        if not secrets.compare_digest(key.encode(), self.api_key.encode()):
            raise _StripeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")

    @staticmethod
    def _params(request: web.Request) -> Json:
        params: Json = request[_PARAMS]
        return params

    # --- customers -------------------------------------------------------------------------

    async def _create_customer(self, request: web.Request) -> web.Response:
        params = self._params(request)
        customer: Json = {
            "id": self._new_id("cus"), "object": "customer", "created": self._now(),
            "email": params.get("email"), "name": params.get("name"), "livemode": False,
            "metadata": _metadata(params.get("metadata"), "metadata"),
        }  # fmt: skip
        self.customers[customer["id"]] = customer
        return web.json_response(customer)

    async def _get_customer(self, request: web.Request) -> web.Response:
        customer_id = request.match_info["id"]
        if customer_id not in self.customers:
            raise _no_such("customer", customer_id)
        return web.json_response(self.customers[customer_id])

    async def _search_customers(self, request: web.Request) -> web.Response:
        query = self._params(request).get("query")
        if not isinstance(query, str) or not query:
            raise _missing("query")
        match = _SEARCH.fullmatch(query.strip())
        if match is None:
            raise _StripeError(400, f"Invalid search query: {query}", param="query")
        key, value = match.groups()
        found = [c for c in self.customers.values() if c["metadata"].get(key) == value]
        limit = int(self._params(request).get("limit", 10))
        return web.json_response(
            {
                "object": "search_result", "url": "/v1/customers/search", "has_more": False,
                "next_page": None, "data": found[:limit],
            }
        )  # fmt: skip

    # --- checkout and portal ---------------------------------------------------------------

    async def _create_checkout(self, request: web.Request) -> web.Response:
        params = self._params(request)
        mode = params.get("mode")
        if mode is None:
            raise _missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise _StripeError(400, f"Invalid mode: {mode}", param="mode")
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        items = params.get("line_items")
        if mode == "subscription" and not items:
            raise _missing("line_items")
        for i, item in enumerate(items or []):
            if not isinstance(item, dict) or not item.get("price"):
                raise _missing(f"line_items[{i}][price]")
        for field in ("success_url",):
            if not params.get(field):
                raise _missing(field)
        session_id = self._new_id("cs_test")
        session = {
            "id": session_id, "object": "checkout.session", "mode": mode,
            "customer": customer, "client_reference_id": params.get("client_reference_id"),
            "metadata": _metadata(params.get("metadata"), "metadata"), "livemode": False,
            "status": "open", "payment_status": "unpaid", "subscription": None,
            "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
            "url": f"{self.base_url}/pay/{session_id}", "created": self._now(),
        }  # fmt: skip
        self.checkout_sessions[session_id] = session
        self._line_items[session_id] = list(items or [])
        data = params.get("subscription_data") or {}
        self._subscription_data[session_id] = {
            "metadata": _metadata(data.get("metadata"), "subscription_data[metadata]")
        }
        return web.json_response(session)

    async def _get_checkout(self, request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        if session_id not in self.checkout_sessions:
            raise _no_such("checkout.session", session_id)
        return web.json_response(self.checkout_sessions[session_id])

    async def _create_portal(self, request: web.Request) -> web.Response:
        params = self._params(request)
        customer = params.get("customer")
        if not customer:
            raise _missing("customer")
        if customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        session_id = self._new_id("bps")
        session = {
            "id": session_id, "object": "billing_portal.session", "customer": customer,
            "return_url": params.get("return_url"), "created": self._now(), "livemode": False,
            "url": f"{self.base_url}/portal/{session_id}", "configuration": "bpc_fake",
        }  # fmt: skip
        self.portal_sessions[session_id] = session
        return web.json_response(session)

    async def _hosted_page(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>Fake Stripe</title>", content_type="text/html"
        )

    # --- subscriptions ---------------------------------------------------------------------

    async def _get_subscription(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        if sub_id not in self.subscriptions:
            raise _no_such("subscription", sub_id)
        return web.json_response(self.subscriptions[sub_id])

    async def _list_subscriptions(self, request: web.Request) -> web.Response:
        customer = self._params(request).get("customer")
        found = [s for s in self.subscriptions.values() if customer in (None, s["customer"])]
        return web.json_response(
            {"object": "list", "url": "/v1/subscriptions", "has_more": False, "data": found}
        )

    # --- what customers do on Stripe's pages (driven by tests) -----------------------------

    def event(self, kind: str, obj: Json, previous: Json | None = None) -> Json:
        """A Stripe event (snapshot payload) of ``kind`` about ``obj``, recorded in `events`."""
        data: Json = {"object": _copy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self._new_id("evt"), "object": "event", "api_version": API_VERSION,
            "created": self._now(), "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind, "data": data,
        }  # fmt: skip
        self.events.append(event)
        return event

    def complete_checkout(self, session_id: str) -> list[Json]:
        """The customer pays: a subscription starts; returns its events in Stripe's order."""
        session = self.checkout_sessions[session_id]
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}")
        customer = session["customer"]
        if customer is None:
            customer = self._new_id("cus")
            self.customers[customer] = {
                "id": customer, "object": "customer", "created": self._now(), "email": None,
                "name": None, "livemode": False, "metadata": {},
            }  # fmt: skip
        now = self._now()
        sub_id = self._new_id("sub")
        items = [
            {
                "id": self._new_id("si"), "object": "subscription_item",
                "price": {"id": item["price"], "object": "price"},
                "quantity": int(item.get("quantity", 1)),
                "current_period_start": now, "current_period_end": now + 30 * 86400,
            }
            for item in self._line_items[session_id]
        ]  # fmt: skip
        subscription = {
            "id": sub_id, "object": "subscription", "customer": customer, "status": "active",
            "metadata": dict(self._subscription_data[session_id]["metadata"]),
            "items": {"object": "list", "data": items, "has_more": False},
            "created": now, "start_date": now, "cancel_at_period_end": False,
            "livemode": False, "latest_invoice": None,
        }  # fmt: skip
        self.subscriptions[sub_id] = subscription
        session.update(
            status="complete", payment_status="paid", subscription=sub_id, customer=customer
        )
        return [
            self.event("customer.subscription.created", subscription),
            self.event("checkout.session.completed", session),
        ]

    def change_price(self, subscription_id: str, price: str) -> Json:
        """The customer switches plan in the portal."""
        sub = self.subscriptions[subscription_id]
        previous = {"items": _copy(sub["items"])}
        sub["items"]["data"][0]["price"] = {"id": price, "object": "price"}
        return self.event("customer.subscription.updated", sub, previous)

    def set_status(self, subscription_id: str, status: str) -> Json:
        """The subscription moves to ``status`` (past_due, unpaid, ...)."""
        sub = self.subscriptions[subscription_id]
        previous = {"status": sub["status"]}
        sub["status"] = status
        return self.event("customer.subscription.updated", sub, previous)

    def cancel(self, subscription_id: str) -> Json:
        """The subscription ends now."""
        sub = self.subscriptions[subscription_id]
        sub.update(status="canceled", canceled_at=self._now(), ended_at=self._now())
        return self.event("customer.subscription.deleted", sub)

    def fail_payment(self, subscription_id: str) -> list[Json]:
        """A renewal payment fails: the invoice event, then the subscription goes past_due."""
        sub = self.subscriptions[subscription_id]
        invoice = {
            "id": self._new_id("in"), "object": "invoice", "customer": sub["customer"],
            "status": "open", "created": self._now(), "attempt_count": 1, "livemode": False,
            "parent": {
                "type": "subscription_details", "quote_details": None,
                "subscription_details": {
                    "subscription": subscription_id, "metadata": dict(sub["metadata"]),
                },
            },
            "lines": {
                "object": "list", "has_more": False,
                "data": [
                    {
                        "id": self._new_id("il"), "object": "line_item",
                        "pricing": {
                            "type": "price_details",
                            "price_details": {"price": item["price"]["id"], "product": "prod_fake"},
                        },
                    }
                    for item in sub["items"]["data"]
                ],
            },
        }  # fmt: skip
        return [
            self.event("invoice.payment_failed", invoice),
            self.set_status(subscription_id, "past_due"),
        ]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
