"""validate-env's checks: each kind of mistake is caught with a fix, a good config passes."""

from __future__ import annotations

import pytest

from vectobeat_ops.envcheck import Problem, check_environment, is_placeholder

GOOD_TOKEN = "MTE3NDEwOTg0MTAwMjU5NDMwNQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
GOOD = {
    "DISCORD_TOKEN": GOOD_TOKEN,
    "LAVALINK_NODES": "eu:eu-1:http://10.0.0.5:2333:s3cretpass,us:us-1:https://lava.example.com:443",
    "LAVALINK_PASSWORD": "another-long-password",
    "BOT_BRIDGE_TOKEN": "b" * 40,
    "SESSION_SECRET": "s" * 40,
    "DISCORD_CLIENT_ID": "1100000000000000001",
    "DISCORD_CLIENT_SECRET": "c" * 32,
    "DATABASE_URL": "postgresql+asyncpg://vb:pw@db.internal/vectobeat",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "WEBHOOK_SIGNING_SECRET": "w" * 32,
    "WEBHOOK_ALLOWED_HOSTS": "receiver.internal, 10.0.0.5",
    "STAFF_USER_IDS": "123456789012345678, 223456789012345678",
}


def by_variable(problems: list[Problem], variable: str) -> Problem:
    found = [p for p in problems if p.variable == variable]
    assert found, f"no problem reported for {variable}: {problems}"
    return found[0]


def test_a_good_production_config_has_no_errors() -> None:
    problems = check_environment(GOOD, "all")
    assert [p for p in problems if p.severity == "error"] == []


def test_missing_token_is_an_error_with_a_fix() -> None:
    env = {k: v for k, v in GOOD.items() if k != "DISCORD_TOKEN"}
    problem = by_variable(check_environment(env, "bot"), "DISCORD_TOKEN")
    assert problem.severity == "error"
    assert problem.message == "is not set"
    assert "discord.com/developers" in problem.fix and "sandbox" in problem.fix


def test_the_panel_does_not_need_the_bot_token() -> None:
    env = {k: v for k, v in GOOD.items() if k != "DISCORD_TOKEN"}
    assert not [p for p in check_environment(env, "panel") if p.severity == "error"]


@pytest.mark.parametrize("value", ["changeme", "your-token-here", "<your token>", "CHANGEME"])
def test_placeholder_secrets_are_caught(value: str) -> None:
    problem = by_variable(check_environment(GOOD | {"SESSION_SECRET": value}), "SESSION_SECRET")
    assert problem.severity == "error"
    assert "placeholder" in problem.message
    assert "replace it" in problem.fix


def test_placeholder_token_is_caught_before_its_shape() -> None:
    problem = by_variable(
        check_environment(GOOD | {"DISCORD_TOKEN": "your-token-here"}), "DISCORD_TOKEN"
    )
    assert "placeholder" in problem.message


def test_malformed_lavalink_entry_names_the_entry_and_the_fix() -> None:
    env = GOOD | {"LAVALINK_NODES": "eu:eu-1:http://10.0.0.5:2333:pw,us-1:http://x:1"}
    problem = by_variable(check_environment(env), "LAVALINK_NODES")
    assert "entry 2" in problem.message
    assert "region:name:http(s)://host:port" in problem.fix


def test_unknown_region_in_lavalink_nodes_is_caught() -> None:
    env = GOOD | {"LAVALINK_NODES": "mars:m-1:http://10.0.0.5:2333:pw"}
    problem = by_variable(check_environment(env), "LAVALINK_NODES")
    assert "unknown region 'mars'" in problem.message
    assert "us, eu or apac" in problem.fix


def test_unknown_bot_region_is_caught() -> None:
    problem = by_variable(check_environment(GOOD | {"REGION": "mars"}, "bot"), "REGION")
    assert "unknown region" in problem.message
    assert "auto" in problem.fix


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DISCORD_TOKEN", "abc.def", "does not look like a Discord bot token"),
        ("BOT_BRIDGE_TOKEN", "short-but-real-9f8e", "too short"),
        ("PANEL_PORT", "80800", "outside 0-65535"),
        ("PANEL_PORT", "eighty", "whole number"),
        ("DATABASE_URL", "oracle://x/y", "supports sqlite"),
        ("REDIS_URL", "http://cache:6379", "redis://"),
        ("REDIS_URL", "redis+sentinel://s1:26379,s2:26379", "names no primary service"),
        ("DATABASE_URL", "postgresql+asyncpg://u@db/app?pgbouncer=maybe", "not true or false"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,lb.internal", "TRUSTED_PROXIES entry"),
        ("PANEL_URL", "127.0.0.1:8080", "http://"),
        ("DISCORD_CLIENT_ID", "my-app", "application id"),
        ("ENCRYPTION_KEYS", "not base64!!", "base64"),
        ("STRIPE_SECRET_KEY", "pk_live_123456", "sk_"),
        ("LOG_LEVEL", "loud", "log level"),
        ("WEBHOOK_SIGNING_SECRET", "short-f3a9", "too short"),
        ("WEBHOOK_ALLOWED_HOSTS", "https://receiver.internal:8080", "WEBHOOK_ALLOWED_HOSTS"),
        ("STAFF_USER_IDS", "123456789012345678,@sam", "must be a Discord id"),
    ],
)
def test_format_problems(variable: str, value: str, words: str) -> None:
    problem = by_variable(check_environment(GOOD | {variable: value}), variable)
    assert problem.severity == "error"
    assert words in problem.message
    assert problem.fix


def test_sentinel_urls_trusted_proxies_and_pgbouncer_pass() -> None:
    problems = check_environment(
        GOOD
        | {
            "REDIS_URL": "redis+sentinel://:pw@s1:26379,s2:26379/vectobeat/0",
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10",
            "DATABASE_URL": "postgresql+asyncpg://u:pw@pgbouncer:6432/app?pgbouncer=true",
        }
    )
    named = {p.variable for p in problems}
    assert not named & {"REDIS_URL", "TRUSTED_PROXIES", "DATABASE_URL"}, problems


def test_prefixed_variables_win_and_unknown_prefixed_names_warn() -> None:
    env = GOOD | {"VECTOBEAT_SESSION_SECRET": "changeme", "VECTOBEAT_SESION_SECRET": "x" * 40}
    problems = check_environment(env)
    assert "placeholder" in by_variable(problems, "SESSION_SECRET").message
    assert by_variable(problems, "VECTOBEAT_SESION_SECRET").severity == "warning"


def test_errors_come_first() -> None:
    problems = check_environment(GOOD | {"VECTOBEAT_TYPO": "1", "REGION": "mars"})
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s != "error")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("changeme", True), ("your_key_here", True), ("<secret>", True), ("xxxxxxxx", True),
     ("9b1f0c2e4d", False), ("correct-horse-battery", False)],
)  # fmt: skip
def test_is_placeholder(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


STRIPE = {
    "STRIPE_SECRET_KEY": "sk_test_" + "k" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
    "STRIPE_PRICES": "starter=price_1AbC,pro=price_2DeF",
}


def test_a_good_billing_config_has_no_problems() -> None:
    stripe_problems = [
        p for p in check_environment(GOOD | STRIPE, "panel") if "STRIPE" in p.variable
    ]
    assert stripe_problems == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("gold=price_1", "Unknown plan tier 'gold'"),
        ("pro:price_1", "tier=price_id"),
        ("free=price_1", "cannot be sold"),
        ("pro=price_1,pro=price_2", "two prices"),
        ("pro=price 1", "price id for pro"),
    ],
)
def test_unreadable_stripe_prices_are_errors_with_a_fix(value: str, words: str) -> None:
    problem = by_variable(
        check_environment(GOOD | STRIPE | {"STRIPE_PRICES": value}, "panel"), "STRIPE_PRICES"
    )
    assert problem.severity == "error"
    assert words in problem.message
    assert "tier=price_id" in problem.fix and "Stripe dashboard" in problem.fix


@pytest.mark.parametrize(
    ("unset", "reported"),
    [
        ("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET"),
        ("STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY"),
    ],
)
def test_stripe_key_and_webhook_secret_go_together(unset: str, reported: str) -> None:
    env = {k: v for k, v in (GOOD | STRIPE).items() if k != unset}
    problem = by_variable(check_environment(env, "panel"), reported)
    assert problem.severity == "error" and "is not set while" in problem.message
    assert "turn billing off" in problem.fix
    assert by_variable(check_environment(env, "all"), reported).severity == "error"
    assert not [p for p in check_environment(env, "bot") if "STRIPE" in p.variable]


def test_billing_off_entirely_is_fine_and_prices_without_a_key_are_still_checked() -> None:
    assert not [p for p in check_environment(GOOD, "panel") if "STRIPE" in p.variable]
    problem = by_variable(check_environment(GOOD | {"STRIPE_PRICES": "gold=x"}), "STRIPE_PRICES")
    assert problem.severity == "error"


def test_billing_on_without_prices_warns() -> None:
    env = {k: v for k, v in (GOOD | STRIPE).items() if k != "STRIPE_PRICES"}
    problem = by_variable(check_environment(env, "panel"), "STRIPE_PRICES")
    assert problem.severity == "warning" and "no plan is for sale" in problem.message


@pytest.mark.parametrize(
    ("values", "variable", "words"),
    [
        ({"SHARD_IDS": "0,1"}, "SHARD_IDS", "needs SHARD_COUNT"),
        ({"SHARD_IDS": "0,1", "SHARD_COUNT": "2", "REDIS_URL": ""}, "SHARD_IDS", "needs REDIS_URL"),
        ({"SHARD_IDS": "0,2", "SHARD_COUNT": "2"}, "SHARD_IDS", "outside 0..1"),
        ({"SHARD_IDS": "zero", "SHARD_COUNT": "2"}, "SHARD_IDS", "shard numbers"),
        ({"SHARD_SPARE": "true"}, "SHARD_SPARE", "needs SHARD_COUNT"),
        ({"SHARD_SPARE_MAX": "0"}, "SHARD_SPARE_MAX", "at least 1"),
    ],
)
def test_shard_settings_are_checked_as_the_bot_refuses_them(
    values: dict[str, str], variable: str, words: str
) -> None:
    problem = by_variable(check_environment(GOOD | values, "bot"), variable)
    assert problem.severity == "error" and words in problem.message and problem.fix


def test_good_shard_settings_pass() -> None:
    env = GOOD | {"SHARD_IDS": "0,1", "SHARD_COUNT": "4", "SHARD_SPARE_MAX": "2"}
    assert not [p for p in check_environment(env, "bot") if p.variable.startswith("SHARD")]
