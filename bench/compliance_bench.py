"""Compliance export and erasure: how long building, encrypting and mailing an export takes for a
guild with N audit events (in-memory stores and SQLite), how big it is, and how long erasing the
guild from every store takes. Mail goes to a real SMTP server on 127.0.0.1 (aiosmtpd).

    .venv/bin/python bench/compliance_bench.py --events 10000 100000

Prints a table, then (last line) one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.smtp_support import settings_for, smtp_server  # noqa: E402

from vectobeat_adapters.compliance.desk import ComplianceDesk  # noqa: E402
from vectobeat_adapters.compliance.vault import ArchiveVault  # noqa: E402
from vectobeat_adapters.config import load_config  # noqa: E402
from vectobeat_adapters.crypto import Keyring  # noqa: E402
from vectobeat_adapters.mail import SmtpMailer  # noqa: E402
from vectobeat_adapters.services import Services, memory_services, open_services  # noqa: E402
from vectobeat_core.audit import AuditEvent, AuditKind  # noqa: E402
from vectobeat_core.ids import GuildId, UserId  # noqa: E402

GUILD = GuildId(412_345_678_901_234_567)


async def seed(services: Services, events: int) -> None:
    now = services.clock.now()
    for n in range(events):
        await services.audit.append(
            AuditEvent(AuditKind.SETTINGS_CHANGED, now + n, GUILD, f"user:{n % 50}", f"edit {n}")
        )


async def measure(services: Services, events: int, tmp: Path, port: int) -> dict[str, Any]:
    await seed(services, events)
    desk = ComplianceDesk(
        services,
        ArchiveVault(tmp / f"exports-{events}", Keyring.from_config(Keyring.generate_key())),
        SmtpMailer(lambda: settings_for(port, "none")),
        link_base="https://panel.example",
        secret=b"bench",
        options=None,
    )
    opened = await desk.request(GUILD, "export", UserId(1), "dpo@example.com")
    started = time.perf_counter()
    done = await desk.process(opened.request_id)
    export_s = time.perf_counter() - started
    size = int(done.detail.split("(", 1)[1].split(",")[1].split()[0])
    erase = await desk.request(GUILD, "delete", UserId(1), "dpo@example.com")
    await desk.confirm_delete(
        GUILD, erase.request_id, guild_name="", token=desk.confirmation_token(erase)
    )
    started = time.perf_counter()
    erased = await desk.process(erase.request_id)
    erase_s = time.perf_counter() - started
    assert done.status == erased.status == "sent", (done.detail, erased.detail)
    return {
        "events": events,
        "export_s": round(export_s, 3),
        "zip_bytes": size,
        "bytes_per_event": round(size / events, 1),
        "erase_s": round(erase_s, 3),
        "events_per_s": round(events / export_s),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (_, port, _trust):
        for events in args.events:
            figures[f"memory/{events}"] = await measure(memory_services(), events, Path(tmp), port)
            url = f"sqlite+aiosqlite:///{tmp}/bench-{events}.db"
            config = load_config({"DATABASE_URL": url, "ENCRYPTION_KEYS": Keyring.generate_key()})
            async with open_services(config) as services:
                figures[f"sqlite/{events}"] = await measure(services, events, Path(tmp), port)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 50_000])
    args = parser.parse_args()
    figures = anyio.run(run, args)
    out = sys.stdout
    out.write("compliance export (build, encrypt, mail) and erasure of one guild\n")
    out.write(
        f"{'store':<8}{'events':>10}{'export s':>10}{'events/s':>10}{'zip KB':>10}"
        f"{'B/event':>9}{'erase s':>9}\n"
    )
    for key, f in figures.items():
        out.write(
            f"{key.split('/')[0]:<8}{f['events']:>10}{f['export_s']:>10.2f}{f['events_per_s']:>10}"
            f"{f['zip_bytes'] / 1024:>10.0f}{f['bytes_per_event']:>9.1f}{f['erase_s']:>9.2f}\n"
        )
    first, last = min(args.events), max(args.events)
    if first != last:
        ratio = figures[f"sqlite/{last}"]["export_s"] / figures[f"sqlite/{first}"]["export_s"]
        figures["sqlite_export_time_ratio"] = {
            "events_ratio": last / first,
            "time_ratio": round(ratio, 2),
        }
    out.write(json.dumps(figures, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
