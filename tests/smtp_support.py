"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd in its own thread): records every mail,
accepts the logins in ``passwords`` (change them to rotate), plain, STARTTLS or implicit TLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.tls_support import certificate
from vectobeat_adapters.mail import SmtpSettings
from vectobeat_testkit.free_port import free_port

USER = "vectobeat"
SENDER = "VectoBeat <privacy@vectobeat.test>"


class MailBox:
    """The aiosmtpd handler: the mails it took, parsed."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.passwords: set[str] = set()
        self.refused_logins = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if user == USER and password in self.passwords:
                return AuthResult(success=True)
        self.refused_logins += 1
        return AuthResult(success=False, handled=False)


@contextmanager
def smtp_server(
    tls: str = "none", tmp: Path | None = None, passwords: tuple[str, ...] = ()
) -> Iterator[tuple[MailBox, int, ssl.SSLContext | None]]:
    """(mailbox, port, the client's trust store for the server's certificate) while it runs."""
    box = MailBox()
    box.passwords = set(passwords)
    port = free_port()
    kwargs: dict[str, Any] = {
        "authenticator": box.authenticate,
        "auth_require_tls": tls == "starttls",  # aiosmtpd sees no TLS on an implicit one
    }
    trust: ssl.SSLContext | None = None
    if tls != "none":
        assert tmp is not None
        cert, key = certificate(tmp, "127.0.0.1")
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        trust = ssl.create_default_context(cafile=str(cert))
        if tls == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=server_ctx)
    controller = Controller(box, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield box, port, trust
    finally:
        controller.stop()


def settings_for(port: int, tls: str, *passwords: str) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls=tls,
        sender=SENDER,
        username=USER if passwords else None,
        passwords=passwords,
        timeout=10.0,
    )
