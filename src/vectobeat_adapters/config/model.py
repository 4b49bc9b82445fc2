"""`AppConfig`: every configuration variable, declared once with its type, default, docs text,
who reads it and how it is checked (`setting`). ``FIELDS`` lists them for the loader, the
reference (``docs/configuration.md``) and ``validate-env``.
"""

from __future__ import annotations

import attrs

from vectobeat_adapters.config import rules
from vectobeat_adapters.config.fields import Field, Secret, setting
from vectobeat_adapters.config.nodes import NODES_UNSET_FIX, check_nodes
from vectobeat_adapters.config.shards import check_shard_ids, check_shard_spare

__all__ = ["FIELDS", "LOG_LEVELS", "SMTP_TLS_MODES", "AppConfig"]

MAX_SEARCH_TIMEOUT = 840  # seconds: Discord lets a bot edit its interaction reply for 15 minutes

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SMTP_TLS_MODES = ("starttls", "implicit", "none")


@attrs.frozen
class AppConfig:
    """Validated configuration of one process. Secrets are :class:`Secret`; unset is ``None``."""

    database_url: str = setting(
        "sqlite+aiosqlite:///./vectobeat.db",
        (
            "SQLAlchemy URL of the database (panel data; queue snapshots too when REDIS_URL is "
            "unset): sqlite+aiosqlite:///file.db, mysql+aiomysql://user:pw@host/db or "
            "postgresql+asyncpg://user:pw@host/db."
        ),
        kind="url",
        checks=(rules.database_url,),
    )
    redis_url: str | None = setting(
        None,
        (
            "Redis URL for queue snapshots, health, pub/sub, shard leases and the panel's shared "
            "rate limits: redis://[:password@]host:6379/0, rediss://, unix://, or Redis Sentinel "
            "as redis+sentinel://[:password@]host1:26379,host2:26379/service_name/0 (a primary "
            "failover is survived like a Redis restart); unset keeps queue snapshots in the "
            "DATABASE_URL database and the rest in memory (one process)."
        ),
        kind="url",
        checks=(rules.redis_url,),
    )
    lavalink_nodes: str | None = setting(
        None,
        (
            "Lavalink nodes as region:name:http(s)://host:port[:password], comma separated; unset "
            "with no DISCORD_TOKEN runs the sandbox cluster."
        ),
        components=("bot", "ops"),
        checks=(check_nodes,),
        required_by=("bot",),
        unset_fix=NODES_UNSET_FIX,
    )
    lavalink_password: Secret | None = setting(
        None,
        "Password for Lavalink nodes whose entry in LAVALINK_NODES has none.",
        components=("bot", "ops"),
        secret=True,
        checks=(rules.min_length(8),),
    )
    discord_token: Secret | None = setting(
        None,
        "The bot token; unset runs the sandbox with the testkit's fake Discord.",
        components=("bot",),
        secret=True,
        checks=(rules.discord_token,),
        required_by=("bot",),
        unset_fix=(
            "set DISCORD_TOKEN to the bot token from https://discord.com/developers/applications "
            "(Bot > Reset Token); without it `vectobeat-ops up` runs the sandbox instead"
        ),
    )
    discord_api_base: str | None = setting(
        None,
        (
            "Discord REST base URL (for testing and self-hosted gateways), e.g. "
            "http://127.0.0.1:8500/api/v10."
        ),
        components=("bot", "panel"),
        kind="url",
        checks=(rules.url(),),
    )
    discord_gateway_url: str | None = setting(
        None,
        "Discord gateway URL (for testing and self-hosted gateways).",
        components=("bot",),
        kind="url",
        checks=(rules.url("ws", "wss"),),
    )
    discord_client_id: str | None = setting(
        None,
        "OAuth2 application id for the panel's Discord login.",
        components=("panel",),
        checks=(rules.snowflake,),
        required_by=("panel",),
        unset_fix="set DISCORD_CLIENT_ID to the application id (Developer Portal > OAuth2)",
    )
    discord_client_secret: Secret | None = setting(
        None,
        "OAuth2 client secret for the panel's Discord login.",
        components=("panel",),
        secret=True,
        checks=(rules.min_length(16),),
        required_by=("panel",),
        unset_fix=(
            "set DISCORD_CLIENT_SECRET to the OAuth2 client secret (Developer Portal > OAuth2)"
        ),
    )
    panel_url: str = setting(
        "http://127.0.0.1:8080",
        "Public base URL of the panel (OAuth2 redirect and the bot's bridge).",
        kind="url",
        checks=(rules.url(),),
    )
    panel_host: str = setting(
        "127.0.0.1",
        "Address the panel listens on.",
        components=("panel",),
    )
    panel_port: int = setting(
        8080,
        "Port the panel listens on.",
        components=("panel",),
        kind="int",
        checks=(rules.port,),
    )
    bot_bridge_token: Secret | None = setting(
        None,
        "Bearer token the bot presents to the panel's /api/bot/* bridge (32+ characters).",
        components=("bot", "panel"),
        secret=True,
        checks=(rules.min_length(32),),
        required_by=("bot", "panel"),
        unset_fix=(
            "set BOT_BRIDGE_TOKEN to the same 32+ character secret in the bot and the panel, "
            f"e.g. {rules.GENERATE_SECRET}"
        ),
    )
    session_secret: Secret | None = setting(
        None,
        "Key that signs panel session cookies (32+ characters).",
        components=("panel",),
        secret=True,
        checks=(rules.min_length(32),),
        required_by=("panel",),
        unset_fix=f"set SESSION_SECRET to 32+ random characters: {rules.GENERATE_SECRET}",
    )
    encryption_keys: Secret | None = setting(
        None,
        "Comma-separated keys for sensitive columns; the first encrypts, all decrypt (rotation).",
        components=("panel", "ops"),
        secret=True,
        checks=(rules.encryption_keys,),
    )
    status_host: str = setting(
        "127.0.0.1",
        "Address of the bot's Status API.",
        components=("bot",),
    )
    status_port: int = setting(
        8090,
        "Port of the bot's Status API and /metrics.",
        components=("bot",),
        kind="int",
        checks=(rules.port,),
    )
    status_token: Secret | None = setting(
        None,
        "Bearer token for the bot's /status; unset keeps /status open on loopback only.",
        components=("bot",),
        secret=True,
        checks=(rules.min_length(32),),
    )
    stripe_secret_key: Secret | None = setting(
        None,
        "Stripe API key (sk_...).",
        components=("panel",),
        secret=True,
        checks=(
            rules.prefixed(
                ("sk_", "rk_"),
                "a Stripe secret key starts with sk_ (or rk_)",
                "copy it again from the Stripe dashboard",
            ),
        ),
    )
    stripe_webhook_secret: Secret | None = setting(
        None,
        "Stripe webhook signing secret (whsec_...).",
        components=("panel",),
        secret=True,
        checks=(
            rules.prefixed(
                ("whsec_",),
                "a Stripe webhook secret starts with whsec_",
                "copy it again from the Stripe dashboard",
            ),
        ),
    )
    stripe_api_base: str | None = setting(
        None,
        "Stripe API base URL (for testing with the testkit's fake Stripe).",
        components=("panel",),
        kind="url",
        checks=(rules.url(),),
    )
    alarm_discord_webhook_url: Secret | None = setting(
        None,
        "Discord webhook that receives node and shard alarms.",
        components=("ops", "bot"),
        secret=True,
        kind="url",
        checks=(rules.url(),),
    )
    alarm_pagerduty_routing_key: Secret | None = setting(
        None,
        "PagerDuty Events API v2 routing key.",
        components=("ops", "bot"),
        secret=True,
        checks=(rules.min_length(32),),
    )
    alarm_pagerduty_url: str = setting(
        "https://events.pagerduty.com/v2/enqueue",
        "PagerDuty Events API v2 endpoint.",
        components=("ops", "bot"),
        kind="url",
        checks=(rules.url(),),
    )
    alarm_webhook_url: str | None = setting(
        None,
        "Generic JSON webhook that receives alarms.",
        components=("ops", "bot"),
        kind="url",
        checks=(rules.url(),),
    )
    smtp_host: str | None = setting(
        None,
        "SMTP server that sends compliance exports; unset: the compliance desk cannot mail them.",
        components=("panel",),
    )
    smtp_port: int = setting(
        587,
        "SMTP port (587 for STARTTLS, 465 for implicit TLS).",
        components=("panel",),
        kind="int",
        checks=(rules.port,),
    )
    smtp_tls: str = setting(
        "starttls",
        "SMTP transport security: starttls, implicit (TLS from the first byte) or none.",
        components=("panel",),
        checks=(rules.one_of("SMTP TLS mode", SMTP_TLS_MODES, "use starttls, implicit or none"),),
    )
    smtp_username: str | None = setting(
        None,
        "SMTP user name (unset: no login). Read again on every send.",
        components=("panel",),
    )
    smtp_password: Secret | None = setting(
        None,
        "SMTP password, read again on every send (rotate it without a restart).",
        components=("panel",),
        secret=True,
    )
    smtp_password_previous: Secret | None = setting(
        None,
        "The SMTP password before a rotation, tried when SMTP_PASSWORD is refused.",
        components=("panel",),
        secret=True,
    )
    smtp_from: str | None = setting(
        None,
        "Sender address of compliance mails (e.g. VectoBeat <privacy@example.com>).",
        components=("panel",),
    )
    smtp_timeout: float = setting(
        15.0,
        "Seconds an SMTP connection or command may take before the send fails.",
        components=("panel",),
        kind="float",
    )
    compliance_attachment_max_bytes: int = setting(
        5_000_000,
        "Largest compliance export mailed as an attachment; larger ones are sent as a link.",
        components=("panel",),
        kind="int",
        checks=(rules.at_least(1, "use a positive number of bytes"),),
    )
    compliance_link_ttl: float = setting(
        259_200.0,
        "Seconds a compliance export's download link stays valid.",
        components=("panel",),
        kind="float",
    )
    compliance_dir: str = setting(
        "./compliance-exports",
        "Directory of the encrypted compliance exports (shared by every panel replica).",
        components=("panel",),
    )
    plans_file: str | None = setting(
        None,
        "Operator override of the plan capability matrix (JSON).",
        checks=(rules.plans_file,),
    )
    shard_count: int | None = setting(
        None,
        "Total shards; unset lets AutoShardedBot ask Discord.",
        components=("bot",),
        kind="int",
        checks=(rules.at_least(1, "unset it to let Discord decide"),),
    )
    region: str = setting(
        "auto",
        "Region this bot process serves for hot spares.",
        components=("bot",),
        checks=(rules.region,),
    )
    shard_ids: str | None = setting(
        None,
        (
            "Comma list of the shard IDs this process owns through Redis leases (needs REDIS_URL and "
            "SHARD_COUNT); unset runs every shard without leases."
        ),
        components=("bot",),
        checks=(check_shard_ids,),
    )
    shard_spare: bool = setting(
        False,
        (
            "Run as a hot spare for REGION: start no shard, take over stale ones (needs REDIS_URL and"
            " SHARD_COUNT)."
        ),
        components=("bot",),
        kind="bool",
        checks=(check_shard_spare,),
    )
    shard_spare_max: int | None = setting(
        None,
        (
            "Most shards a hot spare takes over (size it for what one bot process can carry); unset: "
            "no cap."
        ),
        components=("bot",),
        kind="int",
        checks=(rules.at_least(1, "unset it for no cap, or size it for one bot process"),),
    )
    shard_stale_after: float = setting(
        30.0,
        (
            "Seconds a shard may go without a lease renewal, or its gateway connection without an"
            " answer, before a spare takes it over (a stalled shard is stopped at half of it)."
        ),
        components=("bot",),
        kind="float",
    )
    log_level: str = setting(
        "INFO",
        "Log level: DEBUG, INFO, WARNING, ERROR.",
        checks=(rules.one_of("log level", LOG_LEVELS, "use DEBUG, INFO, WARNING or ERROR"),),
    )
    log_format: str | None = setting(
        None,
        "console or json; unset picks console on a terminal and json otherwise.",
        checks=(rules.one_of("log format", ("console", "json"), "use console or json"),),
    )
    voice_idle_seconds: int = setting(
        300,
        "Seconds the bot stays in a voice channel nobody else is in before it leaves.",
        components=("bot",),
        kind="int",
    )
    search_timeout_seconds: int = setting(
        60,
        "Seconds the menu of /search results can be used before it is disabled.",
        components=("bot",),
        kind="int",
        checks=(
            rules.between(
                1,
                MAX_SEARCH_TIMEOUT,
                "Discord lets a bot edit its reply for 15 minutes: use 1 to 840",
            ),
        ),
    )
    automation_restart_seconds: int = setting(
        10,
        (
            "At automation level full: seconds a player with a queue may play nothing before it is "
            "restarted."
        ),
        components=("bot",),
        kind="int",
    )
    bot_data_dir: str = setting(
        "./.vectobeat",
        (
            "Directory of the bot's local state: the queue journal (queue-journal.sqlite3) that keeps"
            " acknowledged queue changes while the queue store is down, the last known settings and "
            "plan of each guild (settings/, used while the panel is unreachable) and each Lavalink "
            "node's session id (lavalink-sessions.json, resumed after a restart)."
        ),
        components=("bot",),
    )
    stripe_prices: str | None = setting(
        None,
        (
            "Stripe price id of each plan for sale, as tier=price_id, comma separated (e.g. "
            "starter=price_1,pro=price_2,growth=price_3)."
        ),
        components=("panel",),
        checks=(rules.stripe_prices,),
    )
    store_timeout: float = setting(
        3.0,
        (
            "Seconds one Redis or SQL operation may take (retries included) before it is reported "
            "unavailable; the database is told to abandon a statement after two thirds of it."
        ),
        kind="float",
    )
    http_timeout: float = setting(
        3.0,
        (
            "Seconds one call from a panel request to Discord's OAuth2 API or to Stripe may take "
            "(Stripe: each attempt) before the page answers 503."
        ),
        components=("panel",),
        kind="float",
    )
    webhook_signing_secret: Secret | None = setting(
        None,
        (
            "Master key (16+ characters) from which each guild's webhook-export signing secret is "
            "derived; the same value on bot and panel. Unset turns webhook exports off."
        ),
        components=("bot", "panel"),
        secret=True,
        checks=(rules.min_length(16),),
    )
    webhook_allowed_hosts: str | None = setting(
        None,
        (
            "Host names or IPs, comma separated, that webhook exports may reach over plain http:// "
            "and on internal addresses (e.g. receiver.internal,10.0.0.5); unset: https:// to public "
            "addresses only."
        ),
        components=("bot", "panel"),
        checks=(rules.allowed_hosts,),
    )
    staff_user_ids: str | None = setting(
        None,
        (
            "Discord user ids of the operator's staff, comma separated: they acknowledge, "
            "schedule, assign and resolve concierge and success-pod requests and see account "
            "contacts (guild admins cannot). Unset: nobody acts on requests."
        ),
        components=("bot", "panel"),
        checks=(rules.staff_user_ids,),
    )
    trusted_proxies: str | None = setting(
        None,
        (
            "Reverse proxies and load balancers in front of the panel, as IPs or CIDR networks, "
            "comma separated (e.g. 10.0.0.0/8,192.168.1.10). A request from one of them is "
            "counted against the client its X-Forwarded-For names (read right to left, skipping "
            "these proxies) for the panel's rate limits; unset: the TCP peer is the client, and "
            "X-Forwarded-For is ignored."
        ),
        components=("panel",),
        checks=(rules.trusted_proxies,),
    )
    sla_check_seconds: float = setting(
        60.0,
        (
            "How often the bot looks for care requests past their SLA deadline and alarms them "
            "through the ALARM_* sinks (0.1 to 600)."
        ),
        components=("bot",),
        kind="float",
    )


FIELDS: tuple[Field, ...] = tuple(Field.of(a) for a in attrs.fields(AppConfig))
"""Every variable, in declaration order."""
