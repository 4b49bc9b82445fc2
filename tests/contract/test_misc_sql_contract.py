"""Guilds, contacts, concierge and compliance stores: one contract, every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.contract.conftest import Stores
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.contacts import SqlContactStore
from vectobeat_adapters.sql.rotation import rotate_all
from vectobeat_adapters.sql.schema import compliance_requests, contacts
from vectobeat_core.errors import ConfigError, InvalidInput, NotFound
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.records import Contact, GuildRecord

pytestmark = pytest.mark.anyio

GUILD = GuildId(412_345_678_901_234_567)
OTHER = GuildId(998_877_665_544_332_211)
USER = UserId(111_222_333_444_555_666)
NOW = 1_700_000_000.0


async def test_guilds_upsert_tier_and_presence(stores: Stores) -> None:
    assert await stores.guilds.get(GUILD) is None
    first = GuildRecord(GUILD, "Lo-fi Lounge", Tier.FREE, True, NOW)
    await stores.guilds.upsert(first)
    await stores.guilds.upsert(GuildRecord(OTHER, "Metal Hall", Tier.GROWTH, False, NOW))
    assert await stores.guilds.get(GUILD) == first

    upgraded = await stores.guilds.set_tier(GUILD, Tier.PRO, NOW + 1)
    assert (upgraded.tier, upgraded.updated_at, upgraded.name) == (
        Tier.PRO,
        NOW + 1,
        "Lo-fi Lounge",
    )
    gone = await stores.guilds.set_bot_present(GUILD, False, NOW + 2)
    assert not gone.bot_present and gone.tier == Tier.PRO
    assert await stores.guilds.get(GUILD) == gone

    await stores.guilds.upsert(GuildRecord(GUILD, "Renamed", Tier.SCALE, True, NOW + 3))
    assert [g.name for g in await stores.guilds.all()] == ["Renamed", "Metal Hall"]
    assert [g.guild_id for g in await stores.guilds.all(Tier.GROWTH)] == [OTHER]
    with pytest.raises(NotFound):
        await stores.guilds.set_tier(GuildId(5), Tier.PRO, NOW)
    await stores.guilds.ping()


async def test_contacts_round_trip_and_delete(stores: Stores) -> None:
    contact = Contact(GUILD, "Ada", "ada@example.org", "+1 555 0100", NOW, entered_by=USER)
    await stores.contacts.put(contact)
    await stores.contacts.put(Contact(OTHER, "Bob", "bob@example.org", None, NOW))
    assert await stores.contacts.get(GUILD, "billing") == contact
    changed = Contact(GUILD, "Ada L.", "ada@example.net", None, NOW + 5)
    await stores.contacts.put(changed)
    assert await stores.contacts.get(GUILD, "billing") == changed
    assert await stores.contacts.get(GUILD, "technical") is None

    assert await stores.contacts.delete(GUILD)
    assert not await stores.contacts.delete(GUILD)
    assert await stores.contacts.get(GUILD, "billing") is None
    assert await stores.contacts.get(OTHER, "billing") is not None
    await stores.contacts.ping()


async def test_contacts_one_per_role(stores: Stores) -> None:
    escalation = Contact(GUILD, "Eve", "eve@example.org", "+44 20", NOW, "escalation", USER)
    technical = Contact(GUILD, "Tom", "tom@example.org", None, NOW, "technical")
    billing = Contact(GUILD, "Bea", "bea@example.org", None, NOW, "billing")
    for contact in (escalation, technical, billing):
        await stores.contacts.put(contact)
    assert await stores.contacts.for_guild(GUILD) == [billing, technical, escalation]
    assert await stores.contacts.for_guild(OTHER) == []
    assert await stores.contacts.delete(GUILD, "technical")
    assert not await stores.contacts.delete(GUILD, "technical")
    assert await stores.contacts.for_guild(GUILD) == [billing, escalation]
    with pytest.raises(InvalidInput):
        await stores.contacts.put(Contact(GUILD, "X", "x@example.org", None, NOW, "boss"))  # type: ignore[arg-type]


async def test_concierge_hours_schedule_assignee_and_alarm_claim(stores: Stores) -> None:
    request = await stores.concierge.open(
        GUILD, "concierge", subject="Tune", body="", requested_by=USER, now=NOW,
        due_at=NOW + 60, hours=1.5, contact="ada@example.org",
    )  # fmt: skip
    assert (request.hours, request.contact, request.scheduled_at) == (1.5, "ada@example.org", None)
    scheduled = await stores.concierge.schedule(request.request_id, NOW + 86_400)
    assert scheduled.scheduled_at == NOW + 86_400
    assigned = await stores.concierge.assign(request.request_id, USER, "Sam Staff")
    assert (assigned.assignee_id, assigned.assignee_name) == (USER, "Sam Staff")
    assert await stores.concierge.claim_sla_alarm(request.request_id, NOW + 61)
    assert not await stores.concierge.claim_sla_alarm(request.request_id, NOW + 62)
    resolved = await stores.concierge.set_status(request.request_id, "resolved", NOW + 70, hours=2)
    assert (resolved.hours, resolved.resolved_at, resolved.sla_alarmed_at) == (
        2,
        NOW + 70,
        NOW + 61,
    )
    assert await stores.concierge.get(request.request_id) == resolved
    with pytest.raises(NotFound):
        await stores.concierge.schedule(10**9, NOW)
    with pytest.raises(NotFound):
        await stores.concierge.assign(10**9, USER, "Sam")
    assert not await stores.concierge.claim_sla_alarm(10**9, NOW)
    with pytest.raises(InvalidInput):
        await stores.concierge.assign(request.request_id, USER, " ")
    with pytest.raises(InvalidInput):
        await stores.concierge.set_status(request.request_id, "resolved", NOW, hours=-1)


async def test_concierge_requests_carry_their_sla(stores: Stores) -> None:
    first = await stores.concierge.open(
        GUILD, "concierge", subject="Set up", body="Help with regions", requested_by=USER,
        now=NOW, due_at=NOW + 3600,
    )  # fmt: skip
    pod = await stores.concierge.open(
        OTHER, "success_pod", subject="Quarterly", body="", requested_by=USER,
        now=NOW, due_at=NOW + 600,
    )  # fmt: skip
    assert first.request_id != pod.request_id
    assert await stores.concierge.get(first.request_id) == first
    assert await stores.concierge.get(10**9) is None
    assert [r.request_id for r in await stores.concierge.find()] == [
        pod.request_id,
        first.request_id,
    ]
    assert [r.request_id for r in await stores.concierge.find(GUILD)] == [first.request_id]

    assert await stores.concierge.overdue(NOW + 601) == [pod]
    assert [r.request_id for r in await stores.concierge.overdue(NOW + 4000)] == [
        pod.request_id,
        first.request_id,
    ]
    resolved = await stores.concierge.set_status(pod.request_id, "resolved", NOW + 700)
    assert (resolved.status, resolved.resolved_at) == ("resolved", NOW + 700)
    assert await stores.concierge.overdue(NOW + 4000) == [first]
    assert await stores.concierge.find(status="resolved") == [resolved]
    with pytest.raises(NotFound):
        await stores.concierge.set_status(10**9, "open", NOW)
    with pytest.raises(InvalidInput):
        await stores.concierge.open(
            GUILD,
            "bogus",  # type: ignore[arg-type]
            subject="x",
            body="",
            requested_by=USER,
            now=NOW,
            due_at=NOW,
        )
    await stores.concierge.ping()


async def test_compliance_requests_lifecycle(stores: Stores) -> None:
    request = await stores.compliance.open(
        GUILD, "export", requested_by=USER, email="dpo@example.org", now=NOW
    )
    assert (request.status, request.email, request.completed_at) == (
        "pending",
        "dpo@example.org",
        None,
    )
    assert await stores.compliance.get(request.request_id) == request
    running = await stores.compliance.set_status(request.request_id, "running", NOW + 1)
    assert running.completed_at is None
    sent = await stores.compliance.set_status(request.request_id, "sent", NOW + 2, "3 files")
    assert (sent.status, sent.detail, sent.completed_at) == ("sent", "3 files", NOW + 2)
    other = await stores.compliance.open(
        OTHER, "delete", requested_by=USER, email="x@example.org", now=NOW + 3
    )
    assert await stores.compliance.find() == [sent, other]
    assert await stores.compliance.find(status="pending") == [other]
    assert await stores.compliance.find(GUILD) == [sent]
    with pytest.raises(NotFound):
        await stores.compliance.set_status(10**9, "sent", NOW)
    with pytest.raises(InvalidInput):
        await stores.compliance.set_status(request.request_id, "done", NOW)  # type: ignore[arg-type]
    await stores.compliance.ping()


async def _raw(stores: Stores, table: sa.Table) -> list[dict[str, object]]:
    assert stores.db is not None
    async with stores.db.engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(sa.select(table))]


async def test_sensitive_fields_are_encrypted_at_rest(sql_stores: Stores) -> None:
    await sql_stores.contacts.put(Contact(GUILD, "Ada", "ada@example.org", "+1 555", NOW))
    await sql_stores.compliance.open(GUILD, "export", requested_by=USER, email="dpo@x.org", now=NOW)
    [contact_row] = await _raw(sql_stores, contacts)
    [request_row] = await _raw(sql_stores, compliance_requests)
    stored = " ".join(str(v) for v in [*contact_row.values(), *request_row.values()])
    for plaintext in ("Ada", "ada@example.org", "+1 555", "dpo@x.org"):
        assert plaintext not in stored
    assert str(contact_row["email_enc"]).startswith("v1.k1.")


async def test_missing_key_refuses_to_write(sql_stores: Stores) -> None:
    assert sql_stores.db is not None
    keyless = SqlContactStore(sql_stores.db, Keyring.from_config(None))
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        await keyless.put(Contact(GUILD, "Ada", "ada@example.org", None, NOW))
    assert await _raw(sql_stores, contacts) == []


async def test_rotation_reencrypts_under_the_new_primary(sql_stores: Stores) -> None:
    assert sql_stores.db is not None and sql_stores.keyring is not None
    old = sql_stores.keyring
    await sql_stores.contacts.put(Contact(GUILD, "Ada", "ada@example.org", "+1 555", NOW))
    await sql_stores.compliance.open(GUILD, "export", requested_by=USER, email="dpo@x.org", now=NOW)

    fresh_key = Keyring.generate_key()
    rotated = Keyring.from_config(f"k2:{fresh_key},k1:{_key_text(old, 'k1')}")
    assert await rotate_all(sql_stores.db, rotated) == 4
    assert await rotate_all(sql_stores.db, rotated) == 0

    only_new = Keyring.from_config(f"k2:{fresh_key}")
    store = SqlContactStore(sql_stores.db, only_new)
    contact = await store.get(GUILD, "billing")
    assert contact is not None and contact.email == "ada@example.org"
    [row] = await _raw(sql_stores, contacts)
    assert str(row["name_enc"]).startswith("v1.k2.")


def _key_text(keyring: Keyring, key_id: str) -> str:
    import base64

    raw = keyring._keys[key_id]
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
