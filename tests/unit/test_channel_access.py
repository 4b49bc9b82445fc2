"""Channel permissions computed like Discord, and why the bot lacks each one it needs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vectobeat_core.channel_access import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    MemberAccess,
    Overwrite,
    channel_permissions,
    missing_permissions,
)

GUILD, BOT, DJ, MUTED = 100, 200, 300, 400
VIEW, SEND, EMBED, HISTORY, CONNECT, SPEAK = (
    1 << 10, 1 << 11, 1 << 14, 1 << 16, 1 << 20, 1 << 21,
)  # fmt: skip
EVERYTHING = VIEW | SEND | EMBED | HISTORY | CONNECT | SPEAK


def bot(everyone: int = EVERYTHING, roles: dict[int, int] | None = None) -> MemberAccess:
    extra = roles or {}
    return MemberAccess(
        guild_id=GUILD,
        user_id=BOT,
        owner=False,
        role_ids=frozenset(extra),
        role_permissions={GUILD: everyone, **extra},
        role_names={DJ: "DJ", MUTED: "Muted"},
    )


bits = st.integers(0, (1 << 22) - 1).map(lambda v: v & ~ADMINISTRATOR)


@given(bits, bits, bits, bits, bits, bits, bits)
def test_discord_order_everyone_then_roles_then_member(  # noqa: PLR0917
    base: int, e_allow: int, e_deny: int, r_allow: int, r_deny: int, m_allow: int, m_deny: int
) -> None:
    overwrites = [
        Overwrite(GUILD, False, e_allow, e_deny),
        Overwrite(DJ, False, r_allow, r_deny),
        Overwrite(BOT, True, m_allow, m_deny),
    ]
    expected = base
    for allow, deny in ((e_allow, e_deny), (r_allow, r_deny), (m_allow, m_deny)):
        expected = (expected & ~deny) | allow
    expected = expected if expected & VIEW else 0
    assert channel_permissions(bot(base, {DJ: 0}), overwrites) == expected


@given(bits, bits)
def test_administrator_and_owner_override_every_overwrite(base: int, deny: int) -> None:
    overwrites = [Overwrite(GUILD, False, 0, deny), Overwrite(BOT, True, 0, deny)]
    assert channel_permissions(bot(base | ADMINISTRATOR), overwrites) == ALL_PERMISSIONS
    owner = MemberAccess(GUILD, BOT, True, frozenset(), {GUILD: base})
    assert channel_permissions(owner, overwrites) == ALL_PERMISSIONS
    assert missing_permissions(owner, overwrites, voice=True) == []


@given(bits, st.lists(st.tuples(st.sampled_from([GUILD, DJ, BOT]), bits, bits), max_size=4))
def test_missing_is_exactly_what_the_channel_permissions_lack(
    base: int, raw: list[tuple[int, int, int]]
) -> None:
    overwrites = [Overwrite(t, t == BOT, a, d) for t, a, d in raw]
    access = bot(base, {DJ: 0})
    have = channel_permissions(access, overwrites)
    names = {m.name for m in missing_permissions(access, overwrites, voice=True)}
    if not have & CONNECT:
        have &= ~SPEAK  # Speak is moot without Connect
    expected = {
        n
        for n, b in (("View Channel", VIEW), ("Connect", CONNECT), ("Speak", SPEAK))
        if not have & b
    }
    assert names == expected


def test_reasons_name_the_overwrite_that_denies() -> None:
    overwrites = [
        Overwrite(GUILD, False, 0, EMBED),
        Overwrite(MUTED, False, 0, SPEAK),
        Overwrite(BOT, True, 0, HISTORY),
    ]
    access = bot(EVERYTHING, {MUTED: 0})
    text = {m.name: str(m.why) for m in missing_permissions(access, overwrites, voice=False)}
    assert text == {
        "Embed Links": "this channel's permissions deny it to @everyone (needed to show track cards)",
        "Read Message History": "this channel's permissions deny it to the bot itself "
        "(needed to update its now-playing message)",
    }
    voice = {m.name: str(m.why) for m in missing_permissions(access, overwrites, voice=True)}
    assert voice == {
        "Speak": "this channel's permissions deny it to the role Muted (needed to play audio)"
    }


def test_missing_view_channel_explains_the_rest() -> None:
    missing = missing_permissions(bot(EVERYTHING & ~VIEW), [], voice=True)
    assert [(m.name, str(m.why).split(" (")[0]) for m in missing] == [
        ("View Channel", "no role of the bot grants it in the server settings"),
        ("Connect", "it needs View Channel first"),
        ("Speak", "it needs View Channel first"),
    ]
    no_connect = missing_permissions(bot(), [Overwrite(GUILD, False, 0, CONNECT)], voice=True)
    assert [m.name for m in no_connect] == ["Connect", "Speak"]
    assert str(no_connect[1].why).startswith("it needs Connect first")


def test_a_role_allow_beats_the_everyone_deny() -> None:
    overwrites = [Overwrite(GUILD, False, 0, SEND), Overwrite(DJ, False, SEND, 0)]
    assert missing_permissions(bot(EVERYTHING, {DJ: 0}), overwrites, voice=False) == []
