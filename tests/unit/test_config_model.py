"""The one configuration model: every variable declared once on `AppConfig`, read the same way by
every process, checked by the same rules in ``validate-env``, ``LAVALINK_NODES`` parsed once."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from vectobeat_adapters.config import FIELDS, AppConfig, Secret, load_config
from vectobeat_adapters.config.loader import as_environment
from vectobeat_core.errors import ConfigError
from vectobeat_ops.envcheck import check_environment

ROOT = Path(__file__).resolve().parents[2]


def test_every_attribute_is_a_declared_field() -> None:
    assert [f.attr for f in FIELDS] == [a.name for a in attrs.fields(AppConfig)]
    assert all(f.env == f.attr.upper() and f.help for f in FIELDS)
    assert AppConfig() == load_config({}, dotenv=Path("/nonexistent/.env"))


def test_defaults_are_typed_and_secrets_masked(tmp_path: Path) -> None:
    config = load_config(
        {"PANEL_PORT": "9000", "SHARD_SPARE": "yes", "VECTOBEAT_SESSION_SECRET": "s" * 40},
        dotenv=tmp_path / ".env",
    )
    assert config.panel_port == 9000 and config.shard_spare is True
    assert isinstance(config.session_secret, Secret) and "sss" not in repr(config)


def test_dotenv_below_environment_below_prefix(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("REGION=eu\nLOG_LEVEL=DEBUG\nexport STATUS_PORT='9100'\n")
    config = load_config({"REGION": "us", "VECTOBEAT_REGION": "apac"}, dotenv=dotenv)
    assert (config.region, config.log_level, config.status_port) == ("apac", "DEBUG", 9100)


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("PANEL_PORT", "eighty", "must be a whole number"),
        ("STORE_TIMEOUT", "soon", "must be a number"),
        ("SHARD_SPARE", "maybe", "must be true or false"),
    ],
)
def test_a_process_and_validate_env_report_a_bad_value_the_same_way(
    variable: str, value: str, words: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({variable: value}, dotenv=tmp_path / ".env")
    (problem,) = [p for p in check_environment({variable: value}) if p.variable == variable]
    assert str(caught.value) == f"{variable} {problem.message}; fix: {problem.fix}."
    assert words in problem.message


def test_lavalink_nodes_is_parsed_in_exactly_one_place() -> None:
    """Only the config's `node_specs` (and the core's grammar) call `parse_node_list`."""
    callers = sorted(
        str(path.relative_to(ROOT))
        for tree in ("src", "apps")
        for path in (ROOT / tree).rglob("*.py")
        if re.search(r"\bparse_node_list\(", path.read_text(encoding="utf-8"))
    )
    assert callers == ["src/vectobeat_adapters/config/nodes.py", "src/vectobeat_core/routing.py"]


def test_a_loaded_config_reads_back_as_the_same_variables(tmp_path: Path) -> None:
    """What lets `lease_shard_ids` run validate-env's checks on a loaded config."""
    env = {
        "PANEL_PORT": "9000",
        "STORE_TIMEOUT": "1.5",
        "SHARD_SPARE": "true",
        "SHARD_COUNT": "4",
        "SESSION_SECRET": "s" * 40,
        "LAVALINK_NODES": "eu:eu-1:http://10.0.0.5:2333:pw",
    }
    config = load_config(env, dotenv=tmp_path / ".env")
    assert load_config(as_environment(config), dotenv=tmp_path / ".env") == config
