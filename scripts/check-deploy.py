#!/usr/bin/env python3
"""Checks the deployment descriptions without a Docker engine or a cluster (`make check-deploy`, part of
`make test`):

- docker-compose.yml against the Compose specification's JSON schema,
- every manifest in deploy/k8s/ against the Kubernetes OpenAPI schemas (strict: unknown fields fail),
- that they agree with the code: every worker role has a Compose service and a Deployment running it, and
  every metric the Grafana dashboard and the Prometheus alerts query is one the code exports.

Run it with the venv's python (scripts/python-venv.sh prints it)."""

import glob
import json
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        failures.append(f"{' '.join(command)}:\n{result.stdout}{result.stderr}")


def worker_roles():
    """The consumer roles in Sources/Workers/Roles/WorkerRoles.swift (the outbox relay also runs in the API)."""
    text = open(os.path.join(ROOT, "Sources/Workers/Roles/WorkerRoles.swift")).read()
    names = re.findall(r'^\s*"([a-z-]+)": [a-zA-Z]+,$', text, re.MULTILINE)
    check(names, "no worker roles found in WorkerRoles.swift")
    return [name for name in names if name != "outbox-relay"]


def exported_metrics():
    """Every scfm_* metric name the Swift sources register, plus the HTTP ones Hummingbird's MetricsMiddleware
    makes (swift-prometheus writes `http.server.request.duration` as `http_server_request_duration`)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "Sources/**/*.swift"), recursive=True):
        names.update(re.findall(r'"(scfm_[a-z_]+)"', open(path).read()))
    return names | {"http_server_request_duration", "hb_requests", "hb_request_errors"}


def check_compose(roles):
    run([os.path.join(BIN, "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"])
    compose = yaml.safe_load(open(os.path.join(ROOT, "docker-compose.yml")))
    services = compose.get("services", {})
    for role in roles:
        service = services.get(f"{role}-worker")
        check(service is not None, f"docker-compose.yml: no service {role}-worker")
        if service:
            check(service.get("command") == ["run", "--role", role], f"docker-compose.yml: {role}-worker does not run --role {role}")
            check("ports" not in service, f"docker-compose.yml: {role}-worker publishes a host port, so it cannot be scaled")
    for name in ("postgres", "kafka", "kafka-topics", "migrate", "api"):
        check(name in services, f"docker-compose.yml: no service {name}")
    # Security (#20): no default passwords, published ports on an explicit address, no anonymous Grafana.
    text = open(os.path.join(ROOT, "docker-compose.yml")).read()
    for match in re.finditer(r"\$\{([A-Z_]*PASSWORD[A-Z_]*):-([^}]*)\}", text):
        check(match.group(2) == "" and match.group(1) == "GRAFANA_ADMIN_PASSWORD",
              f"docker-compose.yml: {match.group(1)} has a default ({match.group(2)!r})")
    for name, service in services.items():
        for port in service.get("ports", []):
            check(str(port).count(":") >= 2, f"docker-compose.yml: {name} publishes {port} on every interface (bind it to an address)")
        environment = service.get("environment", {}) or {}
        check(str(environment.get("GF_AUTH_ANONYMOUS_ENABLED", "false")).lower() != "true", f"docker-compose.yml: {name} allows anonymous Grafana")


def check_kubernetes(roles):
    manifests = sorted(glob.glob(os.path.join(ROOT, "deploy/k8s/*.yaml")))
    resources = [path for path in manifests if not path.endswith("kustomization.yaml")]
    run([os.path.join(BIN, "kubernetes-validate"), "--strict", "--quiet", *resources])
    documents = [doc for path in resources for doc in yaml.safe_load_all(open(path)) if doc]
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc.get("kind") == "Deployment"}
    for role in roles:
        deployment = deployments.get(f"scfm-{role}-worker")
        check(deployment is not None, f"deploy/k8s: no Deployment scfm-{role}-worker")
        if deployment:
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            check(container.get("command") == ["/app/Workers", "run", "--role", role], f"deploy/k8s: scfm-{role}-worker does not run --role {role}")
            for probe in ("readinessProbe", "livenessProbe"):
                check(probe in container, f"deploy/k8s: scfm-{role}-worker has no {probe}")
    check("scfm-api" in deployments, "deploy/k8s: no Deployment scfm-api")
    kustomization = yaml.safe_load(open(os.path.join(ROOT, "deploy/k8s/kustomization.yaml")))
    listed = set(kustomization.get("resources", []))
    for path in resources:
        name = os.path.basename(path)
        if name.endswith(".example.yaml"):
            # Examples are validated above but never applied: `apply -k` must not overwrite real credentials.
            check(name not in listed, f"deploy/k8s/kustomization.yaml lists the example {name}")
        else:
            check(name in listed, f"deploy/k8s/kustomization.yaml does not list {name}")
    applied = [doc for path in resources if os.path.basename(path) in listed for doc in yaml.safe_load_all(open(path)) if doc]
    check(not any(doc.get("kind") == "Secret" for doc in applied), "deploy/k8s: kustomization applies a Secret (placeholders would overwrite real credentials)")
    policies = [doc for doc in applied if doc.get("kind") == "NetworkPolicy"]
    check(any(doc["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component") == "webhooks-worker"
              and "Egress" in doc["spec"].get("policyTypes", []) for doc in policies),
          "deploy/k8s: no egress NetworkPolicy for the webhooks role")


def check_monitoring():
    exported = exported_metrics()
    queried = set()
    dashboard = json.load(open(os.path.join(ROOT, "deploy/grafana/dashboards/scfm.json")))
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            queried.update(re.findall(r"\b(scfm_[a-z_]+|http_server_[a-z_]+|hb_[a-z_]+)\b", target.get("expr", "")))
    rules = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/alerts.yml")))
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            queried.update(re.findall(r"\b(scfm_[a-z_]+|http_server_[a-z_]+|hb_[a-z_]+)\b", rule.get("expr", "")))
    check(queried, "the Grafana dashboard queries no SCFM metric")
    for name in sorted(queried):
        # Histograms are queried through their _bucket/_sum/_count series.
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in exported or base in exported, f"monitoring queries {name}, which no process exports")
    yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/prometheus.yml")))


def main():
    roles = worker_roles()
    check_compose(roles)
    check_kubernetes(roles)
    check_monitoring()
    if failures:
        print("deployment checks failed:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        sys.exit(1)
    print(f"deployment checks passed: compose, {len(glob.glob(os.path.join(ROOT, 'deploy/k8s/*.yaml')))} Kubernetes manifests, roles {', '.join(roles)}, dashboard metrics")


if __name__ == "__main__":
    main()
