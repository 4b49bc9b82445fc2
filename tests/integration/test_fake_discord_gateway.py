"""The fake gateway at the protocol level, with a plain aiohttp websocket client."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest

from vectobeat_testkit.discord import FakeDiscord, FakeGuild, FakeUser

TOKEN = "gateway-test-token"


class Client:
    """A minimal gateway client that decodes zlib-stream frames like discord.py does."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compressed: bool) -> None:
        self.ws = ws
        self.inflator = zlib.decompressobj() if compressed else None
        self.binary_frames = 0

    async def recv(self) -> dict[str, Any]:
        with anyio.fail_after(5):
            msg = await self.ws.receive()
        if msg.type == aiohttp.WSMsgType.BINARY:
            assert self.inflator is not None
            assert msg.data[-4:] == b"\x00\x00\xff\xff"
            self.binary_frames += 1
            return json.loads(self.inflator.decompress(msg.data))  # type: ignore[no-any-return]
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        return json.loads(msg.data)  # type: ignore[no-any-return]

    async def send(self, op: int, d: Any) -> None:
        await self.ws.send_json({"op": op, "d": d})

    async def identify(self, shard: list[int], token: str = TOKEN) -> dict[str, Any]:
        await self.send(
            2, {"token": token, "intents": 641, "properties": {"os": "linux"}, "shard": shard}
        )
        return await self.recv()

    async def closed_with(self) -> int | None:
        with anyio.fail_after(5):
            msg = await self.ws.receive()
        assert msg.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        ), msg
        return self.ws.close_code


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        token=TOKEN, application_id=1234567890123, heartbeat_interval_ms=500
    ) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def connect(
    fake: FakeDiscord, http: aiohttp.ClientSession, *, compressed: bool = False
) -> Client:
    query = "?v=10&encoding=json" + ("&compress=zlib-stream" if compressed else "")
    ws = await http.ws_connect(fake.gateway_url + query)
    client = Client(ws, compressed)
    hello = await client.recv()
    assert hello == {"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": 500}}
    return client


async def two_guilds(fake: FakeDiscord) -> tuple[FakeUser, FakeGuild, FakeGuild]:
    owner = fake.add_user("owner")
    first = await fake.add_guild(
        name="A", owner=owner, roles=[("DJ", 0)], members=[(fake.add_user("dj"), ["DJ"])]
    )
    second = await fake.add_guild(name="B", owner=owner)
    assert first.shard_id(2) != second.shard_id(2)
    return owner, first, second


@pytest.mark.anyio
async def test_compressed_identify_ready_and_guild_create_for_the_shard(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    _, first, _second = await two_guilds(fake)
    client = await connect(fake, session, compressed=True)
    await client.send(1, None)
    assert (await client.recv())["op"] == 11
    ready = await client.identify([first.shard_id(2), 2])
    assert ready["op"] == 0
    assert ready["t"] == "READY"
    assert ready["s"] == 1
    data = ready["d"]
    assert data["v"] == 10
    assert data["user"]["id"] == str(fake.bot_user.id)
    assert data["user"]["bot"] is True
    assert data["guilds"] == [{"id": str(first.id), "unavailable": True}]
    assert data["shard"] == [first.shard_id(2), 2]
    assert data["resume_gateway_url"] == fake.gateway_url
    assert data["application"]["id"] == "1234567890123"
    create = await client.recv()
    assert create["t"] == "GUILD_CREATE"
    assert create["s"] == 2
    guild = create["d"]
    assert guild["id"] == str(first.id)
    assert guild["owner_id"] == str(first.owner_id)
    assert guild["member_count"] == len(guild["members"]) == 3
    assert {c["type"] for c in guild["channels"]} == {0, 2}
    assert [r["name"] for r in guild["roles"]] == ["@everyone", "DJ"]
    dj = next(m for m in guild["members"] if m["user"]["username"] == "dj")
    assert dj["roles"] == [guild["roles"][1]["id"]]
    assert guild["voice_states"] == []
    assert client.binary_frames == 4
    await client.ws.close()


@pytest.mark.anyio
async def test_bad_token_and_bad_shard_close_the_socket(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    client = await connect(fake, session)
    await client.send(2, {"token": "wrong", "properties": {}, "intents": 0})
    assert await client.closed_with() == 4004
    client = await connect(fake, session)
    await client.send(2, {"token": TOKEN, "properties": {}, "intents": 0, "shard": [2, 2]})
    assert await client.closed_with() == 4010
    client = await connect(fake, session)
    await client.send(4, {"guild_id": "1", "channel_id": None})
    assert await client.closed_with() == 4003


@pytest.mark.anyio
async def test_resume_replays_missed_dispatches(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    owner, first, _ = await two_guilds(fake)
    client = await connect(fake, session)
    ready = await client.identify([0, 1])
    session_id = ready["d"]["session_id"]
    seen = [ready["s"], (await client.recv())["s"], (await client.recv())["s"]]
    assert seen == [1, 2, 3]
    await client.ws.close()
    voice = next(c for c in first.channels if c.is_voice)
    await fake.set_voice(guild_id=first.id, user_id=owner.id, channel_id=voice.id)
    await fake.set_voice(guild_id=first.id, user_id=owner.id, channel_id=None)

    client = await connect(fake, session)
    await client.send(6, {"token": TOKEN, "session_id": session_id, "seq": 3})
    joined, left, resumed = await client.recv(), await client.recv(), await client.recv()
    assert (joined["t"], joined["s"], joined["d"]["channel_id"]) == (
        "VOICE_STATE_UPDATE",
        4,
        str(voice.id),
    )
    assert joined["d"]["member"]["user"]["id"] == str(owner.id)
    assert (left["t"], left["s"], left["d"]["channel_id"]) == ("VOICE_STATE_UPDATE", 5, None)
    assert (resumed["t"], resumed["s"]) == ("RESUMED", 6)

    client = await connect(fake, session)
    await client.send(6, {"token": TOKEN, "session_id": "nope", "seq": 1})
    assert await client.recv() == {"op": 9, "s": None, "t": None, "d": False}


@pytest.mark.anyio
async def test_voice_state_update_gets_state_and_server(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    _, first, _ = await two_guilds(fake)
    voice = next(c for c in first.channels if c.is_voice)
    client = await connect(fake, session)
    await client.identify([0, 1])
    await client.recv()
    await client.recv()
    await client.send(
        4,
        {
            "guild_id": str(first.id),
            "channel_id": str(voice.id),
            "self_mute": False,
            "self_deaf": True,
        },
    )
    state, server = await client.recv(), await client.recv()
    assert state["t"] == "VOICE_STATE_UPDATE"
    assert state["d"]["user_id"] == str(fake.bot_user.id)
    assert state["d"]["self_deaf"] is True
    assert state["d"]["guild_id"] == str(first.id)
    assert state["d"]["session_id"]
    assert server["t"] == "VOICE_SERVER_UPDATE"
    assert server["d"]["guild_id"] == str(first.id)
    assert server["d"]["token"]
    assert server["d"]["endpoint"]
    await client.send(4, {"guild_id": str(first.id), "channel_id": None})
    left = await client.recv()
    assert left["t"] == "VOICE_STATE_UPDATE"
    assert left["d"]["channel_id"] is None
    assert fake.bot_user.id not in first.voice_states


@pytest.mark.anyio
async def test_reconnect_invalid_session_and_member_chunks(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    _, first, _ = await two_guilds(fake)
    client = await connect(fake, session)
    await client.identify([0, 1])
    await client.recv()
    await client.recv()
    await client.send(8, {"guild_id": str(first.id), "query": "d", "limit": 0, "nonce": "n1"})
    chunk = await client.recv()
    assert chunk["t"] == "GUILD_MEMBERS_CHUNK"
    assert chunk["d"]["nonce"] == "n1"
    assert [m["user"]["username"] for m in chunk["d"]["members"]] == ["dj"]
    await fake.reconnect(0)
    assert (await client.recv())["op"] == 7
    await fake.invalidate_session(0)
    assert await client.recv() == {"op": 9, "s": None, "t": None, "d": False}


@pytest.mark.anyio
async def test_a_stalled_shard_gets_no_ack_nor_events_and_stops_counting_as_ready(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    _, first, _second = await two_guilds(fake)
    shard = first.shard_id(2)
    client = await connect(fake, session)
    await client.identify([shard, 2])
    assert (await client.recv())["t"] == "GUILD_CREATE"
    assert fake.gateway.ready_shards() == [shard]
    fake.stall_shard(shard)
    assert fake.gateway.ready_shards() == []
    await client.send(1, 2)  # a heartbeat the stalled connection never answers
    await fake.set_voice(guild_id=first.id, user_id=int(first.owner_id), channel_id=None)
    with anyio.move_on_after(0.6) as waited:
        await client.ws.receive()
    assert waited.cancelled_caught, "a stalled connection sent a frame"


@pytest.mark.anyio
async def test_a_connection_silent_for_two_heartbeat_intervals_is_timed_out(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    client = await connect(fake, session)  # then sends nothing, like a frozen process
    assert await client.closed_with() == 4009


@pytest.mark.anyio
async def test_two_live_sessions_for_one_shard_are_recorded(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    first = await connect(fake, session)
    await first.identify([0, 1])
    fake.gateway.assert_single_sessions()
    second = await connect(fake, session)
    await second.identify([0, 1])
    with pytest.raises(AssertionError, match="two live gateway sessions"):
        fake.gateway.assert_single_sessions()
    [overlap] = fake.gateway.overlaps
    assert (overlap.shard_id, overlap.how) == (0, "identify")
    assert overlap.live_session != overlap.new_session


@pytest.mark.anyio
async def test_a_shard_identified_again_after_its_connection_closed_is_no_overlap(
    fake: FakeDiscord, session: aiohttp.ClientSession
) -> None:
    first = await connect(fake, session)
    await first.identify([0, 1])
    await first.ws.close()
    with anyio.fail_after(5):
        while fake.gateway.ready_shards():  # noqa: ASYNC110 - the server notices the close
            await anyio.sleep(0.01)
    second = await connect(fake, session)
    await second.identify([0, 1])
    fake.gateway.assert_single_sessions()
