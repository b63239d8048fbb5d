#!/usr/bin/env python3
"""Checks the deployment descriptions without a Docker engine or a cluster (`make check-deploy`, part of
`make test`). Each check proves a promise of the production files that would otherwise only fail in production:

Compose (docker-compose.yml)
- valid against the Compose specification's JSON schema;
- every worker role has a service running it; no worker publishes a host port (it could not be scaled);
- no default passwords or secrets (`${VAR:?}` or empty defaults), published ports bound to an address, no
  anonymous Grafana, no `:latest` image default;
- healthchecks: exec form, or a shell form that parses under dash (the images' /bin/sh) and uses no bash-only
  `/dev/tcp`; the programs they run are in the image (curl is installed by deploy/Dockerfile);
- volumes hold what the images write: Kafka's volume is at KAFKA_LOG_DIRS, PostgreSQL's at PGDATA.

Kubernetes (deploy/k8s: base and overlays)
- every core manifest against the Kubernetes OpenAPI schemas (strict: unknown fields fail); the custom
  resources (KEDA, External Secrets, Prometheus Operator) structurally;
- each kustomization lists every file beside it (examples excepted), names only files that exist, applies no
  Secret and no placeholder value (CHANGE-ME), and its image, replica and ConfigMap edits name real objects;
  production pins the image by digest; no `:latest` anywhere;
- the generated workloads are what scripts/render-k8s.py writes from its table (which keeps every role within
  its topic's partitions and the database's connection budget);
- every pod (Deployments and Jobs) meets the restricted Pod Security profile: non-root, no privilege
  escalation, ALL capabilities dropped, RuntimeDefault seccomp, and a read-only root with /tmp on an emptyDir;
- every role and the API: a Deployment running it with probes and a topology spread, a PodDisruptionBudget
  selecting it, and a ScaledObject targeting it whose Kafka trigger names the role's own consumer group and
  the topic the code consumes; the API has a preStop hook; the workers wait for migrations, the API runs them.

Monitoring
- every alert has a severity (critical or warning) and a runbook_url whose anchor is a heading of
  docs/runbook.md; every metric an alert, a dashboard panel or an autoscaler queries is exported by the code
  (or by kafka-exporter / Prometheus itself); Prometheus sends alerts to the Compose stack's Alertmanager.

Run it with the venv's python (scripts/python-venv.sh prints it)."""

import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
K8S = os.path.join(ROOT, "deploy/k8s")
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ExternalSecret", "PodMonitor", "PrometheusRule"}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        failures.append(f"{' '.join(command)}:\n{result.stdout}{result.stderr}")
    return result


def relative(path):
    return os.path.relpath(path, ROOT)


def source(path):
    return open(os.path.join(ROOT, path)).read()


def worker_roles():
    """The roles in Sources/Workers/Roles/WorkerRoles.swift (the outbox relay also runs in the API), and the
    topic each consumer role reads."""
    text = source("Sources/Workers/Roles/WorkerRoles.swift")
    names = re.findall(r'^\s*"([a-z-]+)": [a-zA-Z]+,$', text, re.MULTILINE)
    check(names, "no worker roles found in WorkerRoles.swift")
    cases = dict(re.findall(r'case (\w+) = "([a-z.-]+)"', source("Sources/Shared/Configuration/KafkaConfiguration.swift")))
    topics = {role: cases.get(case) for role, case in re.findall(r'consumer\(\s*role: "([a-z-]+)", topic: \.(\w+)', text)}
    check(topics, "no consumer roles found in WorkerRoles.swift")
    return [name for name in names if name != "outbox-relay"], topics


def exported_metrics():
    """Every scfm_* metric name the Swift sources register, plus the HTTP ones Hummingbird's MetricsMiddleware
    makes (swift-prometheus writes `http.server.request.duration` as `http_server_request_duration`)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "Sources/**/*.swift"), recursive=True):
        names.update(re.findall(r'"(scfm_[a-z_]+)"', open(path).read()))
    return names | {"http_server_request_duration", "hb_requests", "hb_request_errors"}


# --- Compose ---------------------------------------------------------------------------------------------

def check_healthcheck(name, test, scfm_image):
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    check(isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL", "NONE"), f"docker-compose.yml: {name}'s healthcheck is not a CMD list")
    if not test or test[0] == "NONE":
        return
    if test[0] == "CMD-SHELL":
        script = " ".join(test[1:])
        check("/dev/tcp" not in script and "/dev/udp" not in script,
              f"docker-compose.yml: {name}'s healthcheck uses /dev/tcp, which dash (the images' /bin/sh) does not have")
        parsed = subprocess.run(["dash", "-n", "-c", script], capture_output=True, text=True)
        check(parsed.returncode == 0, f"docker-compose.yml: {name}'s healthcheck does not parse under dash: {parsed.stderr.strip()}")
        program = script.split()[0]
    else:
        program = test[1]
    if scfm_image:
        # The runtime stage (after the last FROM) installs the programs the healthchecks run.
        runtime = source("deploy/Dockerfile").rsplit("\nFROM ", 1)[-1]
        packages = [word for line in runtime.splitlines() if "apt-get install" in line for word in line.split()]
        check(program in ("/app/API", "/app/Workers") or program in packages,
              f"docker-compose.yml: {name}'s healthcheck runs {program}, which deploy/Dockerfile does not install")


def check_compose(roles):
    run([os.path.join(BIN, "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"])
    text = source("docker-compose.yml")
    compose = yaml.safe_load(text)
    services = compose.get("services", {})
    for role in roles:
        service = services.get(f"{role}-worker")
        check(service is not None, f"docker-compose.yml: no service {role}-worker")
        if service:
            check(service.get("command") == ["run", "--role", role], f"docker-compose.yml: {role}-worker does not run --role {role}")
            check("ports" not in service, f"docker-compose.yml: {role}-worker publishes a host port, so it cannot be scaled")
    for name in ("postgres", "kafka", "kafka-topics", "migrate", "api", "prometheus", "alertmanager", "kafka-exporter"):
        check(name in services, f"docker-compose.yml: no service {name}")
    # Security (#20): no default passwords or keys, published ports on an explicit address, no anonymous Grafana.
    for match in re.finditer(r"\$\{([A-Z_]*(?:PASSWORD|SECRET|KEY|TOKEN)[A-Z_]*):-([^}]*)\}", text):
        check(match.group(2) == "", f"docker-compose.yml: {match.group(1)} has a default ({match.group(2)!r})")
    check("CHANGE-ME" not in text, "docker-compose.yml: a CHANGE-ME placeholder")
    for name, service in services.items():
        for port in service.get("ports", []):
            check(str(port).count(":") >= 2, f"docker-compose.yml: {name} publishes {port} on every interface (bind it to an address)")
        environment = service.get("environment", {}) or {}
        check(str(environment.get("GF_AUTH_ANONYMOUS_ENABLED", "false")).lower() != "true", f"docker-compose.yml: {name} allows anonymous Grafana")
        image = str(service.get("image", ""))
        # The image as it resolves with no variable set: `${SCFM_IMAGE:-scfm:local}` is scfm:local.
        effective = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", image)
        check(not effective.endswith(":latest") and ":" in effective.split("/")[-1],
              f"docker-compose.yml: {name} runs {effective} (a fixed tag, never :latest)")
        if "healthcheck" in service:
            check_healthcheck(name, service["healthcheck"].get("test"), "scfm" in image)
    # Volumes where the images write.
    kafka = services.get("kafka", {})
    log_dirs = (kafka.get("environment") or {}).get("KAFKA_LOG_DIRS")
    check(log_dirs, "docker-compose.yml: kafka sets no KAFKA_LOG_DIRS: the image keeps its log in /tmp inside the container")
    check(any(str(volume).endswith(f":{log_dirs}") for volume in kafka.get("volumes", [])),
          f"docker-compose.yml: kafka's log ({log_dirs}) is not on a volume")
    check("CLUSTER_ID" in (kafka.get("environment") or {}), "docker-compose.yml: kafka has no fixed CLUSTER_ID (a recreated container would not reuse its volume)")
    postgres = services.get("postgres", {})
    pgdata = (postgres.get("environment") or {}).get("PGDATA", "/var/lib/postgresql/data")
    check(any(str(volume).endswith(f":{pgdata}") for volume in postgres.get("volumes", [])), f"docker-compose.yml: PostgreSQL's PGDATA ({pgdata}) is not on a volume")


# --- Kubernetes ------------------------------------------------------------------------------------------

def load_documents(path):
    return [doc for doc in yaml.safe_load_all(open(path)) if doc]


def kustomizations():
    return sorted(glob.glob(os.path.join(K8S, "**/kustomization.yaml"), recursive=True))


def applied_documents(directory, seen=None):
    """The documents `kubectl apply -k directory` would apply (resources followed into other kustomizations;
    patches and generators are checked separately)."""
    documents = []
    kustomization = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml")))
    for resource in kustomization.get("resources", []):
        path = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(path):
            documents.extend(applied_documents(path))
        elif os.path.exists(path):
            documents.extend(load_documents(path))
    return documents


def check_kustomizations():
    for path in kustomizations():
        directory = os.path.dirname(path)
        name = relative(path)
        kustomization = yaml.safe_load(open(path))
        resources = kustomization.get("resources", [])
        for resource in resources:
            target = os.path.normpath(os.path.join(directory, resource))
            check(os.path.isfile(target) or os.path.isfile(os.path.join(target, "kustomization.yaml")), f"{name}: resource {resource} does not exist")
        for file in glob.glob(os.path.join(directory, "*.yaml")):
            base = os.path.basename(file)
            if base == "kustomization.yaml":
                continue
            if base.endswith(".example.yaml"):
                # Examples are validated but never applied: `apply -k` must not overwrite real credentials.
                check(base not in resources, f"{name} lists the example {base}")
            else:
                check(base in resources, f"{name} does not list {base}")
        documents = applied_documents(directory)
        check(not any(doc.get("kind") == "Secret" for doc in documents), f"{name} applies a Secret (placeholders would overwrite real credentials)")
        check("CHANGE-ME" not in yaml.safe_dump(documents), f"{name} applies a CHANGE-ME placeholder")
        deployments = {doc["metadata"]["name"] for doc in documents if doc.get("kind") == "Deployment"}
        config_maps = {doc["metadata"]["name"] for doc in documents if doc.get("kind") == "ConfigMap"}
        images = {container["image"].split("@")[0].rsplit(":", 1)[0] for doc in documents for container in containers(doc)}
        for edit in kustomization.get("replicas", []):
            check(edit["name"] in deployments, f"{name}: replicas for {edit['name']}, which no Deployment is")
        for generator in kustomization.get("configMapGenerator", []):
            if generator.get("behavior") == "merge":
                check(generator["name"] in config_maps, f"{name}: merges into ConfigMap {generator['name']}, which is not applied")
        for image in kustomization.get("images", []):
            check(image["name"] in images, f"{name}: sets image {image['name']}, which no container runs")
            check(image.get("newTag") != "latest", f"{name}: image tag latest")
            if "overlays/production" in name:
                check(str(image.get("digest", "")).startswith("sha256:") and "newTag" not in image, f"{name}: production pins {image['name']} by tag, not digest")
        for document in documents:
            for container in containers(document):
                check(not container["image"].endswith(":latest") and (":" in container["image"].split("/")[-1] or "@" in container["image"]),
                      f"{name}: {document['metadata']['name']} runs {container['image']} (no :latest, a tag or a digest)")


def pod_spec(document):
    if document.get("kind") in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return document["spec"]["template"]["spec"]
    return None


def containers(document):
    spec = pod_spec(document)
    if not spec:
        return []
    return spec.get("initContainers", []) + spec.get("containers", [])


def check_restricted(document, where):
    """The restricted Pod Security Standard's fields, and a read-only root with a writable /tmp."""
    spec = pod_spec(document)
    name = f"{where}: {document['kind']} {document['metadata']['name']}"
    pod_security = spec.get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True, f"{name}: pod securityContext.runAsNonRoot is not true")
    check(not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), f"{name}: shares a host namespace")
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    check(not any("hostPath" in volume for volume in volumes.values()), f"{name}: mounts a hostPath")
    for container in containers(document):
        security = container.get("securityContext", {})
        label = f"{name} container {container['name']}"
        check(security.get("allowPrivilegeEscalation") is False, f"{label}: allowPrivilegeEscalation is not false")
        check("ALL" in security.get("capabilities", {}).get("drop", []), f"{label}: does not drop ALL capabilities")
        check(not security.get("capabilities", {}).get("add"), f"{label}: adds capabilities")
        check(not security.get("privileged"), f"{label}: privileged")
        seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {})).get("type")
        check(seccomp in ("RuntimeDefault", "Localhost"), f"{label}: no RuntimeDefault seccomp profile")
        check(security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True, f"{label}: may run as root")
        check(security.get("readOnlyRootFilesystem") is True, f"{label}: root filesystem is writable")
        mounts = {mount["mountPath"]: mount["name"] for mount in container.get("volumeMounts", [])}
        check("/tmp" in mounts and "emptyDir" in volumes.get(mounts.get("/tmp"), {}), f"{label}: no emptyDir at /tmp for the read-only root")


def validate_core(documents_by_file):
    """kubernetes-validate --strict on the core kinds (custom resources have no schema there)."""
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for index, (path, documents) in enumerate(documents_by_file.items()):
            core = [doc for doc in documents if doc.get("kind") not in CUSTOM_KINDS]
            if not core:
                continue
            target = os.path.join(directory, f"{index}-{os.path.basename(path)}")
            with open(target, "w") as file:
                yaml.safe_dump_all(core, file)
            paths.append(target)
        result = subprocess.run([os.path.join(BIN, "kubernetes-validate"), "--strict", "--quiet", *paths], capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f"kubernetes-validate --strict:\n{result.stdout}{result.stderr}")


def check_custom(document, where):
    kind = document.get("kind")
    name = f"{where}: {kind} {document.get('metadata', {}).get('name')}"
    expected = {"ScaledObject": "keda.sh/v1alpha1", "TriggerAuthentication": "keda.sh/v1alpha1",
                "ExternalSecret": "external-secrets.io/v1beta1", "PodMonitor": "monitoring.coreos.com/v1",
                "PrometheusRule": "monitoring.coreos.com/v1"}[kind]
    check(document.get("apiVersion") == expected, f"{name}: apiVersion {document.get('apiVersion')}, expected {expected}")
    check(document.get("metadata", {}).get("namespace") == "scfm", f"{name}: not in namespace scfm")
    spec = document.get("spec", {})
    if kind == "ScaledObject":
        check(spec.get("scaleTargetRef", {}).get("name"), f"{name}: no scaleTargetRef")
        check(1 <= spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 0), f"{name}: min/max replicas out of order")
        check(spec.get("triggers"), f"{name}: no triggers")
        for trigger in spec.get("triggers", []):
            check(trigger.get("type") in ("kafka", "prometheus", "cpu", "memory"), f"{name}: trigger type {trigger.get('type')}")
    elif kind == "ExternalSecret":
        check(spec.get("secretStoreRef", {}).get("name") and spec.get("target", {}).get("name"), f"{name}: no store or target")
        check(spec.get("data") or spec.get("dataFrom"), f"{name}: maps no data")
    elif kind == "PrometheusRule":
        check(spec.get("groups"), f"{name}: no rule groups")
    elif kind == "PodMonitor":
        check(spec.get("podMetricsEndpoints"), f"{name}: no endpoints")


def check_kubernetes(roles, topics):
    spec = importlib.util.spec_from_file_location("render_k8s", os.path.join(ROOT, "scripts/render-k8s.py"))
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    result = run([sys.executable, os.path.join(ROOT, "scripts/render-k8s.py"), "--check"])
    table = {role["name"]: role for role in render.ROLES}
    check(set(table) == set(roles), f"scripts/render-k8s.py's roles {sorted(table)} are not the code's {sorted(roles)}")

    files = sorted(path for path in glob.glob(os.path.join(K8S, "**/*.yaml"), recursive=True) if not path.endswith("kustomization.yaml"))
    documents_by_file = {path: load_documents(path) for path in files}
    validate_core(documents_by_file)
    everything = []
    for path, documents in documents_by_file.items():
        for document in documents:
            everything.append(document)
            if document.get("kind") in CUSTOM_KINDS:
                check_custom(document, relative(path))
            if pod_spec(document) is not None:
                check_restricted(document, relative(path))
    check_kustomizations()

    production = applied_documents(os.path.join(K8S, "overlays/production"))
    deployments = {doc["metadata"]["name"]: doc for doc in production if doc.get("kind") == "Deployment"}
    budgets = [doc for doc in production if doc.get("kind") == "PodDisruptionBudget"]
    scalers = {doc["spec"]["scaleTargetRef"]["name"]: doc for doc in production if doc.get("kind") == "ScaledObject"}
    targets = [("scfm-api", "api", None)] + [(f"scfm-{role}-worker", f"{role}-worker", role) for role in roles]
    for name, component, role in targets:
        deployment = deployments.get(name)
        check(deployment is not None, f"deploy/k8s: no Deployment {name}")
        if not deployment:
            continue
        template = deployment["spec"]["template"]
        container = template["spec"]["containers"][0]
        if role:
            check(container.get("command") == ["/app/Workers", "run", "--role", role], f"deploy/k8s: {name} does not run --role {role}")
        for probe in ("readinessProbe", "livenessProbe"):
            check(probe in container, f"deploy/k8s: {name} has no {probe}")
        check(template["spec"].get("topologySpreadConstraints"), f"deploy/k8s: {name} has no topology spread")
        init = [c.get("command") for c in template["spec"].get("initContainers", [])]
        wanted = ["/app/API", "migrate"] if role is None else ["/app/API", "migrate", "--wait"]
        check(any(command and command[:len(wanted)] == wanted for command in init), f"deploy/k8s: {name} does not run {' '.join(wanted)} first")
        labels = template["metadata"]["labels"]
        check(any(all(labels.get(k) == v for k, v in doc["spec"]["selector"]["matchLabels"].items()) for doc in budgets),
              f"deploy/k8s: no PodDisruptionBudget selects {name}")
        scaler = scalers.get(name)
        check(scaler is not None, f"deploy/k8s/overlays/production: no ScaledObject for {name}")
        if scaler and role in topics:
            kafka = [t for t in scaler["spec"]["triggers"] if t["type"] == "kafka"]
            for trigger in kafka:
                check(trigger["metadata"]["consumerGroup"] == f"scfm-{role}", f"{name}'s ScaledObject reads group {trigger['metadata']['consumerGroup']}, not scfm-{role}")
                check(trigger["metadata"]["topic"] == topics[role], f"{name}'s ScaledObject reads {trigger['metadata']['topic']}, the code consumes {topics[role]}")
                check(scaler["spec"]["maxReplicaCount"] <= render.TOPIC_PARTITIONS, f"{name} scales past its topic's partitions")
    api = deployments.get("scfm-api")
    if api:
        check("preStop" in api["spec"]["template"]["spec"]["containers"][0].get("lifecycle", {}), "deploy/k8s: scfm-api has no preStop (a rollout would drop callbacks)")
    policies = [doc for doc in production if doc.get("kind") == "NetworkPolicy"]
    check(any(doc["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component") == "webhooks-worker"
              and "Egress" in doc["spec"].get("policyTypes", []) for doc in policies),
          "deploy/k8s: no egress NetworkPolicy for the webhooks role")
    return [doc for doc in production if doc.get("kind") == "ScaledObject"]


# --- Monitoring ------------------------------------------------------------------------------------------

def runbook_anchors():
    path = os.path.join(ROOT, "docs/runbook.md")
    if not os.path.exists(path):
        return set()
    anchors = set()
    for line in open(path):
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return anchors


def check_monitoring(scalers):
    exported = exported_metrics()
    queried = set()
    metric = r"\b(scfm_[a-z_]+|http_server_[a-z_]+|hb_[a-z_]+)\b"
    dashboard = json.load(open(os.path.join(ROOT, "deploy/grafana/dashboards/scfm.json")))
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            queried.update(re.findall(metric, target.get("expr", "")))
    anchors = runbook_anchors()
    check(anchors, "docs/runbook.md is missing or has no headings")
    rules = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/alerts.yml")))
    alerts = 0
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            queried.update(re.findall(metric, rule.get("expr", "")))
            if "alert" not in rule:
                continue
            alerts += 1
            name = rule["alert"]
            check(rule.get("labels", {}).get("severity") in ("critical", "warning"), f"alert {name}: severity is not critical or warning")
            url = rule.get("annotations", {}).get("runbook_url", "")
            check("docs/runbook.md#" in url, f"alert {name}: no runbook_url into docs/runbook.md")
            anchor = url.split("#", 1)[-1]
            check(anchor in anchors, f"alert {name}: docs/runbook.md has no heading for #{anchor}")
            check(anchor == name.lower(), f"alert {name}: its runbook anchor is #{anchor}, expected #{name.lower()}")
            for found in re.findall(r"\b(kafka_[a-z_]+)\b", rule.get("expr", "")):
                check(found.startswith("kafka_consumergroup_"), f"alert {name}: {found} is not a kafka-exporter consumer-group metric")
    check(alerts >= 10, f"only {alerts} alerts")
    for scaler in scalers:
        for trigger in scaler["spec"]["triggers"]:
            if trigger["type"] == "prometheus":
                queried.update(re.findall(metric, trigger["metadata"]["query"]))
    check(queried, "the Grafana dashboard queries no SCFM metric")
    for name in sorted(queried):
        # Histograms are queried through their _bucket/_sum/_count series.
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        check(name in exported or base in exported, f"monitoring queries {name}, which no process exports")
    prometheus = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/prometheus.yml")))
    targets = [t for am in prometheus.get("alerting", {}).get("alertmanagers", []) for c in am.get("static_configs", []) for t in c.get("targets", [])]
    check("alertmanager:9093" in targets, "deploy/prometheus/prometheus.yml sends alerts to no Alertmanager")
    jobs = {job["job_name"] for job in prometheus.get("scrape_configs", [])}
    check("kafka-exporter" in jobs, "deploy/prometheus/prometheus.yml does not scrape kafka-exporter (broker-side lag)")
    alertmanager = yaml.safe_load(open(os.path.join(ROOT, "deploy/alertmanager/alertmanager.yml")))
    check(any('severity="critical"' in str(route.get("matchers")) for route in alertmanager.get("route", {}).get("routes", [])),
          "deploy/alertmanager/alertmanager.yml routes critical alerts nowhere of their own")


def main():
    roles, topics = worker_roles()
    check_compose(roles)
    scalers = check_kubernetes(roles, topics)
    check_monitoring(scalers)
    if failures:
        print("deployment checks failed:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        sys.exit(1)
    manifests = len(glob.glob(os.path.join(K8S, "**/*.yaml"), recursive=True))
    print(f"deployment checks passed: compose, {manifests} Kubernetes files (base, staging, production), roles {', '.join(roles)}, "
          "restricted pods, autoscalers, alerts with runbooks, monitored metrics")


if __name__ == "__main__":
    main()
