"""deploy/ validates offline and wires exactly the documented configuration.

Kubernetes manifests against the bundled schemas (``kubernetes-validate``, strict), Compose
against the Compose spec's JSON schema (bundled by ``check-jsonschema``), and every environment
variable they set is a variable of docs/configuration.md, every one of which is wired.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.30"
SHARDS_PER_OWNER = 4  # deploy/k8s/bot.yaml: pod N owns shards N*4 .. N*4+3
OTHERS_ENV = re.compile(r"^(PYTHON|PIP_)")  # the interpreter's, not VectoBeat's


def documented() -> dict[str, bool]:
    """Each variable of docs/configuration.md (generated from the config module) -> secret?"""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("\n## ", 1)[0]
    header = next(line for line in table.splitlines() if line.startswith("| variable"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    secret_at = columns.index("secret")
    found: dict[str, bool] = {}
    for line in table.splitlines():
        match = re.match(r"^\| `([A-Z][A-Z0-9_]*)` \|", line)
        if match:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            found[match.group(1)] = cells[secret_at] == "yes"
    assert len(found) > 20, "docs/configuration.md changed shape: read its table anew"
    return found


def bare(name: str) -> str:
    return name.removeprefix("VECTOBEAT_")


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in k8s_documents() if doc["kind"] == kind]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for _, doc in k8s_documents():
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def container_env_names(container: dict[str, Any]) -> set[str]:
    """Variables a container sets: ``env`` entries and ``export NAME`` in a shell command."""
    names = {entry["name"] for entry in container.get("env", [])}
    script = " ".join([*container.get("command", []), *container.get("args", [])])
    names |= set(re.findall(r"\bexport\s+([A-Z][A-Z0-9_]*)", script))
    return names


def undocumented(names: set[str]) -> set[str]:
    known = documented()
    return {name for name in names if bare(name) not in known and not OTHERS_ENV.match(name)}


# -- Kubernetes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "doc"), k8s_documents(), ids=[f"{n}:{d['kind']}" for n, d in k8s_documents()]
)
def test_each_kubernetes_resource_validates(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validation_refuses_a_broken_resource() -> None:
    (deployment,) = [d for d in of_kind("Deployment") if d["metadata"]["name"].endswith("panel")]
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_configmap_and_secret_wire_every_documented_variable() -> None:
    (configmap,) = of_kind("ConfigMap")
    (secret,) = of_kind("Secret")
    plain, secrets = set(configmap["data"]), set(secret["stringData"])
    known = documented()
    assert plain | secrets == set(known), "every variable of docs/configuration.md is wired"
    assert secrets == {name for name, is_secret in known.items() if is_secret}
    assert not plain & secrets


def test_every_container_reads_the_configmap_and_then_the_secret() -> None:
    for name, spec in pod_specs():
        for container in spec["containers"]:
            refs = [next(iter(ref)) for ref in container["envFrom"]]
            assert refs == ["configMapRef", "secretRef"], name  # a Secret key wins


def test_kubernetes_sets_only_documented_variables() -> None:
    for name, spec in pod_specs():
        for container in spec["containers"]:
            assert not undocumented(container_env_names(container)), name


def test_the_check_notices_an_undocumented_variable() -> None:
    container = {
        "env": [{"name": "VECTOBEAT_REDIS_URL", "value": "x"}, {"name": "REDIS_HOST"}],
        "args": ["export SHARD_IDS=1; export SHARDS_PER_POD=4; exec vectobeat-bot"],
    }
    assert container_env_names(container) == {
        "VECTOBEAT_REDIS_URL",
        "REDIS_HOST",
        "SHARD_IDS",
        "SHARDS_PER_POD",
    }
    assert undocumented(container_env_names(container)) == {"REDIS_HOST", "SHARDS_PER_POD"}


def test_every_pod_runs_non_root_with_requests_and_no_privilege() -> None:
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name


def test_every_service_probes_healthz_for_liveness_and_readyz_for_readiness() -> None:
    for name, spec in pod_specs():
        if name.endswith("migrate"):
            continue
        for container in spec["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name


def test_bot_owners_cover_every_shard_and_a_spare_stands_by() -> None:
    (configmap,) = of_kind("ConfigMap")
    (owners,) = of_kind("StatefulSet")
    script = " ".join(owners["spec"]["template"]["spec"]["containers"][0]["args"])
    assert f"ordinal * {SHARDS_PER_OWNER}" in script and "exec vectobeat-bot" in script
    assert owners["spec"]["replicas"] * SHARDS_PER_OWNER == int(configmap["data"]["SHARD_COUNT"])
    assert configmap["data"]["REDIS_URL"], "shard leases need Redis"
    spares = [
        d
        for d in of_kind("Deployment")
        if {"name": "SHARD_SPARE", "value": "true"}
        in d["spec"]["template"]["spec"]["containers"][0].get("env", [])
    ]
    assert len(spares) == 1 and spares[0]["spec"]["replicas"] >= 1


def test_the_panel_has_replicas_a_service_an_ingress_and_disruption_budgets() -> None:
    (panel,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == "vectobeat-panel"]
    assert panel["spec"]["replicas"] >= 2
    services = {s["metadata"]["name"] for s in of_kind("Service")}
    assert {"vectobeat-panel", "vectobeat-bot", "vectobeat-nodes-watch"} <= services
    (ingress,) = of_kind("Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "vectobeat-panel"
    budgets = {p["metadata"]["name"] for p in of_kind("PodDisruptionBudget")}
    assert budgets == {"vectobeat-bot", "vectobeat-panel"}


def test_one_nodes_watch_serves_its_metrics() -> None:
    (watch,) = [d for d in of_kind("Deployment") if "nodes-watch" in d["metadata"]["name"]]
    assert watch["spec"]["replicas"] == 1 and watch["spec"]["strategy"]["type"] == "Recreate"
    command = watch["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["vectobeat-ops", "nodes", "watch"] and "--metrics-port" in command


# -- Compose -------------------------------------------------------------------------------------

VECTOBEAT_SERVICES = {"migrate", "bot", "panel", "nodes-watch"}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def compose_schema() -> dict[str, Any]:
    text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def test_compose_validates_against_the_compose_spec() -> None:
    jsonschema.validate(compose(), compose_schema())


def test_the_compose_check_refuses_a_broken_file() -> None:
    broken = compose()
    broken["services"]["bot"]["restart"] = ["always"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, compose_schema())


def test_compose_runs_every_part_on_one_host() -> None:
    services = compose()["services"]
    assert VECTOBEAT_SERVICES | {"redis", "postgres", "lavalink-1", "lavalink-2"} <= set(services)
    assert services["nodes-watch"]["command"][:3] == ["vectobeat-ops", "nodes", "watch"]
    for node in ("lavalink-1", "lavalink-2"):
        assert (
            "./lavalink/application.yml:/opt/Lavalink/application.yml:ro"
            in (services[node]["volumes"])
        )
    nodes = services["bot"]["environment"]["LAVALINK_NODES"]
    assert "lavalink-1:2333" in nodes and "lavalink-2:2333" in nodes


def test_the_lavalink_config_serves_metrics_and_documents_resuming() -> None:
    text = (DEPLOY / "lavalink" / "application.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    assert config["metrics"]["prometheus"]["enabled"] is True
    assert config["lavalink"]["server"]["password"] == "${LAVALINK_SERVER_PASSWORD}"
    assert "resuming" in text.lower()


def test_compose_runs_vectobeat_non_root_and_sets_only_documented_variables() -> None:
    services = compose()["services"]
    for name in VECTOBEAT_SERVICES:
        service = services[name]
        assert service["user"] == "10001:10001" and service["read_only"] is True, name
        assert not undocumented(set(service["environment"])), name
        assert [e["path"] for e in service["env_file"]] == ["vectobeat.env"], name


def test_the_env_template_names_every_documented_variable_once() -> None:
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "vectobeat.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(names) == len(set(names))
    assert set(names) == set(documented())


# -- Dockerfile ----------------------------------------------------------------------------------


def test_the_dockerfile_builds_the_compiled_wheel_and_runs_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.M)
    assert stages == ["build", "runtime"]
    build, runtime = text.split("AS runtime", 1)
    assert "pip wheel" in build and "gcc" in build  # hatch_build.py compiles with mypyc
    assert "COPY --from=build /dist" in runtime and "[all]" in runtime
    assert "endswith('.so')" in runtime  # the image refuses a queue that was not compiled
    (user,) = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert not user.startswith(("0", "root"))
    env_names = set(re.findall(r"^\s*(?:ENV\s+)?([A-Z][A-Z0-9_]+)=", runtime, re.M))
    assert not undocumented(env_names)
