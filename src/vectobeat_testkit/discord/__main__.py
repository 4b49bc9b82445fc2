"""``python -m vectobeat_testkit.discord --port 8500``: run a fake Discord for humans and scripts."""

from __future__ import annotations

import argparse
import asyncio

from .server import FakeDiscord


async def _serve(args: argparse.Namespace) -> None:
    async with FakeDiscord(
        token=args.token,
        application_id=args.application_id,
        host=args.host,
        port=args.port,
        recommended_shards=args.shards,
        client_secret=args.client_secret,
        redirect_uris=args.redirect_uri,
    ) as fake:
        if args.demo:
            owner = fake.add_user("demo-owner")
            fake.set_oauth_user(owner)
            guild = await fake.add_guild(name="Demo Guild", owner=owner)
            print(f"demo guild {guild.id}, owner {owner.id}", flush=True)
        print(f"REST     {fake.api_base}", flush=True)
        print(f"gateway  {fake.gateway_url}", flush=True)
        print(f"control  {fake.base_url}/_fake/state", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m vectobeat_testkit.discord", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument("--token", default="fake-bot-token")
    parser.add_argument("--application-id", type=int, default=1_100_000_000_000_000_001)
    parser.add_argument("--client-secret", default="fake-client-secret")
    parser.add_argument("--redirect-uri", action="append", default=[])
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="add a demo guild and OAuth2 user")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return


if __name__ == "__main__":
    main()
