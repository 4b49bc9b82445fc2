"""The compliance desk against a real SMTP server on 127.0.0.1 (aiosmtpd): a guild with 10,000
audit events is exported, mailed and parsed (as an attachment, and as a signed link whose
encrypted archive decrypts); SMTP credentials are read on every send and the previous password
is accepted during a rotation; STARTTLS and implicit TLS; a confirmed deletion erases the guild
from every store (each one read back) and only that guild."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from tests.contract.test_playlists_contract import playlist
from tests.contract.test_queue_store_contract import PLAYER
from tests.contract.test_settings_contract import record
from tests.contract.test_webhook_log_contract import attempt
from tests.smtp_support import SENDER, settings_for, smtp_server

from vectobeat_adapters.compliance.desk import ComplianceDesk, DeskOptions
from vectobeat_adapters.compliance.export import SECTIONS, read_archive
from vectobeat_adapters.compliance.tombstones import tombstone_of
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.config import load_config
from vectobeat_adapters.crypto import Keyring
from vectobeat_adapters.mail import (
    MailUnavailable,
    SmtpMailer,
    SmtpSettings,
    smtp_from_environment,
)
from vectobeat_adapters.services import Services, memory_services
from vectobeat_adapters.telemetry_names import guild_documents
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import InvalidInput, NotEnabled, NotFound, PermissionDenied
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier
from vectobeat_core.queue import GuildQueue
from vectobeat_core.records import Contact, GuildRecord

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

GUILD, OTHER = GuildId(412_345_678_901_234_567), GuildId(998_877_665_544_332_211)
ADMIN = UserId(111_222_333_444_555_666)
EVENTS = 10_000
KEYS = Keyring.from_config(f"k1:{Keyring.generate_key()}")


async def fill(services: Services, guild: GuildId, audit_events: int = 3) -> None:
    now = services.clock.now()
    name = "Demo Guild" if guild == GUILD else "Other Guild"
    await services.guilds.upsert(GuildRecord(guild, name, Tier.GROWTH, True, now))
    await services.settings.put(record(guild, 1), 0)
    for n in range(audit_events):
        await services.audit.append(
            AuditEvent(AuditKind.SETTINGS_CHANGED, now + n, guild, f"user:{n}", f"change {n}")
        )
    await services.playlists.create(playlist("Mix", guild))
    await services.tokens.issue(guild, "ci", ["queue:read"], now=now)
    await services.contacts.put(Contact(guild, "Ada", "ada@example.org", None, now))
    await services.concierge.open(
        guild, "concierge", subject="Help", body="b", requested_by=ADMIN, now=now, due_at=now + 60
    )
    await services.webhook_log.append(attempt(guild, 1))
    for name in guild_documents(guild):
        await services.telemetry.put(name, {"guild": str(guild)}, 600)
    await services.queues.save(GuildQueue(guild).snapshot(PLAYER, now))


def desk_for(
    services: Services, tmp: Path, settings: SmtpSettings, **options: float
) -> ComplianceDesk:
    return ComplianceDesk(
        services,
        ArchiveVault(tmp / "exports", KEYS),
        SmtpMailer(lambda: settings),
        link_base="https://panel.example",
        secret=b"s" * 32,
        options=DeskOptions(**options),  # type: ignore[arg-type]
    )


def zip_of(mail: EmailMessage) -> bytes:
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "vectobeat-export.zip"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


async def test_an_export_of_10000_audit_events_arrives_as_an_attachment_and_parses(
    tmp_path: Path,
) -> None:
    services = memory_services()
    await fill(services, GUILD, EVENTS)
    await fill(services, OTHER)
    with smtp_server() as (box, port, _):
        desk = desk_for(services, tmp_path, settings_for(port, "none"))
        opened = await desk.request(GUILD, "export", ADMIN, " dpo@example.com ")
        done = await desk.process(opened.request_id)
        assert done.status == "sent", done.detail
        assert f"export of {EVENTS + 9} rows mailed (attached" in done.detail
        assert await desk.process(opened.request_id) == done  # queued twice: sent once
        [mail] = box.mails
    assert mail["To"] == "dpo@example.com" and mail["From"] == SENDER
    sections = read_archive(zip_of(mail))
    assert set(sections) == {name for name, _ in SECTIONS}
    audit = sections["audit_log"]
    assert len(audit) == EVENTS + 1  # and the export request's own audit event
    assert {row["guild_id"] for row in audit} == {str(GUILD)}
    assert sections["settings_history"][0]["guild_id"] == str(GUILD)
    assert [t["name"] for t in sections["api_tokens"]] == ["ci"]
    assert all("secret" not in t and "hash" not in t for t in sections["api_tokens"])
    assert sections["account_contact"][0]["email"] == "ada@example.org"
    with zipfile.ZipFile(io.BytesIO(zip_of(mail))) as archive:
        csv_lines = archive.read("audit_log.csv").decode().splitlines()
    assert len(csv_lines) == EVENTS + 2 and csv_lines[0].startswith("actor,")
    # stored encrypted at rest: the file is no zip, and it decrypts to the mailed one
    stored = (tmp_path / "exports" / f"export-{opened.request_id}.vbx").read_bytes()
    # (a zip starts "PK\x03\x04"; "PK" may well occur by chance inside the base64 ciphertext)
    assert stored.startswith(b"v1.") and not zipfile.is_zipfile(io.BytesIO(stored))
    assert await desk.vault.get(GUILD, opened.request_id) == zip_of(mail)


async def test_a_large_export_is_a_signed_expiring_link_to_the_encrypted_archive(
    tmp_path: Path,
) -> None:
    services = memory_services()
    await fill(services, GUILD, EVENTS)
    with smtp_server() as (box, port, _):
        desk = desk_for(services, tmp_path, settings_for(port, "none"), attachment_max_bytes=1000)
        opened = await desk.request(GUILD, "export", ADMIN, "dpo@example.com")
        assert (await desk.process(opened.request_id)).status == "sent"
        [mail] = box.mails
    assert list(mail.iter_attachments()) == []
    body = mail.get_body(("plain",))
    assert body is not None
    [link] = [w for w in body.get_content().split() if w.startswith("https://panel.example/")]
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    request_id = int(parts.path.rsplit("/", 1)[1])
    now = services.clock.now()
    data = await desk.download(request_id, query["expires"], query["signature"], now)
    assert len(read_archive(data)["audit_log"]) == EVENTS + 1
    with pytest.raises(PermissionDenied, match="not valid"):
        await desk.download(request_id, query["expires"], "0" * 64, now)
    with pytest.raises(PermissionDenied, match="not valid"):  # a longer expiry is not signed
        await desk.download(request_id, str(int(query["expires"]) + 9), query["signature"], now)
    with pytest.raises(PermissionDenied, match="expired"):
        await desk.download(request_id, query["expires"], query["signature"], now + 10**7)


async def test_credentials_are_read_on_every_send_and_the_previous_one_works_in_rotation(
    tmp_path: Path,
) -> None:
    services = memory_services()
    with smtp_server("starttls", tmp_path, passwords=("old-password",)) as (box, port, trust):
        current = [settings_for(port, "starttls", "new-password", "old-password")]
        mailer = SmtpMailer(lambda: current[0], tls_context=trust)

        def mail(n: int) -> EmailMessage:
            message = EmailMessage()
            message["To"] = "dpo@example.com"
            message["Subject"] = f"mail {n}"
            message.set_content("hello")
            return message

        await mailer.send(mail(1))  # the server still has the old password: the fallback works
        refused = box.refused_logins
        assert refused >= 1 and len(box.mails) == 1
        box.passwords = {"new-password"}  # the server rotated; the config did not change
        await mailer.send(mail(2))  # the new password is tried first: no refusal now
        assert box.refused_logins == refused and len(box.mails) == 2
        current[0] = settings_for(port, "starttls", "wrong", "also-wrong")
        with pytest.raises(MailUnavailable, match="refused every SMTP password") as caught:
            await mailer.send(mail(3))
        assert "wrong" not in str(caught.value)
        assert len(box.mails) == 2
    del services


async def test_implicit_tls_and_an_unreachable_server(tmp_path: Path) -> None:
    with smtp_server("implicit", tmp_path, passwords=("pw",)) as (box, port, trust):
        mailer = SmtpMailer(lambda: settings_for(port, "implicit", "pw"), tls_context=trust)
        message = EmailMessage()
        message["To"] = "dpo@example.com"
        message.set_content("x")
        await mailer.send(message)
        assert len(box.mails) == 1
    with pytest.raises(MailUnavailable, match="did not take the message"):
        await SmtpMailer(lambda: settings_for(port, "none")).send(message)


async def test_a_confirmed_deletion_erases_the_guild_from_every_store(tmp_path: Path) -> None:
    services = memory_services()
    await fill(services, GUILD, 50)
    await fill(services, OTHER, 5)
    told: list[tuple[Erasure, bool]] = []

    async def tell_bots(erasure: Erasure) -> None:  # the panel's announce_erasure
        told.append((erasure, await services.settings.get(GUILD) is not None))

    with smtp_server() as (box, port, _):
        desk = desk_for(services, tmp_path, settings_for(port, "none"))
        desk.on_erased = tell_bots
        export = await desk.request(GUILD, "export", ADMIN, "dpo@example.com")
        await desk.process(export.request_id)
        assert (tmp_path / "exports" / f"export-{export.request_id}.vbx").exists()
        waiting = await desk.request(GUILD, "delete", ADMIN, "dpo@example.com")
        assert (waiting.status, waiting.detail) == ("pending", "awaiting confirmation")
        confirm_mail = box.mails[-1]
        assert confirm_mail["Subject"] == "Confirm erasing the data of Demo Guild on VectoBeat"
        body = confirm_mail.get_body(("plain",))
        assert body is not None and desk.confirmation_token(waiting) in body.get_content()
        with pytest.raises(InvalidInput, match="does not confirm"):
            await desk.confirm_delete(
                GUILD, waiting.request_id, guild_name="Demo Guild", typed_name="Demo Gild"
            )
        with pytest.raises(InvalidInput, match="does not confirm"):
            await desk.confirm_delete(
                GUILD, waiting.request_id, guild_name="Demo Guild", token="0" * 20
            )
        assert await services.settings.get(GUILD) is not None  # nothing erased yet
        confirmed = await desk.confirm_delete(
            GUILD, waiting.request_id, guild_name="Demo Guild", typed_name="demo guild"
        )
        assert confirmed.status == "running"
        done = await desk.process(waiting.request_id)
        assert done.status == "sent", done.detail
        assert "erased" in done.detail
        assert box.mails[-1]["Subject"] == "VectoBeat erased the data of Demo Guild"
        # placed in the erasure record, and the bots told of it, before any store was erased
        assert await services.compliance.erasures_since(0, 10) == [told[0][0]]
        assert told == [(Erasure(1, GUILD, told[0][0].erased_at), True)]
        assert (await desk.process(waiting.request_id)).status == "sent"  # done: not again
        assert len(await services.compliance.erasures_since(0, 10)) == 1
    # every store, read back
    assert await services.settings.get(GUILD) is None
    assert await services.settings.history(GUILD) == []
    audit = await services.audit.recent(GUILD, 1000)
    assert {e.kind for e in audit} == {AuditKind.COMPLIANCE_DELETE}  # only the erasure's record
    assert all(e.actor is None or e.actor == f"user:{ADMIN}" for e in audit)
    assert await services.playlists.for_guild(GUILD) == []
    assert await services.tokens.for_guild(GUILD) == []
    assert await services.contacts.for_guild(GUILD) == []
    assert await services.concierge.find(GUILD) == []
    assert await services.webhook_log.recent(GUILD) == []
    assert [await services.telemetry.get(n) for n in guild_documents(GUILD)] == [None] * 3
    assert await tombstone_of(services.telemetry, GUILD) == told[0][0]  # for syncs in flight
    assert await services.queues.load(GUILD) is None
    assert not (tmp_path / "exports" / f"export-{export.request_id}.vbx").exists()
    # the other guild keeps everything
    assert await services.settings.get(OTHER) is not None
    assert len(await services.audit.recent(OTHER, 1000)) == 5
    assert await services.contacts.for_guild(OTHER) != []
    assert await services.queues.load(OTHER) is not None


async def test_a_deletion_can_be_confirmed_by_token_once_and_bad_input_is_refused(
    tmp_path: Path,
) -> None:
    services = memory_services()
    with smtp_server() as (_, port, _trust):
        desk = desk_for(services, tmp_path, settings_for(port, "none"))
        with pytest.raises(InvalidInput, match="e-mail address"):
            await desk.request(GUILD, "delete", ADMIN, "not an address")
        waiting = await desk.request(GUILD, "delete", ADMIN, "dpo@example.com")
        token = desk.confirmation_token(waiting)
        with pytest.raises(NotFound):  # another guild's request is not this guild's
            await desk.confirm_delete(OTHER, waiting.request_id, guild_name="x", token=token)
        await desk.confirm_delete(GUILD, waiting.request_id, guild_name="x", token=token)
        with pytest.raises(InvalidInput, match="already running"):
            await desk.confirm_delete(GUILD, waiting.request_id, guild_name="x", token=token)
    unmailed = ComplianceDesk(
        services, ArchiveVault(tmp_path, KEYS), None, link_base="https://x", secret=b"s"
    )
    with pytest.raises(NotEnabled, match="SMTP_HOST"):
        await unmailed.request(GUILD, "export", ADMIN, "dpo@example.com")


async def sent(services: Services, request_id: int) -> bool:
    request = await services.compliance.get(request_id)
    return request is not None and request.status == "sent"


async def test_the_worker_runs_queued_requests_in_the_background(tmp_path: Path) -> None:
    services = memory_services()
    await fill(services, GUILD, 10)
    with smtp_server() as (box, port, _):
        desk = desk_for(services, tmp_path, settings_for(port, "none"))
        async with anyio.create_task_group() as tasks:
            await tasks.start(desk.run)
            opened = await desk.request(GUILD, "export", ADMIN, "dpo@example.com")
            with anyio.fail_after(20):
                while not await sent(services, opened.request_id):  # noqa: ASYNC110
                    await anyio.sleep(0.05)  # the worker runs in its own task
            tasks.cancel_scope.cancel()
        assert len(box.mails) == 1


def test_smtp_settings_are_read_from_the_environment_at_each_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    base = load_config({}, dotenv=tmp_path / "none.env", overrides={
        "SMTP_HOST": "127.0.0.1", "SMTP_FROM": SENDER, "SMTP_USERNAME": "u",
        "SMTP_PASSWORD": "first-password",
    })  # fmt: skip
    current = smtp_from_environment(base)
    assert current().passwords == ("first-password",)
    monkeypatch.setenv("SMTP_PASSWORD", "second-password")
    monkeypatch.setenv("SMTP_PASSWORD_PREVIOUS", "first-password")
    assert current().passwords == ("second-password", "first-password")
    assert "second-password" not in repr(current())
    monkeypatch.setenv("SMTP_HOST", "")
    monkeypatch.setenv("VECTOBEAT_SMTP_HOST", "mail.example.com")
    assert current().host == "mail.example.com"
    unset = load_config({}, dotenv=tmp_path / "none.env")
    with pytest.raises(NotEnabled, match="SMTP_HOST"):
        smtp_from_environment(unset)()
