#!/usr/bin/env python3
"""`make chaos`: a whole campaign while its processes are killed, its database crashes and its broker stalls.

Starts a system of its own from the release build (PostgreSQL under .scfm/chaos/postgres, the local broker,
the fake provider answering 5 % of creates 429 and 2 % 500, the API, and several processes of each worker
role), then runs a campaign of --calls contacts through the REST API: CalloutPopulation, PhoneCallCreate and
PhoneCallQueue batch operations, dialled at the account's --rate calls/s. While it runs:

  - every --kill-every seconds a random worker process gets SIGKILL and is started again 1-3 s later;
  - once, PostgreSQL is crashed (immediate shutdown, no checkpoint) and started again --database-down s later;
  - once, the broker is killed (SIGKILL: every message and committed offset gone) and started again, empty, on
    the same port --broker-down s later; the scheduler's job reconciler sends again what it lost;
  - once, the broker process is frozen (SIGSTOP) for --broker-pause seconds and then resumed;
  - while the broker is down, the API must stay ready (/health 200, "degraded") and accept every provider
    callback (none of the provider's callbacks may fail in that window): it needs only the database;
  - once the CalloutPopulation is running, its worker is asked to stop (SIGTERM): it must exit within
    --stop-within seconds (after the chunk in hand), and the operation is finished by the worker started again
    (the call-by-call check below proves nothing was lost or made twice).

When every call is dialled the faults stop; calls whose final status callback was lost (the API was answering
500 while the database was down) are fetched from the provider with PhoneCallQueueRemoteFetch, as SCFM's
update_calls task did. Then it checks, call by call against the fake provider's own list of calls:

  - every phone call dialled exactly once (one create per number, as many creates as calls);
  - every provider call is one phone call of ours with the same sid, and its final status is the one the
    provider reports (completed, busy, no-answer → not_answered, failed);
  - no second of the clock with more dials than the account's rate, counted when each dial left its slot (the
    call's `remotely_queued_at`; for a call whose dial was found at the provider after its worker died, the
    second the provider created it). The provider's own per-second count is reported beside it: on two cores
    shared by sixteen processes the fake provider stalls now and then and takes the requests waiting in its
    socket together, so its count judges its own scheduling as much as ours (docs/reliability.md).

Prints progress every few seconds, a report (also written to .scfm/chaos/report.json), and exits non-zero on
any failure. Logs of every process are in .scfm/chaos/logs.

Usage: scripts/chaos.py [--calls 100000] [--rate 250] [--seed N] [--kill-every 8] [--queue-workers 3] ...
"""
import argparse
import base64
import email.utils
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from campaign import API  # noqa: E402  (the REST client of `make campaign`)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, ".scfm", "chaos")
BIN = os.path.join(ROOT, ".build", "release")
FINAL = ["errored", "failed", "busy", "not_answered", "canceled", "completed", "expired"]
PROVIDER_STATUS = {"completed": "completed", "busy": "busy", "no-answer": "not_answered", "failed": "failed",
                   "canceled": "canceled"}



def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class System:
    """The processes of one SCFM installation, each restartable by name."""

    def __init__(self, options):
        self.options = options
        self.processes = {}
        self.commands = {}
        self.events = []
        os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
        self.database_url = f"postgres://postgres@127.0.0.1:{options.postgres_port}/scfm_chaos"
        self.api_url = f"http://127.0.0.1:{options.api_port}"
        self.provider_url = f"http://127.0.0.1:{options.provider_port}"
        self.environment = dict(os.environ)
        self.environment.update({
            "DATABASE_URL": self.database_url,
            "DATABASE_POOL_SIZE": "10",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "notice"),
            "HOST": "127.0.0.1",
            # Short sessions: a killed consumer's partitions move to the others within seconds. Short fetch
            # waits: the local broker answers an empty fetch only after the whole wait (KafkaConfiguration).
            "KAFKA_CONSUMER_PROPERTIES": "session.timeout.ms=4000;fetch.wait.max.ms=100",
            "PLATFORM_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000chaos",
            "TWILIO_AUTH_TOKEN": "chaos",
            "TWILIO_REST_API_BASE_URL": self.provider_url,
            "PUBLIC_BASE_URL": self.api_url,
            "SECRETS_KEY": base64.b64encode(os.urandom(32)).decode(),
            # A killed queue worker's claimed calls are resolved at the provider after this long.
            "DIAL_CLAIM_TIMEOUT_SECONDS": "10",
            "PROVIDER_REQUEST_TIMEOUT_SECONDS": "5",
            "FAKE_PROVIDER_429_RATE": "0.05",
            "FAKE_PROVIDER_500_RATE": "0.02",
            "FAKE_PROVIDER_QUEUE_SECONDS": "0.2",
            "FAKE_PROVIDER_RING_SECONDS": "1",
            "FAKE_PROVIDER_TALK_SECONDS": "2",
            # The job reconciler (scheduler role): what the killed broker forgot is sent again 10 s after it was
            # published, as `make run` does; the relay holds a topic back as `make run` does.
            "JOB_REDELIVERY_SECONDS": "10",
            "RECONCILE_INTERVAL_SECONDS": "2",
            "OUTBOX_MAX_PARTITION_LAG": "20000",
            # Several chunks per CalloutPopulation, so that its worker can be asked to stop between two.
            "BATCH_CHUNK_SIZE": "20000",
        })

    def note(self, what):
        self.events.append({"at": round(time.time() - self.started, 1), "event": what})
        log(what)

    def postgres(self, command):
        arguments = [os.path.join(ROOT, "scripts", "postgres.sh"), command, os.path.join(STATE, "postgres")]
        if command == "start":
            arguments.append(str(self.options.postgres_port))
        subprocess.run(arguments, check=True, env=self.environment)

    def psql(self, sql):
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.options.postgres_port), "-U", "postgres", "-d", "scfm_chaos",
             "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
            check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def spawn(self, name, arguments, extra=None, priority=0):
        self.commands[name] = (arguments, extra or {}, priority)
        environment = dict(self.environment, **(extra or {}))
        output = open(os.path.join(STATE, "logs", f"{name}.log"), "a")
        # A raised priority (root only) stands for a process that has a machine of its own in production.
        preexec = (lambda: os.nice(-priority)) if priority and os.geteuid() == 0 else None
        self.processes[name] = subprocess.Popen(arguments, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                                cwd=ROOT, preexec_fn=preexec)

    def restart(self, name):
        arguments, extra, priority = self.commands[name]
        self.spawn(name, arguments, extra, priority)

    def wait_http(self, url, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                parsed = urllib.parse.urlparse(url)
                connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=2)
                connection.request("GET", parsed.path)
                if connection.getresponse().status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{what} did not start (logs in {STATE}/logs)")

    def start(self):
        self.started = time.time()
        shutil.rmtree(os.path.join(STATE, "postgres"), ignore_errors=True)
        self.postgres("start")
        subprocess.run([os.path.join(ROOT, "scripts", "create-database.sh"), str(self.options.postgres_port), "scfm_chaos"],
                       check=True, env=self.environment)
        subprocess.run([f"{BIN}/API", "migrate"], check=True, env=self.environment, stdout=subprocess.DEVNULL)
        token_file = os.path.join(STATE, "super-admin-token")
        subprocess.run([f"{BIN}/API", "create-super-admin", "--token-file", token_file], check=True,
                       env=self.environment, stdout=subprocess.DEVNULL)
        self.super_admin_token = open(token_file).read().strip()

        bootstrap = os.path.join(STATE, "kafka-bootstrap")
        if os.path.exists(bootstrap):
            os.remove(bootstrap)
        # A fixed port, so that the broker started again after its kill is where every client looks for it.
        self.spawn("broker", [f"{BIN}/Workers", "broker", "--bootstrap-file", bootstrap,
                              "--partitions", str(self.options.partitions), "--port", str(self.options.broker_port)])
        deadline = time.time() + 30
        while not (os.path.exists(bootstrap) and os.path.getsize(bootstrap) > 0):
            if time.time() > deadline:
                raise SystemExit("the local broker did not start")
            time.sleep(0.1)
        self.environment["KAFKA_BROKERS"] = open(bootstrap).read().strip()

        # The provider is another company's machines: it runs at a higher priority than our sixteen processes so
        # that its per-second count measures our sending more than its own scheduling on the shared cores.
        self.spawn("fake-provider", [f"{BIN}/Workers", "fake-provider", "--port", str(self.options.provider_port)],
                   priority=5)
        self.wait_http(f"{self.provider_url}/health", "the fake provider")
        self.spawn("api", [f"{BIN}/API", "serve"], {"PORT": str(self.options.api_port), "METRICS_PORT": str(self.options.api_port + 1)})
        self.wait_http(f"{self.api_url}/health", "the API")

        port = self.options.worker_port
        self.workers = []
        for role, count in (("population", self.options.population_workers), ("queue", self.options.queue_workers),
                            ("remote-fetch", self.options.remote_fetch_workers), ("status", self.options.status_workers),
                            ("scheduler", 1)):
            for index in range(count):
                name = f"{role}-{index + 1}"
                self.spawn(name, [f"{BIN}/Workers", "run", "--role", role], {"WORKER_HTTP_PORT": str(port)})
                self.workers.append(name)
                port += 1
        log(f"system up: API {self.api_url}, provider {self.provider_url}, workers {', '.join(self.workers)}")

    def stop(self):
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                if name == "broker":
                    os.kill(process.pid, signal.SIGCONT)
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.postgres("stop")


class Faults:
    """The schedule of faults, advanced by `tick` from the progress loop."""

    def __init__(self, system, options, generator):
        self.system = system
        self.options = options
        self.generator = generator
        self.next_kill = time.time() + options.kill_every
        self.pending_restarts = []
        self.database_crashed = False
        self.database_restart_at = None
        self.broker_paused = False
        self.broker_resume_at = None
        self.broker_killed = False
        self.broker_restart_at = None
        self.kills = 0
        # The API while the broker is down: /health answers, and callbacks failed at the provider meanwhile.
        self.outage_health = []
        self.outage_callbacks_failed = None
        self.outage_failed_at_start = None
        # The population worker asked to stop mid-operation.
        self.population_running = False
        self.population_stop = None
        self.population_stopped_in = None

    def tick(self, dialled, total):
        now = time.time()
        for restart in list(self.pending_restarts):
            if now >= restart[0]:
                self.system.restart(restart[1])
                self.system.note(f"restarted {restart[1]}")
                self.pending_restarts.remove(restart)
        self.tick_population_stop(now)
        if self.broker_restart_at:
            self.outage_health.append(api_health(self.system))
        if now >= self.next_kill:
            down = {name for _, name in self.pending_restarts}
            if self.population_stop and not self.population_stopped_in:
                down.add("population-1")
            name = self.generator.choice([name for name in self.system.workers if name not in down])
            self.system.processes[name].kill()
            self.system.processes[name].wait()
            self.kills += 1
            self.system.note(f"SIGKILL {name}")
            self.pending_restarts.append((now + self.generator.uniform(1, 3), name))
            self.next_kill = now + self.options.kill_every * self.generator.uniform(0.5, 1.5)
        if not self.database_crashed and dialled >= total * 0.3:
            self.database_crashed = True
            self.system.postgres("crash")
            self.system.note("PostgreSQL crashed (immediate shutdown)")
            self.database_restart_at = now + self.options.database_down
        if self.database_restart_at and now >= self.database_restart_at:
            self.database_restart_at = None
            self.system.postgres("start")
            self.system.note("PostgreSQL started again (WAL recovery)")
        if not self.broker_killed and dialled >= total * 0.45:
            self.broker_killed = True
            self.outage_failed_at_start = callbacks_failed(self.system)
            self.system.processes["broker"].kill()
            self.system.processes["broker"].wait()
            self.system.note(f"broker killed (SIGKILL), every message lost; started again in {self.options.broker_down:g} s")
            self.broker_restart_at = now + self.options.broker_down
        if self.broker_restart_at and now >= self.broker_restart_at:
            self.broker_restart_at = None
            failed = callbacks_failed(self.system)
            if failed is not None and self.outage_failed_at_start is not None:
                self.outage_callbacks_failed = failed - self.outage_failed_at_start
            self.system.restart("broker")
            self.system.note(f"broker started again, empty, on the same port (API /health meanwhile: {summarize(self.outage_health)}; "
                             f"callbacks failed meanwhile: {self.outage_callbacks_failed})")
        if not self.broker_paused and not self.broker_restart_at and dialled >= total * 0.6:
            self.broker_paused = True
            os.kill(self.system.processes["broker"].pid, signal.SIGSTOP)
            self.system.note(f"broker frozen (SIGSTOP) for {self.options.broker_pause:g} s")
            self.broker_resume_at = now + self.options.broker_pause
        if self.broker_resume_at and now >= self.broker_resume_at:
            self.broker_resume_at = None
            os.kill(self.system.processes["broker"].pid, signal.SIGCONT)
            self.system.note("broker resumed (SIGCONT)")

    def tick_population_stop(self, now):
        """SIGTERM to the population worker once its operation runs; times its exit, then starts it again."""
        process = self.system.processes.get("population-1")
        if process is None:
            return
        if self.population_running and self.population_stop is None and process.poll() is None:
            self.population_stop = now
            process.terminate()
            self.system.note("SIGTERM population-1 while its CalloutPopulation runs")
        elif self.population_stop and self.population_stopped_in is None:
            if process.poll() is not None:
                self.population_stopped_in = round(now - self.population_stop, 1)
                self.system.note(f"population-1 stopped {self.population_stopped_in} s after SIGTERM (exit {process.returncode}); starting it again")
                self.system.restart("population-1")
            elif now - self.population_stop > self.options.stop_within * 3:
                self.population_stopped_in = round(now - self.population_stop, 1)
                self.system.note(f"population-1 did not stop within {self.population_stopped_in} s of SIGTERM: killed")
                process.kill()
                process.wait()
                self.system.restart("population-1")

    def settle(self):
        """Ends every fault in progress: restarts what is down."""
        for _, name in self.pending_restarts:
            self.system.restart(name)
            self.system.note(f"restarted {name}")
        self.pending_restarts = []
        if self.database_restart_at:
            self.system.postgres("start")
            self.database_restart_at = None
            self.system.note("PostgreSQL started again (WAL recovery)")
        if self.broker_resume_at:
            os.kill(self.system.processes["broker"].pid, signal.SIGCONT)
            self.broker_resume_at = None
            self.system.note("broker resumed (SIGCONT)")
        if self.broker_restart_at:
            self.system.restart("broker")
            self.broker_restart_at = None
            self.system.note("broker started again, empty, on the same port")

    @property
    def complete(self):
        return (self.database_crashed and self.broker_paused and self.broker_killed and not self.database_restart_at
                and not self.broker_resume_at and not self.broker_restart_at)


def api_health(system):
    """The API's /health status code (0: no answer)."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", system.options.api_port, timeout=2)
        connection.request("GET", "/health")
        return connection.getresponse().status
    except OSError:
        return 0


def summarize(statuses):
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())) or "not asked"


def callbacks_failed(system):
    """How many of the provider's status callbacks the API did not accept so far (the fake provider's count)."""
    try:
        return provider_get(system, "/_fake/ledger")["status_callbacks_failed"]
    except (OSError, ValueError, KeyError):
        return None


def jobs_redelivered(system):
    """scfm_jobs_redelivered_total of the scheduler worker since its last start (a random kill may have reset it),
    by topic and reason: what the job reconciler sent again."""
    port = system.commands["scheduler-1"][1]["WORKER_HTTP_PORT"]
    try:
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        if line.startswith("scfm_jobs_redelivered_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels[len("scfm_jobs_redelivered_total"):]] = float(value)
    return found


def provider_get(system, path):
    parsed = urllib.parse.urlparse(system.provider_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    return json.loads(response.read())


def database_counts(system, callout):
    """Phone calls of the callout by status, or None while the database is down."""
    try:
        rows = system.psql(f"SELECT status, count(*) FROM phone_calls WHERE callout_id = {callout} GROUP BY status")
    except subprocess.CalledProcessError:
        return None
    return {status: int(count) for status, count in (line.split("|") for line in rows.splitlines() if line)}


def queue_batch(api, callout, form):
    """Creates and queues a batch operation, retrying while the API is unavailable."""
    for attempt in range(60):
        try:
            operation, _ = api.call("POST", f"/api/callouts/{callout}/batch_operations", form)
            api.call("POST", f"/api/batch_operations/{operation['id']}/batch_operation_events", {"event": "queue"})
            return operation["id"]
        except SystemExit as error:
            log(f"  retrying a batch operation: {error}")
            time.sleep(1)
    raise SystemExit("the API refused the batch operation for a minute")


def dials_sent_per_second(system, callout):
    """{epoch second: dials} by the second each accepted dial left its slot (`remotely_queued_at`, set by the queue
    worker when the request went out). A dial recorded later than the provider created it (found at the provider
    after its worker died: the record is the lookup's time) is counted in the provider's second instead."""
    rows = system.psql(
        f"""SELECT extract(epoch FROM remotely_queued_at)::float8, coalesce(remote_queue_response->>'date_created', '')
            FROM phone_calls WHERE callout_id = {callout} AND remotely_queued_at IS NOT NULL""")
    counts = {}
    for line in rows.splitlines():
        sent, created = line.split("|")
        second = int(float(sent))
        if created:
            created_second = int(email.utils.parsedate_to_datetime(created).timestamp())
            if second > created_second + 1:
                second = created_second
        counts[second] = counts.get(second, 0) + 1
    return counts


def verify(system, callout, options, account_sid):
    """The per-call comparison of our phone calls with the provider's calls."""
    provider_calls = {}
    page = 0
    while True:
        answer = provider_get(system, f"/2010-04-01/Accounts/{account_sid}/Calls.json?PageSize=1000&Page={page}")
        for call in answer["calls"]:
            provider_calls[call["sid"]] = call
        if not answer.get("next_page_uri"):
            break
        page += 1
    rows = system.psql(
        f"SELECT coalesce(remote_call_id, ''), status, coalesce(remote_status, '') FROM phone_calls WHERE callout_id = {callout}")
    ours = [line.split("|") for line in rows.splitlines() if line]
    by_sid = {}
    not_dialled = 0
    for sid, status, remote_status in ours:
        if not sid:
            not_dialled += 1
            continue
        by_sid.setdefault(sid, []).append((status, remote_status))
    problems = []
    if len(ours) != options.calls:
        problems.append(f"{len(ours)} phone calls for {options.calls} participations")
    if not_dialled:
        problems.append(f"{not_dialled} phone calls without a provider call")
    shared = [sid for sid, calls in by_sid.items() if len(calls) > 1]
    if shared:
        problems.append(f"{len(shared)} provider calls recorded on more than one phone call")
    unknown = [sid for sid in provider_calls if sid not in by_sid]
    for sid in unknown[:20]:
        call = provider_calls[sid]
        log(f"  unknown provider call {sid}: to {call.get('to')}, created {call.get('date_created')}, status {call.get('status')}")
    if unknown:
        problems.append(f"{len(unknown)} provider calls unknown to us (dialled but not recorded), e.g. {unknown[:3]}")
    phantom = [sid for sid in by_sid if sid not in provider_calls]
    if phantom:
        problems.append(f"{len(phantom)} phone calls name a provider call that does not exist")
    mismatched = []
    for sid, call in provider_calls.items():
        for status, remote_status in by_sid.get(sid, []):
            expected = PROVIDER_STATUS.get(call["status"])
            if expected is None or status != expected or remote_status != call["status"]:
                mismatched.append((sid, call["status"], status, remote_status))
    if mismatched:
        problems.append(f"{len(mismatched)} calls whose status differs from the provider's, e.g. {mismatched[:3]}")
    outcomes = {}
    for call in provider_calls.values():
        outcomes[call["status"]] = outcomes.get(call["status"], 0) + 1
    return problems, len(provider_calls), outcomes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=int(os.environ.get("CHAOS_CALLS", 100_000)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("CHAOS_RATE", 250)), help="the account's calls/s")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", random.randrange(1 << 30))))
    parser.add_argument("--kill-every", type=float, default=8, help="mean seconds between worker kills")
    parser.add_argument("--database-down", type=float, default=5, help="seconds PostgreSQL stays down")
    parser.add_argument("--broker-pause", type=float, default=10, help="seconds the broker stays frozen")
    parser.add_argument("--broker-down", type=float, default=10, help="seconds the killed broker stays down")
    parser.add_argument("--stop-within", type=float, default=30,
                        help="seconds a population worker may take to stop after SIGTERM (the chunk in hand)")
    parser.add_argument("--broker-port", type=int, default=int(os.environ.get("SCFM_CHAOS_BROKER_PORT", 9396)))
    parser.add_argument("--population-workers", type=int, default=1)
    parser.add_argument("--queue-workers", type=int, default=3)
    parser.add_argument("--remote-fetch-workers", type=int, default=1)
    parser.add_argument("--status-workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole campaign")
    parser.add_argument("--postgres-port", type=int, default=int(os.environ.get("SCFM_CHAOS_POSTGRES_PORT", 5439)))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("SCFM_CHAOS_API_PORT", 3996)))
    parser.add_argument("--provider-port", type=int, default=4019)
    parser.add_argument("--worker-port", type=int, default=9190)
    options = parser.parse_args()
    # A SIGTERM (make's or timeout's) still stops the system it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    generator = random.Random(options.seed)
    log(f"chaos run: {options.calls} calls at {options.rate:g} calls/s, seed {options.seed}")

    system = System(options)
    report = {"calls": options.calls, "rate": options.rate, "seed": options.seed,
              "machine": f"{os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d")}
    try:
        system.start()
        superadmin = API(system.api_url, system.super_admin_token)
        account, _ = superadmin.call("POST", "/api/accounts", {
            "metadata[name]": "chaos", "settings[max_calls_per_second]": str(options.rate)})
        token, _ = superadmin.call("POST", "/api/access_tokens", {"account_sid": account["id"]})
        api = API(system.api_url, token["token"])
        system.psql(f"""INSERT INTO contacts (account_id, msisdn, metadata)
                        SELECT {account['id']}, '+85517' || lpad(n::text, 7, '0'), '{{"chaos": "yes"}}'
                        FROM generate_series(1, {options.calls}) AS n""")
        callout, _ = api.call("POST", "/api/callouts", {
            "metadata[name]": "chaos", "call_flow_logic": "CallFlowLogic::PlayMessage",
            "metadata[message]": "This is a test of the alert system. No action is needed."})
        callout = callout["id"]
        faults = Faults(system, options, generator)
        campaign_started = time.time()
        # The three batch operations, each queued once the one before finished; faults run meanwhile.
        steps = [
            ("population", {"type": "BatchOperation::CalloutPopulation",
                            "parameters[contact_filter_params][metadata][chaos]": "yes"}),
            ("phone call create", {"type": "BatchOperation::PhoneCallCreate",
                                   "parameters[callout_participation_filter_params][no_phone_calls]": "true",
                                   "parameters[remote_request_params][from]": "1294"}),
            ("phone call queue", {"type": "BatchOperation::PhoneCallQueue",
                                  "parameters[phone_call_filter_params][status]": "created"}),
        ]
        dial_started = None
        deadline = time.time() + options.timeout
        operation = None
        last_progress = 0
        dialled = 0
        while True:
            if time.time() > deadline:
                raise SystemExit("the campaign did not finish before the timeout")
            if operation is None and steps:
                what, form = steps.pop(0)
                if what == "phone call create":
                    # Participations exist: the callout runs (its calls are dialled only while it does).
                    api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "start"})
                if what == "phone call queue":
                    dial_started = time.time()
                operation = (what, queue_batch(api, callout, form), time.time())
            if operation is not None:
                try:
                    current = system.psql(f"SELECT status FROM batch_operations WHERE id = {operation[1]}")
                except subprocess.CalledProcessError:
                    current = None
                faults.population_running = operation[0] == "population" and current == "running"
                if current == "finished":
                    system.note(f"{operation[0]} finished in {time.time() - operation[2]:.1f} s")
                    operation = None
            counts = database_counts(system, callout)
            # Progress from the database, not the provider's ledger: its summary walks every create under the
            # ledger's lock, and asking for it twice a second delays the provider's own request handling.
            if counts is not None:
                dialled = sum(count for status, count in counts.items() if status not in ("created", "queued"))
            if not faults.complete or dialled < options.calls:
                faults.tick(dialled, options.calls)
            if time.time() - last_progress >= 5:
                last_progress = time.time()
                final = sum(counts.get(status, 0) for status in FINAL) if counts else "?"
                log(f"dialled {dialled}/{options.calls}, final {final}, phone calls by status {counts or 'database down'}")
            if dial_started and dialled >= options.calls and faults.complete:
                break
            time.sleep(0.5)
        faults.settle()
        dial_seconds = time.time() - dial_started
        report["dial_seconds"] = round(dial_seconds, 1)
        report["worker_kills"] = faults.kills
        report["jobs_redelivered"] = jobs_redelivered(system)
        log(f"every call dialled after {dial_seconds:.1f} s; {faults.kills} workers killed")

        # Calls whose final callback was lost are fetched from the provider, as SCFM's update_calls task.
        fetches = 0
        last_final, last_change = -1, time.time()
        while True:
            if time.time() > deadline:
                raise SystemExit("calls not final at the timeout")
            counts = database_counts(system, callout) or {}
            final = sum(counts.get(status, 0) for status in FINAL)
            if final != last_final:
                last_final, last_change = final, time.time()
            elif time.time() - last_change > 300:
                raise SystemExit(f"no call became final for 5 minutes ({final}/{options.calls} final): the system is stuck")
            log(f"final {final}/{options.calls}, phone calls by status {counts}")
            if final == options.calls:
                break
            under_way = counts.get("remotely_queued", 0) + counts.get("in_progress", 0)
            if under_way and fetches * 15 < time.time() - dial_started - 30:
                fetches += 1
                queue_batch(api, callout, {"type": "BatchOperation::PhoneCallQueueRemoteFetch",
                                           "parameters[phone_call_filter_params][status]": "remotely_queued,in_progress"})
                system.note(f"remote fetch queued for {under_way} calls under way")
            time.sleep(3)
        report["remote_fetch_operations"] = fetches
        report["seconds_to_all_final"] = round(time.time() - campaign_started, 1)

        ledger = provider_get(system, "/_fake/ledger")
        problems, provider_count, outcomes = verify(system, callout, options, system.environment["TWILIO_ACCOUNT_SID"])
        if ledger["creates"] != options.calls:
            problems.append(f"the provider received {ledger['creates']} creates for {options.calls} calls")
        if ledger["repeated_to_count"]:
            problems.append(f"{ledger['repeated_to_count']} numbers dialled more than once")
        report["api_health_while_broker_down"] = summarize(faults.outage_health)
        report["callbacks_failed_while_broker_down"] = faults.outage_callbacks_failed
        if not faults.outage_health or any(status != 200 for status in faults.outage_health):
            problems.append(f"the API was not ready while the broker was down (/health: {summarize(faults.outage_health)})")
        if faults.outage_callbacks_failed != 0:
            problems.append(f"{faults.outage_callbacks_failed} provider callbacks failed while the broker was down")
        report["population_stop_seconds"] = faults.population_stopped_in
        if faults.population_stopped_in is None:
            problems.append("the population worker was never asked to stop mid-operation (the operation ran too briefly)")
        elif faults.population_stopped_in > options.stop_within:
            problems.append(f"the population worker took {faults.population_stopped_in} s to stop after SIGTERM (limit {options.stop_within:g} s)")
        sent_per_second = dials_sent_per_second(system, callout)
        busiest_sent_second = max(sent_per_second.values() or [0])
        if busiest_sent_second > options.rate:
            problems.append(f"{busiest_sent_second} dials sent in one second of the clock, above {options.rate:g}")
        busiest_clock_second = max(ledger["creates_per_second"] or [0])
        # Both provider-side figures are timed where the provider's handler runs: on two shared cores the fake
        # provider itself stalls now and then and takes the requests that waited in its socket at once, so they
        # are figures of the report (docs/reliability.md), not the verdict; the limiter's accuracy on a quiet
        # machine is make bench's (dispatch).
        warnings = []
        if busiest_clock_second > options.rate:
            warnings.append(f"{busiest_clock_second} creates in one clock second at the provider, above {options.rate:g}")
        if ledger["max_creates_in_any_second"] > options.rate:
            warnings.append(f"{ledger['max_creates_in_any_second']} creates in one sliding second at the provider, above {options.rate:g}")
        if warnings:
            report["warnings"] = warnings
        report.update({
            "provider_creates": ledger["creates"], "distinct_numbers": ledger["distinct_to"],
            "repeated_numbers": ledger["repeated_to_count"], "repeated_numbers_sample": ledger["repeated_to"][:20],
            "provider_429": ledger["throttled"],
            "provider_500": ledger["failed"], "max_creates_in_any_sliding_second": ledger["max_creates_in_any_second"],
            "max_creates_in_any_clock_second": busiest_clock_second,
            "max_dials_sent_in_any_clock_second": busiest_sent_second,
            "status_callbacks_delivered": ledger["status_callbacks_delivered"],
            "status_callbacks_failed": ledger["status_callbacks_failed"],
            "creates_per_second_at_provider": ledger["creates_per_second"],
            "provider_calls_compared": provider_count, "provider_outcomes": outcomes,
            "phone_calls_by_status": database_counts(system, callout), "events": system.events,
            "problems": problems, "passed": not problems,
        })
    finally:
        system.stop()
        with open(os.path.join(STATE, "report.json"), "w") as output:
            json.dump(report, output, indent=2)
    print(json.dumps({key: value for key, value in report.items() if key not in ("events", "creates_per_second_at_provider")}, indent=2))
    if report.get("problems"):
        print("FAILED: " + "; ".join(report["problems"]), file=sys.stderr)
        return 1
    for warning in report.get("warnings", []):
        print(f"warning: {warning}")
    print(f"chaos run passed: {options.calls} calls, each dialled once and recorded with the provider's final status, "
          f"through {report['worker_kills']} worker kills, a PostgreSQL crash, a broker killed and started again empty, "
          f"and a {options.broker_pause:g} s broker freeze")
    return 0


if __name__ == "__main__":
    sys.exit(main())
