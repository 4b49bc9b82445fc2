"""/compliance in Discord, end to end: the bot process (fake Discord, fake Lavalink) asks the
panel's compliance desk through the bridge; mail goes to a real SMTP server on 127.0.0.1. A
plain member is refused; the owner's export arrives and parses; an erasure is confirmed with the
mailed token (a wrong token is refused and erases nothing) and the guild's data is gone."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from tests.e2e.conftest import bot_world, running_bot
from tests.smtp_support import SENDER, MailBox, settings_for, smtp_server

from vectobeat_adapters.compliance.desk import ComplianceDesk
from vectobeat_adapters.compliance.export import read_archive
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.mail import SmtpMailer
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


async def mails(box: MailBox, count: int) -> None:
    with anyio.fail_after(20):
        while len(box.mails) < count:  # noqa: ASYNC110 - the mail server runs in a thread
            await anyio.sleep(0.05)


def token_in(box: MailBox) -> str:
    body = box.mails[-1].get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text.split("token:", 1)[1].split(maxsplit=1)[0]


async def test_compliance_commands_export_and_erase_through_the_panel(tmp_path: Path) -> None:
    with smtp_server() as (box, port, _):
        async with bot_world(tmp_path, redis_url=None) as w, anyio.create_task_group() as tasks:
            guild = await w.add_guild("care", Tier.GROWTH)
            gid = GuildId(guild.id)
            for n in range(500):
                await w.services.audit.append(
                    AuditEvent(AuditKind.SETTINGS_CHANGED, 1.0 + n, gid, "user:1", f"edit {n}")
                )
            desk = ComplianceDesk(  # the panel's desk, with mail to the local server
                w.services,
                ArchiveVault(tmp_path / "exports", Keyring.from_config(Keyring.generate_key())),
                SmtpMailer(lambda: settings_for(port, "none")),
                link_base=w.panel_url,
                secret=b"e2e-secret",
            )
            w.panel.compliance = desk
            await tasks.start(desk.run)
            async with running_bot(w):
                refused = await w.run(
                    guild, guild.member, "compliance export", {"email": "dpo@example.com"}
                )
                assert refused.ephemeral and "Manage Server" in refused.content, refused.content
                bad = await w.run(guild, guild.owner, "compliance export", {"email": "nope"})
                assert bad.ephemeral and "e-mail address" in bad.content, bad.content

                asked = await w.run(
                    guild, guild.owner, "compliance export", {"email": "dpo@example.com"}
                )
                assert asked.ephemeral and "is being built" in asked.content, asked.content
                await mails(box, 1)
                [part] = list(box.mails[0].iter_attachments())
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                assert len(read_archive(payload)["audit_log"]) == 501
                assert box.mails[0]["From"] == SENDER

                asked = await w.run(
                    guild, guild.owner, "compliance delete", {"email": "dpo@example.com"}
                )
                assert "waits for its confirmation" in asked.content, asked.content
                await mails(box, 2)
                request_id = int(asked.content.split("#", 1)[1].split()[0])
                wrong = await w.run(
                    guild, guild.owner, "compliance confirm",
                    {"request": request_id, "token": "0" * 20},
                )  # fmt: skip
                assert wrong.ephemeral and "does not confirm" in wrong.content, wrong.content
                assert await w.services.audit.recent(gid, 10) != []
                done = await w.run(
                    guild, guild.owner, "compliance confirm",
                    {"request": request_id, "token": token_in(box)},
                )  # fmt: skip
                assert "confirmed" in done.content, done.content
                await mails(box, 3)
                status = await w.run(guild, guild.owner, "compliance status")
                assert status.ephemeral and f"#{request_id} erasure: sent" in status.content
            tasks.cancel_scope.cancel()
    events = await w.services.audit.recent(gid, 1000)
    assert {e.kind for e in events} == {AuditKind.COMPLIANCE_DELETE}
    assert await w.services.settings.get(gid) is None
