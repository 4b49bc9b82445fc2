"""Migration r0006 on each backend: a guild's existing contact becomes its billing contact and
still decrypts; existing concierge requests gain empty care fields; the downgrade keeps billing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import URL
from tests.integration.test_sql_bad_input import fresh_url, sqlite_url  # noqa: F401 - fixtures

from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.sql.concierge import SqlConciergeStore
from vectobeat_adapters.sql.contacts import SqlContactStore, contact_context
from vectobeat_adapters.sql.engine import open_database
from vectobeat_adapters.sql.migrate import alembic_config, head_revision, upgrade_database
from vectobeat_core.ids import GuildId
from vectobeat_core.records import Contact

pytestmark = pytest.mark.anyio

GUILD = GuildId(612_345_678_901_234_567)


async def test_contacts_become_billing_contacts_and_requests_gain_care_fields(
    fresh_url: URL,  # noqa: F811 - the fixture
) -> None:
    keys = Keyring.from_config(Keyring.generate_key())
    sealed = {
        column: keys.encrypt(value, contact_context(column, GUILD))
        for column, value in (("name", "Ada"), ("email", "ada@example.org"))
    }
    async with open_database(fresh_url) as db, db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "r0005"))
        await conn.execute(
            sa.text(
                "INSERT INTO vb_contacts (guild_id, name_enc, email_enc, phone_enc, updated_at) "
                "VALUES (:g, :n, :e, NULL, 5.0)"
            ),
            {"g": GUILD, "n": sealed["name"], "e": sealed["email"]},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO vb_concierge_requests (guild_id, kind, subject, body, requested_by, "
                "status, created_at, due_at) VALUES (:g, 'concierge', 'Old', '', 7, 'open', 1, 2)"
            ),
            {"g": GUILD},
        )

    assert await upgrade_database(fresh_url) == head_revision()

    async with open_database(fresh_url) as db:
        [contact] = await SqlContactStore(db, keys).for_guild(GUILD)
        assert (contact.role, contact.name, contact.email, contact.phone) == (
            "billing", "Ada", "ada@example.org", None,
        )  # fmt: skip
        [request] = await SqlConciergeStore(db).find(GUILD)
        assert (request.subject, request.hours, request.contact, request.assignee_id) == (
            "Old", 0.0, "", None,
        )  # fmt: skip
        await SqlContactStore(db, keys).put(
            Contact(GUILD, "Tom", "tom@example.org", None, 6.0, "technical")
        )
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "r0005"))
            rows = (await conn.execute(sa.text("SELECT guild_id FROM vb_contacts"))).all()
        assert [int(r[0]) for r in rows] == [GUILD]  # the billing contact only
