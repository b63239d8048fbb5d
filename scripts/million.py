#!/usr/bin/env python3
"""`make million`: a million-call PhoneCallQueue against a running `make run`, each call dialled exactly once.

Seeds --contacts contacts straight into the `make run` database (the contacts API is not what is measured),
then through the REST API: an account dialling at --rate calls/s, a callout, CalloutPopulation, PhoneCallCreate
and one PhoneCallQueue of every call. The whole backlog is queued at once: the outbox relay holds the
`phone-calls.queue` topic back while its consumers are OUTBOX_MAX_PARTITION_LAG messages behind (the local
broker keeps 5 MB a partition), so the jobs wait in PostgreSQL rather than overflowing the broker. While the
queue workers dial, it samples the queue consumers' lag per partition (the `queue` worker's /metrics) and the
outbox backlog. At the end it checks the fake provider's ledger (one create per call, no number twice) and reads
what the job reconciler sent again (the `scheduler` worker's /metrics).

Start `make run` for it with the provider's status callbacks aimed at a closed port, so that the API does not
take four callbacks per call on the same two cores (this measures dialling, not callbacks):

    PUBLIC_BASE_URL=http://127.0.0.1:9 make run
    make million CONTACTS=1000000 RATE=1500

Usage: scripts/million.py [--contacts 1000000] [--rate 1500] [--timeout 3600]
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from campaign import API  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get(url, timeout=30):
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    connection.request("GET", parsed.path + (f"?{parsed.query}" if parsed.query else ""))
    return connection.getresponse().read().decode()


def metric_values(url, name):
    """{labels: value} of one metric on a /metrics page (empty when the process does not answer)."""
    try:
        text = get(url, timeout=5)
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, value = line.rsplit(" ", 1)
            values[labels[len(name):]] = float(value)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=1500, help="the account's max_calls_per_second")
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--provider", default="http://127.0.0.1:4010")
    parser.add_argument("--postgres-port", type=int, default=int(os.environ.get("SCFM_POSTGRES_PORT", 5433)))
    parser.add_argument("--queue-metrics", default="http://127.0.0.1:9091/metrics", help="the queue worker's /metrics")
    parser.add_argument("--scheduler-metrics", default="http://127.0.0.1:9094/metrics", help="the scheduler's /metrics")
    parser.add_argument("--token-file", default=os.path.join(ROOT, ".scfm", "super-admin-token"))
    parser.add_argument("--timeout", type=float, default=3600)
    options = parser.parse_args()

    def psql(sql):
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(options.postgres_port), "-U", "postgres", "-d", "scfm", "-v",
             "ON_ERROR_STOP=1", "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()

    def batch(api, callout, form, what):
        started = time.time()
        operation, _ = api.call("POST", f"/api/callouts/{callout}/batch_operations", form)
        api.call("POST", f"/api/batch_operations/{operation['id']}/batch_operation_events", {"event": "queue"})
        while psql(f"SELECT status FROM batch_operations WHERE id = {operation['id']}") != "finished":
            time.sleep(1)
        print(f"  {what}: {time.time() - started:.1f} s", flush=True)
        return time.time() - started

    get(options.provider + "/_fake/ledger")  # the provider answers
    parsed = urllib.parse.urlparse(options.provider)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("DELETE", "/_fake/ledger")
    connection.getresponse().read()
    redelivered_before = sum(metric_values(options.scheduler_metrics, "scfm_jobs_redelivered_total").values())

    superadmin = API(options.api, open(options.token_file).read().strip())
    account, _ = superadmin.call("POST", "/api/accounts", {
        "metadata[name]": "million", "settings[max_calls_per_second]": str(options.rate)})
    token, _ = superadmin.call("POST", "/api/access_tokens", {"account_sid": account["id"]})
    api = API(options.api, token["token"])
    started = time.time()
    first = 85_513_000_000 + account["id"] * 10_000_000
    psql(f"""INSERT INTO contacts (account_id, msisdn, metadata)
             SELECT {account['id']}, '+' || ({first} + n)::text, '{{"million": "yes"}}'
             FROM generate_series(1, {options.contacts}) AS n""")
    print(f"account {account['id']}: {options.contacts} contacts seeded in {time.time() - started:.1f} s, "
          f"dialling at {options.rate:g} calls/s", flush=True)
    callout, _ = api.call("POST", "/api/callouts", {
        "metadata[name]": "million", "call_flow_logic": "CallFlowLogic::PlayMessage",
        "metadata[message]": "This is a test of the alert system. No action is needed."})
    callout = callout["id"]
    report = {"contacts": options.contacts, "rate": options.rate, "date": time.strftime("%Y-%m-%d")}
    report["population_seconds"] = round(batch(api, callout, {
        "type": "BatchOperation::CalloutPopulation", "parameters[contact_filter_params][metadata][million]": "yes"},
        "population"), 1)
    api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "start"})
    report["create_seconds"] = round(batch(api, callout, {
        "type": "BatchOperation::PhoneCallCreate", "parameters[callout_participation_filter_params][no_phone_calls]": "true",
        "parameters[remote_request_params][from]": "1294"}, "phone call create"), 1)
    dial_started = time.time()
    report["queue_seconds"] = round(batch(api, callout, {
        "type": "BatchOperation::PhoneCallQueue", "parameters[phone_call_filter_params][status]": "created"},
        "phone call queue"), 1)

    peak_partition_lag = 0
    peak_outbox = 0
    deadline = time.time() + options.timeout
    last_print = 0
    while True:
        waiting = int(psql(f"SELECT count(*) FROM phone_calls WHERE callout_id = {callout} AND status = 'queued'"))
        lags = metric_values(options.queue_metrics, "scfm_consumer_lag")
        peak_partition_lag = max([peak_partition_lag] + list(lags.values()))
        outbox = int(psql("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL"))
        peak_outbox = max(peak_outbox, outbox)
        if time.time() - last_print >= 10:
            last_print = time.time()
            dialled = options.contacts - waiting
            print(f"  {dialled}/{options.contacts} dialled ({dialled / (time.time() - dial_started):.0f}/s), "
                  f"outbox {outbox} waiting, queue lag per partition up to {max(lags.values(), default=0):.0f}", flush=True)
        if waiting == 0:
            break
        if time.time() > deadline:
            raise SystemExit(f"{waiting} calls still queued at the timeout")
        time.sleep(1)
    dial_seconds = time.time() - dial_started
    ledger = json.loads(get(options.provider + "/_fake/ledger", timeout=120))
    redelivered = sum(metric_values(options.scheduler_metrics, "scfm_jobs_redelivered_total").values()) - redelivered_before
    report.update({
        "dial_seconds": round(dial_seconds, 1), "calls_per_second": round(options.contacts / dial_seconds, 1),
        "peak_queue_lag_per_partition": int(peak_partition_lag), "peak_outbox_waiting": peak_outbox,
        "jobs_redelivered": int(redelivered), "provider_creates": ledger["creates"],
        "distinct_numbers": ledger["distinct_to"], "repeated_numbers": ledger["repeated_to_count"],
        "max_creates_in_any_clock_second": max(ledger["creates_per_second"] or [0]),
    })
    problems = []
    if ledger["creates"] != options.contacts:
        problems.append(f"the provider received {ledger['creates']} creates for {options.contacts} calls")
    if ledger["repeated_to_count"]:
        problems.append(f"{ledger['repeated_to_count']} numbers dialled more than once")
    report["problems"] = problems
    print(json.dumps(report, indent=2))
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"million passed: {options.contacts} calls queued at once, each dialled exactly once in {dial_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
