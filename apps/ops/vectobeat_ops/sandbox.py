"""``vectobeat-ops sandbox send|pick|kill-node|revive-node|status``: drive the sandbox `up` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.text import Text

from vectobeat_core.errors import InvalidInput, NotFound, Unavailable
from vectobeat_core.wording import counted
from vectobeat_ops.common import JsonFlag, print_json, reporting, stdout, table
from vectobeat_ops.discord_text import render_discord
from vectobeat_testkit.sandbox import read_state_file

__all__ = ["DEFAULT_STATE_FILE", "app", "control"]

DEFAULT_STATE_FILE = Path(".vectobeat/sandbox.json")

app = typer.Typer(
    help="Drive the sandbox started by `vectobeat-ops up` without DISCORD_TOKEN.\n\n"
    'Example: vectobeat-ops sandbox send "/play lofi"',
    no_args_is_help=True,
)

StateFile = Annotated[
    Path, typer.Option("--state-file", help="Where `up` wrote the sandbox's addresses.")
]


def control(
    state_file: Path, method: str, path: str, body: Any = None, timeout: float = 30.0
) -> Any:
    """Call the running sandbox's control API; errors become our error tree."""
    url = read_state_file(state_file)["control_url"] + path
    try:
        response = httpx.request(method, url, json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise Unavailable(
            f"the sandbox at {url} does not answer ({type(exc).__name__}); is `vectobeat-ops up` "
            "still running?"
        ) from None
    try:
        data = response.json()
    except ValueError:
        raise Unavailable(
            f"the sandbox answered HTTP {response.status_code} without JSON"
        ) from None
    if response.status_code >= 400:
        message = str(data.get("error", response.text)) if isinstance(data, dict) else response.text
        if response.status_code == 404:
            raise NotFound(message)
        if response.status_code < 500:
            raise InvalidInput(message)
        raise Unavailable(message)
    return data


def _print_reply(reply: Any, as_json: bool) -> None:
    """The bot's reply as JSON, or rendered for a terminal (Markdown, mentions by name)."""
    if as_json:
        print_json(reply)
        return
    text = str(reply.get("text") or "")
    names = reply.get("names") if isinstance(reply.get("names"), dict) else None
    if not text:
        stdout().print("(the bot answered with no text)", highlight=False, markup=False)
    else:
        stdout().print(render_discord(text, names), highlight=False)


@app.command("send")
def send(
    command: Annotated[
        str, typer.Argument(help='A slash command as a user types it, e.g. "/play lofi".')
    ],
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the bot's reply.")
    ] = 20.0,
    state_file: StateFile = DEFAULT_STATE_FILE,
    as_json: JsonFlag = False,
) -> None:
    """Run a slash command as the demo user in the demo guild and print the bot's reply.

    Example: vectobeat-ops sandbox send "/play lofi"
    """
    with reporting():
        reply = control(
            state_file, "POST", "/send", {"command": command, "timeout": timeout}, timeout + 5
        )
    _print_reply(reply, as_json)


@app.command("pick")
def pick(
    choice: Annotated[
        int, typer.Argument(help="Which result of the latest /search menu, from 1.", min=1)
    ],
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the bot's reply.")
    ] = 20.0,
    state_file: StateFile = DEFAULT_STATE_FILE,
    as_json: JsonFlag = False,
) -> None:
    """Pick a result in the menu of the latest /search as the demo user; print the bot's reply.

    Example: vectobeat-ops sandbox send "/search song" then vectobeat-ops sandbox pick 2
    """
    with reporting():
        reply = control(
            state_file, "POST", "/pick", {"choice": choice, "timeout": timeout}, timeout + 5
        )
    _print_reply(reply, as_json)


def _node_action(name: str, action: str, state_file: Path, as_json: bool) -> None:
    with reporting():
        state = control(state_file, "POST", f"/nodes/{name}/{action}")
    if as_json:
        print_json(state)
    else:
        alive = "alive" if state.get("alive") else "dead"
        stdout().print(f"node {state['name']} ({state['region']}) is {alive}", highlight=False)


@app.command("kill-node")
def kill_node(
    name: Annotated[str, typer.Argument(help="A sandbox node: eu-1, eu-2, us-1 or us-2.")],
    state_file: StateFile = DEFAULT_STATE_FILE,
    as_json: JsonFlag = False,
) -> None:
    """Kill a sandbox Lavalink node; its players move to the other node of the region.

    Example: vectobeat-ops sandbox kill-node eu-1
    """
    _node_action(name, "kill", state_file, as_json)


@app.command("revive-node")
def revive_node(
    name: Annotated[str, typer.Argument(help="A sandbox node: eu-1, eu-2, us-1 or us-2.")],
    state_file: StateFile = DEFAULT_STATE_FILE,
    as_json: JsonFlag = False,
) -> None:
    """Bring a killed sandbox node back (same port, no sessions).

    Example: vectobeat-ops sandbox revive-node eu-1
    """
    _node_action(name, "revive", state_file, as_json)


@app.command("status")
def status(state_file: StateFile = DEFAULT_STATE_FILE, as_json: JsonFlag = False) -> None:
    """Show the running sandbox: its addresses, the demo guild and what plays there, and each
    Lavalink node with its players.

    Example: vectobeat-ops sandbox status
    """
    with reporting():
        state = control(state_file, "GET", "/state")
    if as_json:
        print_json(state)
        return
    console = stdout()
    guild, user = state["guild"], state["user"]
    console.print(
        table(
            "Sandbox",
            ["", ""],
            [
                ["panel", state["panel_url"]],
                ["sign in", f"{state['login_url']}  (as {user['username']})"],
                ["fake Discord", state["discord_control_url"]],
                ["bot", "connected" if state.get("ready_shards") else "not connected (yet)"],
            ],
        )
    )
    playing = [(n, p) for n in state["nodes"] for p in n["players"]]
    names = state.get("names") or {}
    guild_rows = [
        [
            f"{guild['name']} ({guild['id']})",
            f"#{names.get('channels', {}).get(state['voice_channel_id'], state['voice_channel_id'])}",
            _playing([p for n, p in playing if p["guild_id"] == guild["id"]]),
            ", ".join(n["name"] for n, p in playing if p["guild_id"] == guild["id"]) or "—",
        ]
    ]
    console.print(table("Guilds", ["guild", "voice channel", "playing", "node"], guild_rows))
    node_rows = [
        [
            n["name"],
            n["region"],
            Text("alive", style="green") if n["alive"] else Text("dead", style="red"),
            counted(len(n["players"]), "player"),
        ]
        for n in state["nodes"]
    ]
    console.print(table("Lavalink nodes", ["node", "region", "state", "players"], node_rows))


def _playing(players: list[dict[str, Any]]) -> str:
    if not players:
        return "nothing"
    player = players[0]
    seconds = int(player["position_ms"]) // 1000
    where = f"{seconds // 60}:{seconds % 60:02d}"
    paused = ", paused" if player.get("paused") else ""
    return f"{player['track'] or 'no track'} @ {where}{paused}"
