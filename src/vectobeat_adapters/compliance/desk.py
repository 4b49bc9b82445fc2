"""`ComplianceDesk`: export and deletion requests of a guild, run in the background.

An export request is built (`build_export`; the request's ``detail`` shows the progress, so
every panel replica and the bot read it from the store), stored encrypted (`ArchiveVault`) and
mailed: as an attachment up to ``attachment_max_bytes``, else as a signed download link that
expires after ``link_ttl`` seconds. A deletion request waits for its confirmation (the guild's
name typed again, or the request's confirmation token), then places it in the erasure record
(`ComplianceStore.record_erasure`: every bot catches up on it), tells ``on_erased``, erases the
guild from every store after leaving its tombstone (`erase_guild_everywhere`), deletes its stored exports and mails a
confirmation. Requests,
confirmations and outcomes are audited. A request left ``running`` by a stopped process is run
again at start.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import anyio
import anyio.abc
import attrs

from vectobeat_adapters.compliance.erasure import erase_guild_everywhere
from vectobeat_adapters.compliance.export import build_export
from vectobeat_adapters.compliance.vault import ArchiveVault
from vectobeat_adapters.mail import SmtpMailer
from vectobeat_adapters.services import Services
from vectobeat_adapters.storage_rules import COMPLIANCE_FINAL
from vectobeat_core.audit import AuditEvent, AuditKind
from vectobeat_core.erasures import Erasure
from vectobeat_core.errors import (
    InvalidInput,
    NotEnabled,
    NotFound,
    PermissionDenied,
    VectoBeatError,
)
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.records import ComplianceKind, ComplianceRequest, ComplianceStatus

__all__ = ["ComplianceDesk", "DeskOptions", "check_email"]

_log = logging.getLogger("vectobeat.compliance")

AWAITING_CONFIRMATION = "awaiting confirmation"


def check_email(email: str) -> str:
    """A plausible single address (``InvalidInput`` otherwise), stripped."""
    address = email.strip()
    local, _, domain = address.partition("@")
    if (
        not 3 <= len(address) <= 254
        or not local
        or "." not in domain
        or any(c.isspace() or c in "<>,;\"'\r\n" for c in address)
    ):
        raise InvalidInput("Give one e-mail address, like dpo@example.com.")
    return address


@attrs.frozen
class DeskOptions:
    attachment_max_bytes: int = 5_000_000
    link_ttl: float = 259_200.0


class ComplianceDesk:
    """See the module docstring. ``link_base`` is the panel's public URL; ``secret`` signs
    download links and confirmation tokens."""

    def __init__(
        self,
        services: Services,
        vault: ArchiveVault,
        mailer: SmtpMailer | None,
        *,
        link_base: str,
        secret: bytes,
        options: DeskOptions | None = None,
        on_erased: Callable[[Erasure], Awaitable[None]] | None = None,
    ) -> None:
        self.services = services
        self.on_erased = on_erased
        """Told a guild is being erased (its place in the record), before the stores are: the
        panel tells the bots."""
        self.vault = vault
        self.mailer = mailer
        self.options = options or DeskOptions()
        self._link_base = link_base.rstrip("/")
        self._secret = hashlib.sha256(b"vectobeat-compliance:" + secret).digest()
        self._queued: deque[int] = deque()
        self._wake = anyio.Event()

    # ------------------------------------------------------------------ signing

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def confirmation_token(self, request: ComplianceRequest) -> str:
        return self._mac(f"confirm:{request.request_id}:{request.guild_id}")[:20]

    def download_link(self, request: ComplianceRequest, now: float) -> str:
        expires = int(now + self.options.link_ttl)
        signature = self._mac(f"download:{request.request_id}:{request.guild_id}:{expires}")
        return (
            f"{self._link_base}/compliance/download/{request.request_id}"
            f"?expires={expires}&signature={signature}"
        )

    async def download(self, request_id: int, expires: str, signature: str, now: float) -> bytes:
        """The archive a mailed link names; ``PermissionDenied`` for a bad or expired link."""
        request = await self.services.compliance.get(request_id)
        if request is None or request.kind != "export":
            raise NotFound("This download link names no export.")
        expected = self._mac(f"download:{request.request_id}:{request.guild_id}:{expires}")
        if not hmac.compare_digest(expected, signature):
            raise PermissionDenied("This download link is not valid.")
        if not expires.isdigit() or int(expires) < now:
            raise PermissionDenied("This download link has expired; request a new export.")
        return await self.vault.get(request.guild_id, request.request_id)

    # ------------------------------------------------------------------ requests

    def _require_mail(self) -> SmtpMailer:
        """The mailer, if mail is configured now (``NotEnabled`` naming what to set)."""
        if self.mailer is None:
            raise NotEnabled("The compliance desk cannot send mail: set SMTP_HOST and SMTP_FROM.")
        self.mailer.sender()  # reads the settings: NotEnabled when SMTP_HOST/SMTP_FROM are unset
        return self.mailer

    async def _audit(self, request: ComplianceRequest, summary: str, **data: object) -> None:
        kind = (
            AuditKind.COMPLIANCE_EXPORT if request.kind == "export" else AuditKind.COMPLIANCE_DELETE
        )
        await self.services.audit.append(
            AuditEvent(
                kind,
                self.services.clock.now(),
                request.guild_id,
                f"user:{request.requested_by}",
                summary,
                {"request_id": request.request_id, **data},
            )
        )

    async def request(
        self, guild: GuildId, kind: ComplianceKind, requested_by: UserId, email: str
    ) -> ComplianceRequest:
        """Open an export (queued at once) or a deletion (waiting for its confirmation)."""
        self._require_mail()
        address = check_email(email)
        opened = await self.services.compliance.open(
            guild, kind, requested_by=requested_by, email=address, now=self.services.clock.now()
        )
        if kind == "export":
            await self._audit(opened, "Data export requested")
            self._enqueue(opened.request_id)
            return opened
        waiting = await self.services.compliance.set_status(
            opened.request_id, "pending", self.services.clock.now(), AWAITING_CONFIRMATION
        )
        await self._audit(waiting, "Deletion of the server's data requested")
        await self._mail_confirmation(waiting)
        return waiting

    async def _mail_confirmation(self, request: ComplianceRequest) -> None:
        """Mail the token that confirms ``request`` (it proves the address is the requester's)."""
        message = EmailMessage()
        message["To"] = request.email
        name = await self._name(request.guild_id)
        message["Subject"] = f"Confirm erasing the data of {name} on VectoBeat"
        message.set_content(
            "\n".join(
                [
                    f"Someone asked VectoBeat to erase every piece of data it keeps about {name} "
                    f"(request {request.request_id}). Nothing is erased until it is confirmed:",
                    f"  in Discord: /compliance confirm request:{request.request_id} "
                    f"token:{self.confirmation_token(request)}",
                    "  or in the control panel's Compliance page, by typing the server's name.",
                    "If this was not you, ignore this mail.",
                ]
            )
        )
        await self._require_mail().send(message)

    async def _name(self, guild: GuildId) -> str:
        record = await self.services.guilds.get(guild)
        return record.name if record is not None else f"server {guild}"

    async def confirm_delete(
        self,
        guild: GuildId,
        request_id: int,
        *,
        guild_name: str,
        typed_name: str = "",
        token: str = "",
    ) -> ComplianceRequest:
        """Confirm a waiting deletion with the guild's name (``guild_name``, as Discord says it)
        typed again, or with its confirmation token."""
        request = await self.services.compliance.get(request_id)
        if request is None or request.guild_id != guild or request.kind != "delete":
            raise NotFound(f"There is no deletion request {request_id} for this server.")
        if request.status != "pending":
            raise InvalidInput(f"Deletion request {request_id} is already {request.status}.")
        name = guild_name.strip().casefold()
        by_name = bool(typed_name.strip()) and hmac.compare_digest(
            typed_name.strip().casefold().encode(), name.encode()
        )
        by_token = bool(token.strip()) and hmac.compare_digest(
            token.strip().encode(), self.confirmation_token(request).encode()
        )
        if not (by_name or by_token):
            raise InvalidInput(
                "That does not confirm the deletion: type the server's name exactly, "
                "or give the confirmation token."
            )
        running = await self.services.compliance.set_status(
            request_id, "running", self.services.clock.now(), "confirmed; erasing"
        )
        await self._audit(running, "Deletion of the server's data confirmed")
        self._enqueue(request_id)
        return running

    async def requests(
        self, guild: GuildId | None = None, status: ComplianceStatus | None = None
    ) -> list[ComplianceRequest]:
        """Requests of ``guild`` (every guild's when None), in ``status`` if given, oldest first."""
        return await self.services.compliance.find(guild, status)

    # ------------------------------------------------------------------ the worker

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Run queued requests one at a time until cancelled (first those a stop left behind)."""
        try:
            for request in await self.services.compliance.find(status="running"):
                self._enqueue(request.request_id)
            for request in await self.services.compliance.find(status="pending"):
                if request.kind == "export":
                    self._enqueue(request.request_id)
        except VectoBeatError as exc:  # the store is down: new requests still run
            _log.error("compliance_resume_failed error=%s", exc.message)
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            while self._queued:
                request_id = self._queued.popleft()
                try:
                    await self.process(request_id)
                except VectoBeatError as exc:  # e.g. the store is down: the request stays
                    _log.error("compliance_request_stuck id=%s error=%s", request_id, exc.message)

    def _enqueue(self, request_id: int) -> None:
        if request_id not in self._queued:
            self._queued.append(request_id)
        self._wake.set()

    async def process(self, request_id: int) -> ComplianceRequest:
        """Run one request to its end: ``sent`` or ``failed`` with the reason in ``detail``."""
        request = await self.services.compliance.get(request_id)
        if request is None:
            raise NotFound(f"compliance request {request_id} does not exist")
        if request.status in COMPLIANCE_FINAL or (
            request.kind == "delete" and request.status == "pending"
        ):
            return request  # done already (queued twice), or an erasure not confirmed
        try:
            if request.kind == "export":
                detail = await self._export(request)
            else:
                detail = await self._erase(request)
        except VectoBeatError as exc:
            _log.error("compliance_request_failed id=%s error=%s", request_id, exc.message)
            failed = await self.services.compliance.set_status(
                request_id, "failed", self.services.clock.now(), exc.message[:500]
            )
            await self._audit(failed, "Compliance request failed", error=exc.message[:300])
            return failed
        done = await self.services.compliance.set_status(
            request_id, "sent", self.services.clock.now(), detail
        )
        await self._audit(done, detail)
        return done

    async def _progress(self, request: ComplianceRequest, done: int, total: int, name: str) -> None:
        await self.services.compliance.set_status(
            request.request_id,
            "running",
            self.services.clock.now(),
            f"building: {done} of {total} sections ({name.replace('_', ' ')})",
        )

    async def _export(self, request: ComplianceRequest) -> str:
        mailer = self._require_mail()
        await self._progress(request, 0, 1, "starting")

        async def progress(done: int, total: int, name: str) -> None:
            await self._progress(request, done, total, name)

        archive = await build_export(self.services, request.guild_id, progress)
        await self.vault.put(request.guild_id, request.request_id, archive.data)
        message = EmailMessage()
        message["To"] = request.email
        message["Subject"] = f"Your VectoBeat data export for {await self._name(request.guild_id)}"
        rows = sum(archive.counts.values())
        lines = [
            f"The data export you requested (request {request.request_id}) has {rows} rows:",
            *(f"  {name}: {count}" for name, count in archive.counts.items()),
            "",
            "Each section is in the zip as JSON lines and as CSV.",
        ]
        if len(archive.data) <= self.options.attachment_max_bytes:
            message.set_content("\n".join([*lines, "It is attached to this mail."]))
            message.add_attachment(
                archive.data, maintype="application", subtype="zip", filename=archive.filename
            )
            how = "attached"
        else:
            link = self.download_link(request, self.services.clock.now())
            hours = self.options.link_ttl / 3600
            message.set_content("\n".join([*lines, f"Download it within {hours:g} hours:", link]))
            how = "linked"
        await mailer.send(message)
        return f"export of {rows} rows mailed ({how}, {len(archive.data)} bytes)"

    async def _erase(self, request: ComplianceRequest) -> str:
        mailer = self._require_mail()
        erasure = await self.services.compliance.record_erasure(
            request.request_id, self.services.clock.now()
        )  # first: a bot that misses the notice below still finds it in the record
        if self.on_erased is not None:
            await self.on_erased(erasure)
        erased = await erase_guild_everywhere(self.services, erasure)
        for other in await self.services.compliance.find(request.guild_id):
            if other.kind == "export":
                await self.vault.delete(other.request_id)
        total = sum(erased.values())
        message = EmailMessage()
        message["To"] = request.email
        message["Subject"] = f"VectoBeat erased the data of {await self._name(request.guild_id)}"
        message.set_content(
            "\n".join(
                [
                    f"As requested (request {request.request_id}), every store erased the "
                    f"server's data ({total} items):",
                    *(f"  {name}: {count}" for name, count in erased.items()),
                ]
            )
        )
        await mailer.send(message)
        await self._audit(request, "The server's data was erased", erased=dict(erased))
        return f"erased {total} items from {len(erased)} stores; confirmation mailed"
