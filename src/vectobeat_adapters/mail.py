"""``SmtpMailer``: mail over SMTP with aiosmtplib (STARTTLS, implicit TLS or plain), with
credentials that rotate without a restart.

The settings are read on every send (``settings`` is a callable; `smtp_from_environment` re-reads
the environment and ``.env``), so a new ``SMTP_PASSWORD`` is used by the next mail. During a
rotation window ``SMTP_PASSWORD`` is tried first and ``SMTP_PASSWORD_PREVIOUS`` when the server
refuses it. The password never appears in an error or a log.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable
from email.message import EmailMessage

import aiosmtplib
import attrs

from vectobeat_adapters.config import AppConfig, load_config
from vectobeat_adapters.config.loader import as_environment
from vectobeat_core.errors import NotEnabled, Unavailable

__all__ = [
    "MailUnavailable",
    "SmtpMailer",
    "SmtpSettings",
    "smtp_from_environment",
    "smtp_settings",
]

_log = logging.getLogger("vectobeat.mail")


class MailUnavailable(Unavailable):
    """The SMTP server could not be reached, refused the login or the message."""


@attrs.frozen(repr=False)
class SmtpSettings:
    """One send's SMTP settings; ``passwords`` in the order to try them."""

    host: str
    port: int
    tls: str
    sender: str
    username: str | None = None
    passwords: tuple[str, ...] = ()
    timeout: float = 15.0

    def __repr__(self) -> str:
        return f"SmtpSettings(host={self.host!r}, port={self.port}, tls={self.tls!r})"


def smtp_settings(config: AppConfig) -> SmtpSettings:
    """The SMTP part of ``config``; ``NotEnabled`` naming what to set when mail is off."""
    if not config.smtp_host or not config.smtp_from:
        raise NotEnabled("Mail is not configured: set SMTP_HOST and SMTP_FROM.")
    passwords = tuple(
        secret.reveal()
        for secret in (config.smtp_password, config.smtp_password_previous)
        if secret
    )
    return SmtpSettings(
        host=config.smtp_host,
        port=config.smtp_port,
        tls=config.smtp_tls.lower(),
        sender=config.smtp_from,
        username=config.smtp_username,
        passwords=passwords,
        timeout=config.smtp_timeout,
    )


def smtp_from_environment(base: AppConfig) -> Callable[[], SmtpSettings]:
    """A provider of the SMTP settings as the environment (and ``.env``) says at each call,
    falling back to ``base`` (the configuration the process started with) for what they do not
    set: a rotated ``SMTP_PASSWORD`` is used by the next mail without a restart."""
    start = as_environment(base)

    def current() -> SmtpSettings:
        return smtp_settings(load_config({**start, **os.environ}))

    return current


class SmtpMailer:
    """Sends `EmailMessage`s; ``tls_context`` is the trust store for the server's certificate
    (``None``: the system's)."""

    def __init__(
        self,
        settings: Callable[[], SmtpSettings],
        *,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings
        self._tls_context = tls_context
        self.sent = 0

    def sender(self) -> str:
        return self._settings().sender

    async def send(self, message: EmailMessage) -> None:
        """Send ``message`` (its ``From`` set when missing); ``MailUnavailable`` when it fails."""
        settings = self._settings()
        if message["From"] is None:
            message["From"] = settings.sender
        logins: tuple[str | None, ...] = settings.passwords if settings.username else (None,)
        for number, password in enumerate(logins or (None,)):
            try:
                await aiosmtplib.send(
                    message,
                    hostname=settings.host,
                    port=settings.port,
                    username=settings.username if password is not None else None,
                    password=password,
                    use_tls=settings.tls == "implicit",
                    start_tls=settings.tls == "starttls",
                    tls_context=self._tls_context,
                    timeout=settings.timeout,
                )
            except aiosmtplib.SMTPAuthenticationError:
                _log.warning("smtp_login_refused password=%d of %d", number + 1, len(logins))
                continue
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                raise MailUnavailable(
                    f"The mail server {settings.host}:{settings.port} did not take the message "
                    f"({type(exc).__name__})."
                ) from None
            self.sent += 1
            return
        raise MailUnavailable(
            f"The mail server {settings.host}:{settings.port} refused every SMTP password "
            "(check SMTP_USERNAME, SMTP_PASSWORD and SMTP_PASSWORD_PREVIOUS)."
        )
