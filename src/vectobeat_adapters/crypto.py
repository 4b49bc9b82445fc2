"""Authenticated encryption of sensitive columns, with key rotation.

Keys come from configuration (``ENCRYPTION_KEYS``): comma-separated entries ``[id:]key`` where
``key`` is 32 random bytes in URL-safe base64 (``Keyring.generate_key()`` makes one). The first
key encrypts; every key decrypts, so rotating is: put a new key first, run :meth:`Keyring.reencrypt`
over stored values (``vectobeat_adapters.sql.rotation.rotate_column``), then drop the old key.

A token is ``v1.<key id>.<base64(nonce || AES-256-GCM ciphertext)>``; the ``context`` (e.g.
``"contacts.email:1234"``) is bound as associated data, so a value copied to another row or
column does not decrypt. Writing a sensitive value without a key is a :class:`ConfigError`,
never silent plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import cache
from typing import TYPE_CHECKING

import attrs

from vectobeat_core.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@cache
def _aead() -> tuple[type[AESGCM], type[Exception]]:
    """AES-GCM and its authentication error, loaded on first use: a process without
    ``ENCRYPTION_KEYS`` (a bot storing nothing sensitive) never loads ``cryptography``."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    return AESGCM, InvalidTag


__all__ = ["CiphertextError", "Keyring"]

_VERSION = "v1"
_NONCE_BYTES = 12
_KEY_BYTES = 32


class CiphertextError(InvalidInput):
    """A stored ciphertext that cannot be decrypted: corrupted, tampered with or malformed."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _derived_id(key: bytes) -> str:
    return hashlib.sha256(b"vectobeat-key-id:" + key).hexdigest()[:8]


@attrs.frozen(repr=False)
class Keyring:
    """Encryption keys by id; ``primary`` encrypts, all decrypt. ``None`` primary: no keys."""

    _keys: dict[str, bytes] = attrs.field(factory=dict)
    primary: str | None = None

    def __repr__(self) -> str:
        return f"Keyring(ids={list(self._keys)!r}, primary={self.primary!r})"

    @classmethod
    def from_config(cls, text: str | None) -> Keyring:
        """Parse ``[id:]key,[id:]key,...``; empty or ``None`` gives an empty keyring."""
        keys: dict[str, bytes] = {}
        primary: str | None = None
        for position, raw in enumerate((text or "").split(","), start=1):
            entry = raw.strip()
            if not entry:
                continue
            key_id, sep, encoded = entry.rpartition(":")
            if not sep:
                encoded = entry
            try:
                key = _b64decode(encoded.strip())
            except (ValueError, binascii.Error):
                raise ConfigError(
                    f"ENCRYPTION_KEYS entry {position} is not URL-safe base64"
                ) from None
            if len(key) != _KEY_BYTES:
                raise ConfigError(
                    f"ENCRYPTION_KEYS entry {position} must decode to {_KEY_BYTES} bytes, "
                    f"got {len(key)} (make one with Keyring.generate_key())"
                )
            key_id = key_id.strip() if sep else _derived_id(key)
            if not key_id.isalnum():
                raise ConfigError(f"ENCRYPTION_KEYS entry {position}: key id must be alphanumeric")
            if key_id in keys:
                raise ConfigError(f"ENCRYPTION_KEYS lists key id {key_id!r} twice")
            keys[key_id] = key
            primary = primary or key_id
        if keys:
            _aead()  # a keyring with keys will seal and open values: load the cipher now
        return cls(keys, primary)

    @staticmethod
    def generate_key() -> str:
        """A fresh random key in the configuration format (URL-safe base64, 32 bytes)."""
        aesgcm, _ = _aead()
        return _b64encode(aesgcm.generate_key(bit_length=_KEY_BYTES * 8))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def encrypt(self, plaintext: str, context: str) -> str:
        """Encrypt with the primary key, binding ``context``; no key is a :class:`ConfigError`."""
        if self.primary is None:
            raise ConfigError(
                "ENCRYPTION_KEYS is not set: refusing to store a sensitive value "
                f"({context.split(':', 1)[0]}) without encryption"
            )
        aesgcm, _ = _aead()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = aesgcm(self._keys[self.primary]).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        return f"{_VERSION}.{self.primary}.{_b64encode(nonce + sealed)}"

    def key_id_of(self, token: str) -> str:
        """The id of the key that sealed ``token``."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION or not parts[1]:
            raise CiphertextError("stored value is not a VectoBeat ciphertext (malformed header)")
        return parts[1]

    def decrypt(self, token: str, context: str) -> str:
        """Decrypt a token made by :meth:`encrypt` with the same ``context``."""
        key_id = self.key_id_of(token)
        key = self._keys.get(key_id)
        if key is None:
            raise ConfigError(
                f"stored value was encrypted with key {key_id!r}, which is not in ENCRYPTION_KEYS "
                f"(known: {', '.join(self._keys) or 'none'})"
            )
        try:
            blob = _b64decode(token.split(".")[2])
        except (ValueError, binascii.Error):
            raise CiphertextError(f"stored value for {context} is corrupted (not base64)") from None
        if len(blob) <= _NONCE_BYTES:
            raise CiphertextError(f"stored value for {context} is corrupted (truncated)")
        aesgcm, invalid_tag = _aead()
        try:
            plain = aesgcm(key).decrypt(
                blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode("utf-8")
            )
        except invalid_tag:
            raise CiphertextError(
                f"stored value for {context} failed authentication: corrupted, tampered with, "
                "or moved from another row"
            ) from None
        return plain.decode("utf-8")

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` is not sealed with the primary key."""
        return self.key_id_of(token) != self.primary

    def reencrypt(self, token: str, context: str) -> str:
        """Re-seal ``token`` with the primary key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token, context), context)
