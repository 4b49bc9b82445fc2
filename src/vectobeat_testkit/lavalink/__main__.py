"""``python -m vectobeat_testkit.lavalink``: run a fake Lavalink v4 node for humans."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from vectobeat_testkit.lavalink.catalogue import Catalogue
from vectobeat_testkit.lavalink.profiles import PROFILES, ServerProfile, parse_profiles
from vectobeat_testkit.lavalink.server import FakeLavalinkNode

__all__ = ["main"]


def _demo_catalogue() -> Catalogue:
    catalogue = Catalogue()
    songs = [
        catalogue.add("Never Gonna Give You Up", "Rick Astley", 213_000, identifier="dQw4w9WgXcQ"),
        catalogue.add("Blue Monday", "New Order", 448_000),
        catalogue.add("Windowlicker", "Aphex Twin", 367_000, source="soundcloud"),
    ]
    catalogue.add_playlist("https://example.test/playlist?list=demo", "Demo mix", songs)
    catalogue.fail("https://example.test/broken", "This video is unavailable")
    return catalogue


async def _serve(args: argparse.Namespace) -> None:
    node = FakeLavalinkNode(
        password=args.password,
        name=args.name,
        region=args.region,
        host=args.host,
        port=args.port,
        speed=args.speed,
        catalogue=_demo_catalogue(),
        profile=args.profile,
    )
    async with node:
        print(f"fake Lavalink {node.name} ({node.region}) on {node.base_url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vectobeat_testkit.lavalink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2333, help="0 picks a free port")
    parser.add_argument("--name", default="fake-1")
    parser.add_argument("--region", default="local")
    parser.add_argument("--password", default="youshallnotpass")
    parser.add_argument("--speed", type=float, default=1.0, help="playback clock speed factor")
    profiles = "; ".join(f"{name}: {text}" for name, (text, _) in sorted(PROFILES.items()))
    parser.add_argument(
        "--profile",
        type=parse_profiles,
        default=ServerProfile(),
        help=f"comma-separated deviations of real servers ({profiles})",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
