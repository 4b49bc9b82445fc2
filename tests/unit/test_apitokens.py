"""The token rules every ``TokenStore`` applies alike (`vectobeat_adapters.apitokens`)."""

from __future__ import annotations

import attrs
import pytest

from vectobeat_adapters.apitokens import check_quota, live_token, new_token
from vectobeat_core.errors import LimitExceeded, PermissionDenied
from vectobeat_core.ids import GuildId


def test_the_quota_refuses_at_the_limit_not_below_it() -> None:
    check_quota(2, 3)
    with pytest.raises(LimitExceeded, match="already has 3 active API tokens"):
        check_quota(3, 3)


def test_unknown_revoked_and_expired_tokens_are_refused_alike() -> None:
    token, _ = new_token(GuildId(1), "ci", ["queue:read"], 100.0, 200.0)
    assert live_token(token, 150.0) is token
    refused = [None, attrs.evolve(token, revoked_at=120.0), token]
    for found, now in zip(refused, [150.0, 150.0, 200.0], strict=True):
        with pytest.raises(PermissionDenied) as caught:
            live_token(found, now)
        assert str(caught.value) == "this API token is not valid (unknown, revoked or expired)"
