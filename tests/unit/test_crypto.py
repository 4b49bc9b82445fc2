"""Keyring: authenticated encryption bound to a context, several keys, rotation, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vectobeat_adapters.crypto import CiphertextError, Keyring
from vectobeat_core.errors import ConfigError

KEY_A = Keyring.generate_key()
KEY_B = Keyring.generate_key()


@given(st.text(max_size=300), st.text(min_size=1, max_size=40))
def test_round_trip_any_text(plaintext: str, context: str) -> None:
    ring = Keyring.from_config(KEY_A)
    token = ring.encrypt(plaintext, context)
    assert ring.decrypt(token, context) == plaintext


def test_same_plaintext_encrypts_differently_each_time() -> None:
    ring = Keyring.from_config(KEY_A)
    assert ring.encrypt("x", "c") != ring.encrypt("x", "c")


def test_first_key_encrypts_all_decrypt() -> None:
    old = Keyring.from_config(f"a:{KEY_A}")
    token = old.encrypt("secret", "contacts.email:1")
    both = Keyring.from_config(f"b:{KEY_B},a:{KEY_A}")
    assert both.primary == "b"
    assert both.decrypt(token, "contacts.email:1") == "secret"
    assert both.needs_rotation(token)
    fresh = both.reencrypt(token, "contacts.email:1")
    assert both.key_id_of(fresh) == "b" and not both.needs_rotation(fresh)
    assert both.reencrypt(fresh, "contacts.email:1") == fresh
    assert Keyring.from_config(f"b:{KEY_B}").decrypt(fresh, "contacts.email:1") == "secret"


def test_key_ids_are_derived_when_not_given() -> None:
    ring = Keyring.from_config(f" {KEY_A} , {KEY_B} ")
    assert len(ring.key_ids) == 2 and ring.primary == ring.key_ids[0]
    assert Keyring.from_config(KEY_A).key_ids == ring.key_ids[:1]


def test_wrong_context_fails_authentication() -> None:
    ring = Keyring.from_config(KEY_A)
    token = ring.encrypt("ada@example.org", "contacts.email:1")
    with pytest.raises(CiphertextError, match=r"contacts\.email:2"):
        ring.decrypt(token, "contacts.email:2")


@pytest.mark.parametrize("position", [-30, -20, -1])
def test_flipped_byte_is_a_clear_corruption_error(position: int) -> None:
    ring = Keyring.from_config(KEY_A)
    token = ring.encrypt("hello world", "ctx")
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(CiphertextError, match="ctx"):
        ring.decrypt("".join(chars), "ctx")


@pytest.mark.parametrize("token", ["plaintext", "v1..abc", "v2.k.abc", "v1.k"])
def test_malformed_tokens_are_refused(token: str) -> None:
    ring = Keyring.from_config(f"k:{KEY_A}")
    with pytest.raises(CiphertextError, match="malformed"):
        ring.decrypt(token, "ctx")


def test_truncated_and_non_base64_bodies_are_refused() -> None:
    ring = Keyring.from_config(f"k:{KEY_A}")
    with pytest.raises(CiphertextError, match="truncated"):
        ring.decrypt("v1.k.AAAA", "ctx")
    with pytest.raises(CiphertextError, match="base64"):
        ring.decrypt("v1.k.A", "ctx")


def test_unknown_key_is_a_config_error_naming_it() -> None:
    token = Keyring.from_config(f"old:{KEY_A}").encrypt("x", "ctx")
    with pytest.raises(ConfigError, match=r"'old'.*known: new"):
        Keyring.from_config(f"new:{KEY_B}").decrypt(token, "ctx")


def test_no_key_refuses_to_encrypt() -> None:
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS is not set"):
        Keyring.from_config("").encrypt("ada@example.org", "contacts.email:1")
    with pytest.raises(ConfigError):
        Keyring.from_config(None).encrypt("x", "y")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("not base64 at all!", "base64"),
        ("c2hvcnQ", "32 bytes"),
        (f"a-b:{KEY_A}", "alphanumeric"),
        (f"a:{KEY_A},a:{KEY_B}", "twice"),
    ],
)
def test_bad_configuration_is_explained(config: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Keyring.from_config(config)


def test_repr_shows_no_key_material() -> None:
    ring = Keyring.from_config(f"k:{KEY_A}")
    assert KEY_A not in repr(ring) and "k" in repr(ring)
