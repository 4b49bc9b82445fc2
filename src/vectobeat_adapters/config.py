"""Configuration: read once at the edge from ``VECTOBEAT_*``-style variables and ``.env``.

The schema is the table ``FIELDS``; ``docs/configuration.md`` is generated from it
(``python -m vectobeat_adapters.config --markdown``) and a test fails when the doc is stale.
Nothing deep in the code reads ``os.environ``: apps call :func:`load_config` once and pass the
frozen :class:`AppConfig` down.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import attrs

from vectobeat_core.errors import ConfigError
from vectobeat_core.settings import SETTING_HELP, SETTINGS_FIELDS, ServerSettings

__all__ = ["FIELDS", "AppConfig", "Field", "Secret", "load_config", "read_dotenv"]

Component = Literal["bot", "panel", "ops"]


@attrs.frozen(repr=False)
class Secret:
    """A secret string whose repr and str are masked, so it never lands in a log by accident."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)


@attrs.frozen
class Field:
    """One configuration variable: its name, default, whether secret, who needs it, and help."""

    env: str
    attr: str
    default: str | None
    help: str
    components: tuple[Component, ...] = ("bot", "panel", "ops")
    secret: bool = False
    kind: Literal["str", "int", "float", "bool", "url"] = "str"


FIELDS: tuple[Field, ...] = (
    Field(
        "DATABASE_URL",
        "database_url",
        "sqlite+aiosqlite:///./vectobeat.db",
        "SQLAlchemy URL of the database (panel data; queue snapshots too when REDIS_URL is unset): "
        "sqlite+aiosqlite:///file.db, "
        "mysql+aiomysql://user:pw@host/db or postgresql+asyncpg://user:pw@host/db.",
        kind="url",
    ),
    Field(
        "REDIS_URL",
        "redis_url",
        None,
        "Redis URL for queue snapshots, health, pub/sub and shard leases; "
        "unset keeps queue snapshots in the DATABASE_URL database and the rest in memory "
        "(one process).",
        kind="url",
    ),
    Field(
        "LAVALINK_NODES",
        "lavalink_nodes",
        None,
        "Lavalink nodes as region:name:http(s)://host:port[:password], comma separated; "
        "unset with no DISCORD_TOKEN runs the sandbox cluster.",
        components=("bot", "ops"),
    ),
    Field(
        "LAVALINK_PASSWORD",
        "lavalink_password",
        None,
        "Password for Lavalink nodes whose entry in LAVALINK_NODES has none.",
        components=("bot", "ops"),
        secret=True,
    ),
    Field(
        "DISCORD_TOKEN",
        "discord_token",
        None,
        "The bot token; unset runs the sandbox with the testkit's fake Discord.",
        components=("bot",),
        secret=True,
    ),
    Field(
        "DISCORD_API_BASE",
        "discord_api_base",
        None,
        "Discord REST base URL (for testing and self-hosted gateways), e.g. http://127.0.0.1:8500/api/v10.",
        components=("bot", "panel"),
        kind="url",
    ),
    Field(
        "DISCORD_GATEWAY_URL",
        "discord_gateway_url",
        None,
        "Discord gateway URL (for testing and self-hosted gateways).",
        components=("bot",),
        kind="url",
    ),
    Field(
        "DISCORD_CLIENT_ID",
        "discord_client_id",
        None,
        "OAuth2 application id for the panel's Discord login.",
        components=("panel",),
    ),
    Field(
        "DISCORD_CLIENT_SECRET",
        "discord_client_secret",
        None,
        "OAuth2 client secret for the panel's Discord login.",
        components=("panel",),
        secret=True,
    ),
    Field(
        "PANEL_URL",
        "panel_url",
        "http://127.0.0.1:8080",
        "Public base URL of the panel (OAuth2 redirect and the bot's bridge).",
        kind="url",
    ),
    Field(
        "PANEL_HOST",
        "panel_host",
        "127.0.0.1",
        "Address the panel listens on.",
        components=("panel",),
    ),
    Field(
        "PANEL_PORT",
        "panel_port",
        "8080",
        "Port the panel listens on.",
        components=("panel",),
        kind="int",
    ),
    Field(
        "BOT_BRIDGE_TOKEN",
        "bot_bridge_token",
        None,
        "Bearer token the bot presents to the panel's /api/bot/* bridge (32+ characters).",
        components=("bot", "panel"),
        secret=True,
    ),
    Field(
        "SESSION_SECRET",
        "session_secret",
        None,
        "Key that signs panel session cookies (32+ characters).",
        components=("panel",),
        secret=True,
    ),
    Field(
        "ENCRYPTION_KEYS",
        "encryption_keys",
        None,
        "Comma-separated keys for sensitive columns; the first encrypts, all decrypt (rotation).",
        components=("panel", "ops"),
        secret=True,
    ),
    Field(
        "STATUS_HOST",
        "status_host",
        "127.0.0.1",
        "Address of the bot's Status API.",
        components=("bot",),
    ),
    Field(
        "STATUS_PORT",
        "status_port",
        "8090",
        "Port of the bot's Status API and /metrics.",
        components=("bot",),
        kind="int",
    ),
    Field(
        "STATUS_TOKEN",
        "status_token",
        None,
        "Bearer token for the bot's /status; unset keeps /status open on loopback only.",
        components=("bot",),
        secret=True,
    ),
    Field(
        "STRIPE_SECRET_KEY",
        "stripe_secret_key",
        None,
        "Stripe API key (sk_...).",
        components=("panel",),
        secret=True,
    ),
    Field(
        "STRIPE_WEBHOOK_SECRET",
        "stripe_webhook_secret",
        None,
        "Stripe webhook signing secret (whsec_...).",
        components=("panel",),
        secret=True,
    ),
    Field(
        "STRIPE_API_BASE",
        "stripe_api_base",
        None,
        "Stripe API base URL (for testing with the testkit's fake Stripe).",
        components=("panel",),
        kind="url",
    ),
    Field(
        "ALARM_DISCORD_WEBHOOK_URL",
        "alarm_discord_webhook_url",
        None,
        "Discord webhook that receives node and shard alarms.",
        components=("ops", "bot"),
        secret=True,
        kind="url",
    ),
    Field(
        "ALARM_PAGERDUTY_ROUTING_KEY",
        "alarm_pagerduty_routing_key",
        None,
        "PagerDuty Events API v2 routing key.",
        components=("ops", "bot"),
        secret=True,
    ),
    Field(
        "ALARM_PAGERDUTY_URL",
        "alarm_pagerduty_url",
        "https://events.pagerduty.com/v2/enqueue",
        "PagerDuty Events API v2 endpoint.",
        components=("ops", "bot"),
        kind="url",
    ),
    Field(
        "ALARM_WEBHOOK_URL",
        "alarm_webhook_url",
        None,
        "Generic JSON webhook that receives alarms.",
        components=("ops", "bot"),
        kind="url",
    ),
    Field(
        "PLANS_FILE",
        "plans_file",
        None,
        "Operator override of the plan capability matrix (JSON).",
        components=("bot", "panel", "ops"),
    ),
    Field(
        "SHARD_COUNT",
        "shard_count",
        None,
        "Total shards; unset lets AutoShardedBot ask Discord.",
        components=("bot",),
        kind="int",
    ),
    Field(
        "REGION",
        "region",
        "auto",
        "Region this bot process serves for hot spares.",
        components=("bot",),
    ),
    Field(
        "SHARD_IDS",
        "shard_ids",
        None,
        "Comma list of the shard IDs this process owns through Redis leases (needs REDIS_URL "
        "and SHARD_COUNT); unset runs every shard without leases.",
        components=("bot",),
    ),
    Field(
        "SHARD_SPARE",
        "shard_spare",
        "false",
        "Run as a hot spare for REGION: start no shard, take over stale ones (needs REDIS_URL "
        "and SHARD_COUNT).",
        components=("bot",),
        kind="bool",
    ),
    Field(
        "SHARD_SPARE_MAX",
        "shard_spare_max",
        None,
        "Most shards a hot spare takes over (size it for what one bot process can carry); unset: "
        "no cap.",
        components=("bot",),
        kind="int",
    ),
    Field(
        "SHARD_STALE_AFTER",
        "shard_stale_after",
        "30",
        "Seconds without a lease renewal after which a spare takes a shard over.",
        components=("bot",),
        kind="float",
    ),
    Field("LOG_LEVEL", "log_level", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR."),
    Field(
        "LOG_FORMAT",
        "log_format",
        None,
        "console or json; unset picks console on a terminal and json otherwise.",
    ),
    Field(
        "VOICE_IDLE_SECONDS",
        "voice_idle_seconds",
        "300",
        "Seconds the bot stays in a voice channel nobody else is in before it leaves.",
        components=("bot",),
        kind="int",
    ),
    Field(
        "AUTOMATION_RESTART_SECONDS",
        "automation_restart_seconds",
        "10",
        "At automation level full: seconds a player with a queue may play nothing before it is restarted.",
        components=("bot",),
        kind="int",
    ),
    Field(
        "BOT_DATA_DIR",
        "bot_data_dir",
        "./.vectobeat",
        "Directory of the bot's local state: the queue journal (queue-journal.sqlite3) that "
        "keeps acknowledged queue changes while the queue store is down, the last known settings "
        "and plan of each guild (settings/, used while the panel is unreachable) and each "
        "Lavalink node's session id (lavalink-sessions.json, resumed after a restart).",
        components=("bot",),
    ),
    Field(
        "STRIPE_PRICES",
        "stripe_prices",
        None,
        "Stripe price id of each plan for sale, as tier=price_id, comma separated "
        "(e.g. starter=price_1,pro=price_2,growth=price_3).",
        components=("panel",),
    ),
    Field(
        "STORE_TIMEOUT",
        "store_timeout",
        "3",
        "Seconds one Redis or SQL operation may take (retries included) before it is reported "
        "unavailable; the database is told to abandon a statement after two thirds of it.",
        kind="float",
    ),
    Field(
        "HTTP_TIMEOUT",
        "http_timeout",
        "3",
        "Seconds one call from a panel request to Discord's OAuth2 API or to Stripe may take "
        "(Stripe: each attempt) before the page answers 503.",
        components=("panel",),
        kind="float",
    ),
    Field(
        "WEBHOOK_SIGNING_SECRET",
        "webhook_signing_secret",
        None,
        "Master key (16+ characters) from which each guild's webhook-export signing secret is "
        "derived; the same value on bot and panel. Unset turns webhook exports off.",
        components=("bot", "panel"),
        secret=True,
    ),
    Field(
        "WEBHOOK_ALLOWED_HOSTS",
        "webhook_allowed_hosts",
        None,
        "Host names or IPs, comma separated, that webhook exports may reach over plain http:// "
        "and on internal addresses (e.g. receiver.internal,10.0.0.5); unset: https:// to public "
        "addresses only.",
        components=("bot", "panel"),
    ),
    Field(
        "STAFF_USER_IDS",
        "staff_user_ids",
        None,
        "Discord user ids of the operator's staff, comma separated: they acknowledge, schedule, "
        "assign and resolve concierge and success-pod requests and see account contacts (guild "
        "admins cannot). Unset: nobody acts on requests.",
        components=("bot", "panel"),
    ),
    Field(
        "SLA_CHECK_SECONDS",
        "sla_check_seconds",
        "60",
        "How often the bot looks for care requests past their SLA deadline and alarms them "
        "through the ALARM_* sinks (0.1 to 600).",
        components=("bot",),
        kind="float",
    ),
)


@attrs.frozen
class AppConfig:
    """Validated configuration of one process. Secrets are :class:`Secret`; unset is ``None``.

    One attribute per entry of ``FIELDS`` (a test keeps the two in step).
    """

    database_url: str = "sqlite+aiosqlite:///./vectobeat.db"
    redis_url: str | None = None
    lavalink_nodes: str | None = None
    lavalink_password: Secret | None = None
    discord_token: Secret | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    discord_client_id: str | None = None
    discord_client_secret: Secret | None = None
    panel_url: str = "http://127.0.0.1:8080"
    panel_host: str = "127.0.0.1"
    panel_port: int = 8080
    bot_bridge_token: Secret | None = None
    session_secret: Secret | None = None
    encryption_keys: Secret | None = None
    status_host: str = "127.0.0.1"
    status_port: int = 8090
    status_token: Secret | None = None
    stripe_secret_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None
    stripe_api_base: str | None = None
    alarm_discord_webhook_url: Secret | None = None
    alarm_pagerduty_routing_key: Secret | None = None
    alarm_pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    alarm_webhook_url: str | None = None
    plans_file: str | None = None
    shard_count: int | None = None
    region: str = "auto"
    shard_ids: str | None = None
    shard_spare: bool = False
    shard_spare_max: int | None = None
    shard_stale_after: float = 30.0
    log_level: str = "INFO"
    log_format: str | None = None
    voice_idle_seconds: int = 300
    automation_restart_seconds: int = 10
    bot_data_dir: str = "./.vectobeat"
    stripe_prices: str | None = None
    store_timeout: float = 3.0
    http_timeout: float = 3.0
    webhook_signing_secret: Secret | None = None
    webhook_allowed_hosts: str | None = None
    staff_user_ids: str | None = None
    sla_check_seconds: float = 60.0


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a ``.env`` file (KEY=VALUE, # comments, optional quotes, optional ``export``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    result: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise ConfigError(f"{path}:{lineno}: expected KEY=VALUE, got {raw.strip()[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[key] = value
    return result


def _lookup(env: Mapping[str, str], name: str) -> str | None:
    for key in (f"VECTOBEAT_{name}", name):
        value = env.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _convert(field: Field, raw: str) -> str | int | float | bool | Secret:
    if field.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{field.env} must be a whole number, got {raw!r}") from None
    if field.kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{field.env} must be a number, got {raw!r}") from None
    if field.kind == "bool":
        lowered = raw.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{field.env} must be true or false, got {raw!r}")
    if field.secret:
        return Secret(raw)
    return raw


def load_config(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> AppConfig:
    """Read configuration: ``overrides`` > environment > ``.env`` > defaults.

    Each variable may also be spelled with a ``VECTOBEAT_`` prefix, which wins.
    """
    env: dict[str, str] = {}
    env.update(read_dotenv(dotenv if dotenv is not None else Path(".env")))
    env.update(os.environ if environ is None else environ)
    env.update(overrides or {})
    values: dict[str, object] = {}
    for field in FIELDS:
        raw = _lookup(env, field.env)
        if raw is None:
            raw = field.default
        values[field.attr] = None if raw is None else _convert(field, raw)
    return AppConfig(**values)  # type: ignore[arg-type]


def _shown(value: object) -> str:
    """A setting's default as the docs show it."""
    if value is None or value == ():
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{', '.join(map(str, value))}`"
    return f"`{getattr(value, 'value', value)}`"


def markdown_reference() -> str:
    """The configuration reference, generated from ``FIELDS`` (docs/configuration.md)."""
    lines = [
        "# Configuration reference",
        "",
        "Generated from `vectobeat_adapters.config.FIELDS` by "
        "`python -m vectobeat_adapters.config --markdown > docs/configuration.md`; "
        "a test fails when this file is stale.",
        "",
        "Every variable may also be given with a `VECTOBEAT_` prefix (which wins) or in `.env`.",
        "",
        "| variable | default | secret | used by | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for field in FIELDS:
        default = f"`{field.default}`" if field.default is not None else "—"
        lines.append(
            f"| `{field.env}` | {default} | {'yes' if field.secret else 'no'} | "
            f"{', '.join(field.components)} | {field.help} |"
        )
    defaults = ServerSettings()
    lines += [
        "",
        "## Server settings",
        "",
        "Each guild's settings, edited in the panel (or with `/settings`) and clamped to its plan "
        "(`vectobeat_core.settings.SETTING_HELP`):",
        "",
        "| setting | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name in SETTINGS_FIELDS:
        lines.append(f"| `{name}` | {_shown(getattr(defaults, name))} | {SETTING_HELP[name]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - tiny CLI for the docs generator
    if sys.argv[1:] == ["--markdown"]:
        sys.stdout.write(markdown_reference())
    else:
        sys.stderr.write("usage: python -m vectobeat_adapters.config --markdown\n")
        raise SystemExit(2)
