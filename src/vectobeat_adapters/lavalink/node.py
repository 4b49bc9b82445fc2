"""One Lavalink v4 node: REST calls and a websocket that reconnects and resumes its session.

Why not pomice's ``Node``: it needs a logged-in discord.py ``Bot`` (it reads ``bot.user`` when built
and waits for ``wait_until_ready`` before connecting), destroys every player when its websocket
closes, deletes itself from the pool on disconnect, reconnects without ``Session-Id`` (so a v4
session is never resumed), and raises REST errors that drop the HTTP status and crash on a non-JSON
body. Overriding all of that would leave nothing of it, so this client speaks the same protocol
with aiohttp directly (pomice is measured against it in ``bench/failover_bench.py``).

A node whose ``/version`` is not Lavalink 4.x is *unusable*: ``problem`` says why and the
websocket is not opened (it is re-checked after a back-off, in case the node gets upgraded).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import anyio
import tenacity

from vectobeat_adapters.lavalink.node_errors import (
    NodeRequestError,
    check_version,
    describe_handshake_error,
    error_message,
)
from vectobeat_adapters.retrying import EqualJitter
from vectobeat_core.errors import InvalidInput, NodeUnavailable
from vectobeat_core.ids import NodeName
from vectobeat_core.lavalink_fields import flag, text
from vectobeat_core.routing import NodeSpec, NodeStats

__all__ = [
    "Backoff",
    "NodeClient",
    "NodeHandler",
    "NodeRequestError",
    "check_version",
    "describe_handshake_error",
]

_log = logging.getLogger("vectobeat.lavalink")

Backoff = EqualJitter
"""Reconnect delays: exponential with equal jitter (``Backoff(base_s, cap_s, rng)``)."""


class NodeHandler(Protocol):
    """What the node tells its owner (the cluster). Calls arrive in websocket order."""

    async def node_ready(self, node: NodeClient, resumed: bool) -> None: ...

    async def node_closed(self, node: NodeClient, reason: str) -> None: ...

    async def node_stats(self, node: NodeClient, stats: NodeStats) -> None: ...

    async def node_message(self, node: NodeClient, op: str, payload: Mapping[str, Any]) -> None:
        """``playerUpdate`` and ``event`` ops."""

    async def node_bad_payload(self, node: NodeClient, problem: str) -> None: ...


class NodeClient:
    """REST and websocket of one node; ``run()`` keeps the websocket up until cancelled."""

    def __init__(
        self,
        spec: NodeSpec,
        *,
        user_id: int,
        client_name: str,
        http: aiohttp.ClientSession,
        handler: NodeHandler,
        backoff: Backoff | None = None,
        request_timeout_s: float = 5.0,
        connect_timeout_s: float = 5.0,
        resume_timeout_s: int = 60,
        heartbeat_s: float = 30.0,
    ) -> None:
        self.spec = spec
        self._user_id = user_id
        self._client_name = client_name
        self._http = http
        self._handler = handler
        self._backoff = backoff or Backoff()
        self.request_timeout_s = request_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._resume_timeout_s = resume_timeout_s
        self._heartbeat_s = heartbeat_s
        self.session_id: str | None = None
        self.connected = False
        self.problem: str | None = None
        self.version: str | None = None
        self.last_heard = 0.0
        """``time.monotonic()`` when the node last sent anything (a websocket message or a REST
        answer): how the health checker tells a busy node from a silent one."""
        self.resume_problem: str | None = None
        """Why the node did not agree to resume its session (``None``: it did, or not asked)."""
        self.resume_http_status: int | None = None
        """The HTTP status of that refusal (``None``: no refusal, or no answer at all)."""
        self.connects = 0
        self.resumes = 0
        self._failed_connects = 0
        self._ready = anyio.Event()

    def __repr__(self) -> str:
        return f"<NodeClient {self.spec.name} {self.spec.uri} connected={self.connected}>"

    @property
    def name(self) -> NodeName:
        return self.spec.name

    async def wait_ready(self) -> None:
        """Until the first ``ready`` op (bound it with ``anyio.fail_after``)."""
        await self._ready.wait()

    # -- REST ----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        expect_json: bool = True,
    ) -> Any:
        """Call the node; JSON (or text) back, ``NodeUnavailable``/``NodeRequestError`` if not."""
        timeout = self.request_timeout_s if timeout_s is None else timeout_s
        where = f"Lavalink node {self.spec.name}"
        headers = {"Authorization": self.spec.password}
        try:
            with anyio.fail_after(timeout):
                async with self._http.request(
                    method,
                    self.spec.uri + path,
                    json=body,
                    params=query,
                    headers=headers,
                ) as response:
                    status = response.status
                    text = await response.text()
                    self.last_heard = time.monotonic()
        except TimeoutError:
            raise NodeUnavailable(
                f"{where} did not answer {method} {path} within {timeout:g} s"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise NodeUnavailable(f"{where} is unreachable ({type(exc).__name__})") from None
        except ValueError:  # an undecodable body
            raise NodeUnavailable(
                f"{where} answered {method} {path} with unreadable bytes"
            ) from None
        if status >= 400:
            message = error_message(text)
            raise NodeRequestError(
                f"{where} refused {method} {path}: HTTP {status} {message}", status
            )
        if not expect_json:
            return text
        if status == 204 or not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise NodeUnavailable(
                f"{where} answered {method} {path} with something that is not JSON"
            ) from None

    async def check_version(self) -> str | None:
        """Read ``/version``; set and return ``problem`` (``None`` when it is Lavalink 4.x)."""
        text = await self.request("GET", "/version", expect_json=False)
        self.version = str(text).strip()[:40]
        self.problem = check_version(self.spec.name, str(text))
        return self.problem

    # -- websocket -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, listen, and reconnect with jittered back-off (forever), resuming the session.

        Every connection's end is logged in `_connect_once`; tenacity waits `Backoff` between
        them, from its first step again after a connection that got as far as ``ready``."""
        reconnect = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(lambda _ended: True),
            stop=tenacity.stop_never,
            wait=self._reconnect_delay,
            sleep=anyio.sleep,
        )
        await reconnect(self._connect_once)

    def _reconnect_delay(self, _state: tenacity.RetryCallState) -> float:
        delay = self._backoff.delay(self._failed_connects)
        self._failed_connects += 1
        return delay

    async def _connect_once(self) -> None:
        """One connection, until it ends; a bug is logged here, never ends the reconnecting."""
        try:
            if await self.check_version() is None:
                if await self._connect_and_listen():
                    self._failed_connects = 0
            else:
                _log.error("lavalink_node_unusable node=%s problem=%s", self.name, self.problem)
        except NodeUnavailable as exc:
            _log.warning("lavalink_node_connect_failed node=%s error=%s", self.name, exc)
        except aiohttp.WSServerHandshakeError as exc:
            _log.warning(
                "lavalink_node_connect_failed node=%s error=%s",
                self.name,
                describe_handshake_error(exc),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            _log.warning(
                "lavalink_node_connect_failed node=%s error=%s", self.name, type(exc).__name__
            )
        except Exception:  # a bug must not end the reconnecting (and the cluster with it)
            _log.exception("lavalink_node_loop_failed node=%s", self.name)

    async def _connect_and_listen(self) -> bool:
        """One websocket connection; True when it got as far as ``ready``."""
        headers = {
            "Authorization": self.spec.password,
            "User-Id": str(self._user_id),
            "Client-Name": self._client_name,
        }
        if self.session_id is not None:
            headers["Session-Id"] = self.session_id
        with anyio.fail_after(self._connect_timeout_s):
            ws = await self._http.ws_connect(
                self.spec.websocket_uri, headers=headers, heartbeat=self._heartbeat_s
            )
        got_ready = False
        reason = "websocket closed"
        try:
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    got_ready = await self._dispatch(message.data) or got_ready
                elif message.type is aiohttp.WSMsgType.ERROR:
                    reason = f"websocket error ({type(ws.exception()).__name__})"
                    break
            if ws.close_code is not None:
                reason = f"websocket closed (code {ws.close_code})"
        finally:
            with anyio.CancelScope(shield=True):
                await ws.close()
                if got_ready:
                    self.connected = False
                    await self._handler.node_closed(self, reason)
        return got_ready

    async def _dispatch(self, text: str) -> bool:
        """Handle one message; True for ``ready``. Bad payloads are reported, never raised."""
        self.last_heard = time.monotonic()
        try:
            payload = json.loads(text)
        except ValueError:
            await self._handler.node_bad_payload(self, "a websocket message that is not JSON")
            return False
        if not isinstance(payload, dict) or not isinstance(payload.get("op"), str):
            await self._handler.node_bad_payload(self, "a websocket message without an op")
            return False
        op = payload["op"]
        if op == "ready":
            return await self._on_ready(payload)
        if op == "stats":
            try:
                stats = NodeStats.from_lavalink(payload)
            except InvalidInput as exc:
                await self._handler.node_bad_payload(self, str(exc))
                return False
            await self._handler.node_stats(self, stats)
        elif op in ("playerUpdate", "event"):
            await self._handler.node_message(self, op, payload)
        else:
            await self._handler.node_bad_payload(self, f"unknown op {op[:40]!r}")
        return False

    async def _on_ready(self, payload: Mapping[str, Any]) -> bool:
        session_id = text(payload.get("sessionId"), "")
        if not session_id:
            await self._handler.node_bad_payload(self, "a ready op without a sessionId")
            return False
        resumed = flag(payload.get("resumed"), False) and session_id == self.session_id
        self.session_id = session_id
        self.connected = True
        self.connects += 1
        if resumed:
            self.resumes += 1
        else:
            await self._configure_resuming(session_id)
        _log.info("lavalink_node_ready node=%s resumed=%s", self.name, resumed)
        self._ready.set()
        await self._handler.node_ready(self, resumed)
        return True

    async def _configure_resuming(self, session_id: str) -> None:
        """Ask the node to keep the session through a disconnect. A node that refuses (some
        Lavalink-compatible servers answer 404) still plays: it just does not resume, which
        is logged once and shown by ``nodes check`` (`resume_problem`)."""
        try:
            await self.request(
                "PATCH",
                f"/v4/sessions/{session_id}",
                body={"resuming": True, "timeout": self._resume_timeout_s},
            )
        except NodeUnavailable as exc:
            if self.resume_problem is None:
                _log.warning("lavalink_node_does_not_resume node=%s why=%s", self.name, exc)
            self.resume_problem = str(exc)
            self.resume_http_status = exc.http_status if isinstance(exc, NodeRequestError) else None
        else:
            self.resume_problem = None
            self.resume_http_status = None

    @property
    def resumes_sessions(self) -> bool | None:
        """Whether the node agreed to resume its session (``None`` before the first ready)."""
        if self.session_id is None:
            return None
        return self.resume_problem is None
