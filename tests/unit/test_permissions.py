"""The DJ and collaborative-queue rules, checked against a plain statement of them."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.settings import role_ids, server_settings
from vectobeat_core.errors import PermissionDenied
from vectobeat_core.ids import RoleId, UserId
from vectobeat_core.permissions import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MemberFacts,
    can_manage_guild,
    has_dj_access,
    may_add_tracks,
    may_configure,
    may_control,
    require_add_tracks,
    require_configure,
    require_control,
)
from vectobeat_core.settings import ServerSettings

members = st.builds(
    MemberFacts,
    user_id=st.integers(1, 2**40).map(UserId),
    role_ids=st.frozensets(role_ids, max_size=5),
    owner=st.booleans(),
    permissions=st.integers(0, 2**53 - 1),
)


@given(st.booleans(), st.integers(0, 2**53 - 1))
def test_can_manage_guild_is_owner_administrator_or_manage_server(
    owner: bool, permissions: int
) -> None:
    """Discord's rule: the owner, or the Administrator (bit 3) or Manage Server (bit 5) bit."""
    bits = {bit for bit in range(53) if permissions >> bit & 1}
    assert can_manage_guild(owner=owner, permissions=permissions) is (owner or bool(bits & {3, 5}))


def test_can_manage_guild_examples() -> None:
    assert can_manage_guild(owner=True, permissions=0)
    assert can_manage_guild(owner=False, permissions=MANAGE_GUILD)
    assert can_manage_guild(owner=False, permissions=ADMINISTRATOR | 0x400)
    assert not can_manage_guild(owner=False, permissions=0x400 | 0x800)


@given(members, server_settings())
def test_rules_match_their_plain_statement(member: MemberFacts, settings: ServerSettings) -> None:
    admin = can_manage_guild(owner=member.owner, permissions=member.permissions)
    dj = admin or bool(set(member.role_ids) & set(settings.dj_role_ids))
    assert may_configure(member) is admin
    assert has_dj_access(member, settings) is dj
    assert may_control(member, settings) is (not settings.dj_role_ids or dj)
    assert may_add_tracks(member, settings) is (settings.collaborative_queue or dj)


@given(members, server_settings())
def test_require_functions_agree_with_predicates(
    member: MemberFacts, settings: ServerSettings
) -> None:
    if may_control(member, settings):
        require_control(member, settings, "skip")
    else:
        with pytest.raises(PermissionDenied):
            require_control(member, settings, "skip")
    if may_add_tracks(member, settings):
        require_add_tracks(member, settings)
    else:
        with pytest.raises(PermissionDenied):
            require_add_tracks(member, settings)
    if may_configure(member):
        require_configure(member, "change settings")
    else:
        with pytest.raises(PermissionDenied):
            require_configure(member, "change settings")


def test_collaborative_off_has_an_effect_without_dj_roles() -> None:
    """The original bot's defect: with no DJ roles, turning collaborative off changed nothing."""
    closed = ServerSettings(collaborative_queue=False)
    member = MemberFacts(UserId(1))
    assert not may_add_tracks(member, closed)
    assert may_control(member, closed)  # no DJ roles: everyone still controls playback
    with pytest.raises(PermissionDenied, match=r"only DJs can add tracks .*Manage Server"):
        require_add_tracks(member, closed)
    assert may_add_tracks(attrs.evolve(member, permissions=MANAGE_GUILD), closed)


def test_a_dj_role_grants_control_and_adding() -> None:
    settings = ServerSettings(collaborative_queue=False, dj_role_ids=(RoleId(7),))
    dj = MemberFacts(UserId(1), role_ids=frozenset({RoleId(7)}))
    other = MemberFacts(UserId(2), role_ids=frozenset({RoleId(8)}))
    assert may_control(dj, settings) and may_add_tracks(dj, settings)
    assert not may_control(other, settings) and not may_add_tracks(other, settings)
    with pytest.raises(PermissionDenied, match="Only DJs can skip tracks here"):
        require_control(other, settings, "skip tracks")
