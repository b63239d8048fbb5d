#!/usr/bin/env python3
"""Writes the Kubernetes workloads from one table of roles, so that every role gets the same pod hardening,
probes, disruption budget, spread and autoscaler, and a role added to the code cannot be half-deployed.

    scripts/render-k8s.py           rewrite the generated files
    scripts/render-k8s.py --check   fail if a generated file differs from what the table gives (make check-deploy)

Generated (do not edit by hand):
    deploy/k8s/base/api.yaml                          the API's Deployment, Service and PodDisruptionBudget
    deploy/k8s/base/workers.yaml                      a Deployment and a PodDisruptionBudget per worker role
    deploy/k8s/overlays/production/autoscaling.yaml   a KEDA ScaledObject per role (and the API)
    deploy/k8s/overlays/production/monitoring.yaml    PodMonitor, and deploy/prometheus/alerts.yml as a PrometheusRule

Sizing rules the table must keep (checked here):
- a consumer role never scales past its topic's partitions (TOPIC_PARTITIONS): extra consumers sit idle;
- every pod at its maximum, times its DATABASE_POOL_SIZE, stays within DATABASE_CONNECTION_BUDGET (the
  PostgreSQL `max_connections` set aside for SCFM). PgBouncer in transaction mode cannot stand in: the queue
  workers and the scheduler LISTEN, and the relay holds a session advisory lock.
"""

import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "ghcr.io/example/scfm:1.0.0"
TOPIC_PARTITIONS = 24
DATABASE_CONNECTION_BUDGET = 750
KAFKA_BOOTSTRAP = "kafka-kafka-bootstrap.kafka.svc:9093"
PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"

# name, what it does, base replicas, autoscaling bounds, pool size, grace, requests, and what it scales on.
# `lag`: KEDA's kafka scaler on the role's consumer group (scfm-<role>) and topic, target lag per replica.
# `prometheus`: a query and its target per replica.
ROLES = [
    dict(name="population", replicas=2, min=1, max=4, pool=10, grace=60, cpu="500m", memory="256Mi",
         about="Batch operations (population, phone call create/queue/fetch) as chunked set-based SQL: mostly "
               "PostgreSQL work. A worker asked to stop finishes the chunk in hand; the next one resumes at the "
               "operation's checkpoint.",
         scale=dict(lag=dict(topic="batch-operations", threshold=2))),
    dict(name="queue", replicas=3, min=2, max=16, pool=10, grace=45, cpu="500m", memory="256Mi",
         about="Dials at each account's rate, shared across replicas through PostgreSQL. Its topic's backlog is "
               "held back by the rate on purpose, so it scales on dial slots missed (a slot passed with no "
               "worker free to use it), not on lag.",
         scale=dict(prometheus=dict(query="sum(rate(scfm_dial_slots_missed_total[2m]))", threshold="1"))),
    dict(name="remote-fetch", replicas=1, min=1, max=6, pool=10, grace=45, cpu="250m", memory="128Mi",
         about="Fetches call status at the provider for PhoneCallQueueRemoteFetch operations and stuck calls.",
         scale=dict(lag=dict(topic="phone-calls.remote-fetch", threshold=5000))),
    dict(name="status", replicas=2, min=2, max=8, pool=20, grace=30, cpu="500m", memory="256Mi",
         about="Applies phone-call-events in batches.",
         scale=dict(lag=dict(topic="phone-call-events", threshold=10000))),
    dict(name="scheduler", replicas=2, min=2, max=3, pool=10, grace=30, cpu="250m", memory="128Mi",
         about="The autopilot, the stuck-call sweeper, the job reconciler and the dialling watch. Replicas share "
               "callouts by lease: two give a hot standby; more only when one drives too many callouts.",
         scale=dict(prometheus=dict(query="sum(scfm_autopilot_callouts_leased)", threshold="500"))),
    dict(name="webhooks", replicas=1, min=1, max=4, pool=10, grace=30, cpu="250m", memory="128Mi",
         about="Outbound webhooks: records result events (its own group on phone-call-events) and sends the "
               "deliveries. The only process that connects to tenant-given URLs (egress NetworkPolicy).",
         scale=dict(lag=dict(topic="phone-call-events", threshold=10000))),
]
API = dict(replicas=2, min=2, max=6, pool=20)

LABELS = {"app.kubernetes.io/part-of": "scfm"}


def labels(component):
    return {**LABELS, "app.kubernetes.io/component": component}


def container_security():
    # The "restricted" Pod Security Standard, and a read-only root: the processes write nowhere but /tmp.
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def env_from():
    return [{"configMapRef": {"name": "scfm-config"}}, {"secretRef": {"name": "scfm-secrets"}}]


def pod_spec(component, grace, init_command, container):
    selector = {"matchLabels": labels(component)}
    return {
        "terminationGracePeriodSeconds": grace,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        # Replicas on different zones and nodes where the cluster has them (never blocks scheduling).
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": selector},
            {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": selector},
        ],
        "initContainers": [{
            "name": "migrations",
            "image": IMAGE,
            "command": init_command,
            "envFrom": env_from(),
            "securityContext": container_security(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        }],
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }


def deployment(name, component, replicas, template_spec):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "scfm", "labels": labels(component)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            # A new pod is ready before an old one goes: capacity never drops during a rollout.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": labels(component)},
            "template": {
                "metadata": {
                    "labels": labels(component),
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics"},
                },
                "spec": template_spec,
            },
        },
    }


def disruption_budget(name, component, replicas):
    spec = {"selector": {"matchLabels": labels(component)}}
    # Two or more: keep one serving through a node drain. One: let the drain move it (a budget of 0 would block it).
    if replicas >= 2:
        spec["minAvailable"] = 1
    else:
        spec["maxUnavailable"] = 1
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "scfm", "labels": labels(component)}, "spec": spec}


def probes(port):
    return {
        # Ready: /health (workers: database and broker; the API: the database, the broker reported as "degraded").
        "readinessProbe": {"httpGet": {"path": "/health", "port": port}, "periodSeconds": 5, "failureThreshold": 3},
        # Alive: the process answers HTTP at all, so an outage of a dependency takes pods out of service
        # without restarting them.
        "livenessProbe": {"httpGet": {"path": "/metrics", "port": "metrics"}, "initialDelaySeconds": 10,
                          "periodSeconds": 10, "failureThreshold": 6},
    }


def api_documents():
    container = {
        "name": "api",
        "image": IMAGE,
        "command": ["/app/API", "serve"],
        "ports": [{"name": "http", "containerPort": 3000}, {"name": "metrics", "containerPort": 9090}],
        "env": [
            {"name": "PORT", "value": "3000"},
            {"name": "METRICS_PORT", "value": "9090"},
            {"name": "OUTBOX_RELAY", "value": "true"},
            {"name": "DATABASE_POOL_SIZE", "value": str(API["pool"])},
        ],
        "envFrom": env_from(),
        **probes("http"),
        # The endpoint is removed from the Service while the pod still serves: callbacks in flight during a
        # rollout reach a pod that answers them. SIGTERM comes after, then the drain.
        "lifecycle": {"preStop": {"exec": {"command": ["/bin/sleep", "10"]}}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "scfm-api", "namespace": "scfm", "labels": labels("api")},
        "spec": {"selector": labels("api"), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    # preStop 10 s + a 30 s drain.
    spec = pod_spec("api", 40, ["/app/API", "migrate"], container)
    return [deployment("scfm-api", "api", API["replicas"], spec), service, disruption_budget("scfm-api", "api", API["replicas"])]


def worker_documents(role):
    name = role["name"]
    component = f"{name}-worker"
    container = {
        "name": "worker",
        "image": IMAGE,
        "command": ["/app/Workers", "run", "--role", name],
        "ports": [{"name": "metrics", "containerPort": 9090}],
        "env": [{"name": "DATABASE_POOL_SIZE", "value": str(role["pool"])}],
        "envFrom": env_from(),
        **probes("metrics"),
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        "resources": {"requests": {"cpu": role["cpu"], "memory": role["memory"]}, "limits": {"memory": "1Gi"}},
    }
    # The API's pods apply migrations; a worker of a new release waits until they are in.
    spec = pod_spec(component, role["grace"], ["/app/API", "migrate", "--wait", "--timeout", "900"], container)
    return [deployment(f"scfm-{component}", component, role["replicas"], spec),
            disruption_budget(f"scfm-{component}", component, role["replicas"])]


def scaled_object(target, component, minimum, maximum, triggers):
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": target, "namespace": "scfm", "labels": labels(component)},
        "spec": {
            "scaleTargetRef": {"name": target},
            "minReplicaCount": minimum,
            "maxReplicaCount": maximum,
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
                # Each change of a consumer group's members stops the whole group for a rebalance: grow in
                # steps, shrink slowly, one pod every two minutes.
                "scaleUp": {"stabilizationWindowSeconds": 30, "policies": [{"type": "Pods", "value": 4, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]},
            }}},
            "triggers": triggers,
        },
    }


def triggers(role):
    scale = role["scale"]
    if "lag" in scale:
        return [{
            "type": "kafka",
            "metadata": {
                "bootstrapServers": KAFKA_BOOTSTRAP,
                # KAFKA_TOPIC_PREFIX is empty in production; with one, prefix both (README).
                "consumerGroup": f"scfm-{role['name']}",
                "topic": scale["lag"]["topic"],
                "lagThreshold": str(scale["lag"]["threshold"]),
                "offsetResetPolicy": "earliest",
                "allowIdleConsumers": "false",
            },
            "authenticationRef": {"name": "scfm-kafka"},
        }]
    query = scale["prometheus"]
    return [{"type": "prometheus", "metadata": {"serverAddress": PROMETHEUS, "query": query["query"], "threshold": query["threshold"]}}]


def autoscaling_documents():
    documents = [{
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": "scfm-kafka", "namespace": "scfm", "labels": LABELS},
        # The Kafka client's credentials for reading consumer lag (the same Secret as the topics Job's).
        "spec": {"secretTargetRef": [
            {"parameter": "sasl", "name": "scfm-kafka-client", "key": "sasl"},
            {"parameter": "username", "name": "scfm-kafka-client", "key": "username"},
            {"parameter": "password", "name": "scfm-kafka-client", "key": "password"},
            {"parameter": "tls", "name": "scfm-kafka-client", "key": "tls"},
        ]},
    }]
    documents.append(scaled_object("scfm-api", "api", API["min"], API["max"], [
        {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}]))
    for role in ROLES:
        component = f"{role['name']}-worker"
        documents.append(scaled_object(f"scfm-{component}", component, role["min"], role["max"], triggers(role)))
    return documents


def monitoring_documents():
    alerts = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/alerts.yml")))
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": "scfm", "namespace": "scfm", "labels": LABELS},
            "spec": {
                "selector": {"matchLabels": LABELS},
                "podMetricsEndpoints": [{
                    "port": "metrics", "path": "/metrics", "interval": "15s",
                    # `job` is the role's component (queue-worker, ...), as in Compose: the alerts name roles by it.
                    "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"], "targetLabel": "job"}],
                }],
            },
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "scfm", "namespace": "scfm", "labels": LABELS},
            "spec": alerts,
        },
    ]


def sizing_problems():
    problems = []
    connections = API["max"] * API["pool"] + sum(role["max"] * role["pool"] for role in ROLES)
    if connections > DATABASE_CONNECTION_BUDGET:
        problems.append(f"every pod at its maximum opens {connections} database connections, over the budget of {DATABASE_CONNECTION_BUDGET}")
    for role in ROLES:
        if "lag" in role["scale"] and role["max"] > TOPIC_PARTITIONS:
            problems.append(f"{role['name']} scales to {role['max']}, past its topic's {TOPIC_PARTITIONS} partitions")
        if not role["min"] <= role["replicas"] <= role["max"]:
            problems.append(f"{role['name']}: replicas {role['replicas']} outside {role['min']}…{role['max']}")
    return problems, connections


class Dumper(yaml.SafeDumper):
    """Writes every value out (no `&id001` anchors for repeated selectors)."""

    def ignore_aliases(self, data):
        return True


def dump(documents, header):
    body = "\n".join("---\n" + yaml.dump(document, Dumper=Dumper, sort_keys=False, width=140) for document in documents)
    return header + body


HEADER = "# Generated by scripts/render-k8s.py from its table of roles: edit the table, then run it.\n"


def rendered():
    _, connections = sizing_problems()
    workers = []
    for role in ROLES:
        workers.extend(worker_documents(role))
    about = "".join(f"#   {role['name']}: {role['about']}\n" for role in ROLES)
    return {
        "deploy/k8s/base/api.yaml": dump(api_documents(), HEADER + "# The REST API (it also runs the outbox relay: one publishes at a time, under a PostgreSQL advisory lock).\n"),
        "deploy/k8s/base/workers.yaml": dump(workers, HEADER + "# One Deployment per worker role, each its own consumer group. SIGTERM drains: messages in hand finish and\n# their offsets commit before the pod goes.\n" + about),
        "deploy/k8s/overlays/production/autoscaling.yaml": dump(
            autoscaling_documents(),
            HEADER + f"# KEDA: each role scales on its own signal, within its topic's {TOPIC_PARTITIONS} partitions and a database budget of\n"
            f"# {DATABASE_CONNECTION_BUDGET} connections ({connections} with every pod at its maximum).\n"),
        "deploy/k8s/overlays/production/monitoring.yaml": dump(
            monitoring_documents(), HEADER + "# Prometheus Operator: scrape every SCFM pod, and the alerts of deploy/prometheus/alerts.yml.\n"),
    }


def main():
    arguments = sys.argv[1:]
    if "-h" in arguments or "--help" in arguments:
        print(__doc__)
        sys.exit(0)
    if any(argument != "--check" for argument in arguments):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    check = "--check" in arguments
    problems, _ = sizing_problems()
    for path, text in rendered().items():
        full = os.path.join(ROOT, path)
        if check:
            current = open(full).read() if os.path.exists(full) else None
            if current != text:
                problems.append(f"{path} differs from what scripts/render-k8s.py writes: run it")
        else:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as file:
                file.write(text)
    if problems:
        for problem in problems:
            print(f"render-k8s: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
