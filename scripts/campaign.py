#!/usr/bin/env python3
"""A whole campaign through the API of a running `make run`, checked against the fake provider's ledger.

Creates an account (max_calls_per_second from --rate) and N contacts, populates a callout, creates and queues
one phone call per participation with batch operations, waits until the queue workers have dialled every call,
then queues remote fetches until every call is in a final status. Finally checks the fake provider's ledger:
one create per call and no number dialled twice, every status callback and call flow request answered; and
the API: each final provider status (completed, busy, no-answer, failed) has as many remote phone call events
as calls that ended with it. The calls play the callout's message with CallFlowLogic::PlayMessage unless
--twiml-url names instructions elsewhere. Prints progress and a summary; exits non-zero on failure.

Usage: scripts/campaign.py [--contacts 10000] [--rate 200] [--api http://127.0.0.1:3000]
                           [--provider http://127.0.0.1:4010] [--timeout 1800] [--twiml-url URL]
For the issue's check, start `make run` with FAKE_PROVIDER_429_RATE=0.05 FAKE_PROVIDER_500_RATE=0.02.
"""
import argparse
import base64
import concurrent.futures
import http.client
import json
import sys
import threading
import time
import urllib.parse

FINAL = ["errored", "failed", "busy", "not_answered", "canceled", "completed", "expired"]


class API:
    def __init__(self, base, token):
        self.url = urllib.parse.urlparse(base)
        self.auth = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
        self.local = threading.local()

    def connection(self):
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=120)
        return self.local.connection

    def call(self, method, path, form=None, expected=(200, 201, 204)):
        body = urllib.parse.urlencode(form or {}, doseq=True)
        headers = {"Authorization": self.auth, "Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(5):
            try:
                connection = self.connection()
                connection.request(method, path, body=body if form is not None else None, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                del self.local.connection
                time.sleep(0.2 * (attempt + 1))
        else:
            raise SystemExit(f"{method} {path}: no answer")
        if response.status not in expected:
            raise SystemExit(f"{method} {path} → {response.status}: {data[:500]!r}")
        return (json.loads(data) if data else None), response.headers

    def total(self, path):
        _, headers = self.call("GET", path)
        return int(headers.get("Total", "0"))


def create_contacts(api, first_number, count, fields):
    """`count` contacts numbered from +first_number, with `fields` (form fields such as metadata), 8 at a time."""
    started = time.time()

    def create(index):
        api.call("POST", "/api/contacts", {"msisdn": f"+{first_number + index}", **fields})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for done, _ in enumerate(pool.map(create, range(count)), 1):
            if done % 5000 == 0:
                print(f"  contacts: {done}/{count}", flush=True)
    print(f"  contacts created in {time.time() - started:.1f} s", flush=True)


def batch(api, callout, form, what):
    operation, _ = api.call("POST", f"/api/callouts/{callout}/batch_operations", form)
    api.call("POST", f"/api/batch_operations/{operation['id']}/batch_operation_events", {"event": "queue"})
    started = time.time()
    while True:
        current, _ = api.call("GET", f"/api/batch_operations/{operation['id']}")
        if current["status"] == "finished":
            done = current.get("progress", {}).get("done")
            print(f"  {what}: finished in {time.time() - started:.1f} s ({done} rows)", flush=True)
            return current
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200, help="the account's max_calls_per_second")
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--provider", default="http://127.0.0.1:4010")
    parser.add_argument("--token-file", default=".scfm/super-admin-token")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for every call to end")
    parser.add_argument("--twiml-url", help="the calls' own instructions (as the seeds' examples), instead of our call flow")
    options = parser.parse_args()

    provider = urllib.parse.urlparse(options.provider)
    def ledger(method="GET"):
        connection = http.client.HTTPConnection(provider.hostname, provider.port, timeout=30)
        connection.request(method, "/_fake/ledger")
        response = connection.getresponse()
        data = response.read()
        return json.loads(data) if data else None

    ledger("DELETE")
    superadmin = API(options.api, open(options.token_file).read().strip())
    account, _ = superadmin.call("POST", "/api/accounts", {"metadata[name]": "campaign", "settings[max_calls_per_second]": str(options.rate)})
    token, _ = superadmin.call("POST", "/api/access_tokens", {"account_sid": account["id"]})
    api = API(options.api, token["token"])
    print(f"account {account['id']}: {options.contacts} contacts at {options.rate:g} calls/s", flush=True)

    started = time.time()
    create_contacts(api, 85_512_000_000 + account["id"] * 1_000_000, options.contacts, {"metadata[campaign]": str(account["id"])})

    callout, _ = api.call("POST", "/api/callouts", {
        "metadata[name]": "campaign", "call_flow_logic": "CallFlowLogic::PlayMessage",
        "metadata[message]": "This is a test of the alert system. No action is needed."})
    callout = callout["id"]
    batch(api, callout, {"type": "BatchOperation::CalloutPopulation",
                         "parameters[contact_filter_params][metadata][campaign]": str(account["id"])}, "population")
    api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "start"})
    create_form = {"type": "BatchOperation::PhoneCallCreate",
                   "parameters[callout_participation_filter_params][no_phone_calls]": "true",
                   "parameters[remote_request_params][from]": "1294"}
    if options.twiml_url:
        create_form.update({"parameters[remote_request_params][url]": options.twiml_url,
                            "parameters[remote_request_params][method]": "GET"})
    batch(api, callout, create_form, "phone call create")
    dial_started = time.time()
    batch(api, callout, {"type": "BatchOperation::PhoneCallQueue",
                         "parameters[phone_call_filter_params][status]": "created"}, "phone call queue")

    calls = f"/api/callouts/{callout}/phone_calls"
    deadline = time.time() + options.timeout
    while True:
        waiting = api.total(f"{calls}?q[status]=queued")
        print(f"  dialling: {options.contacts - waiting}/{options.contacts} dialled", flush=True)
        if waiting == 0:
            break
        if time.time() > deadline:
            raise SystemExit("calls still queued at the timeout")
        time.sleep(2)
    dial_seconds = time.time() - dial_started
    print(f"  every call dialled in {dial_seconds:.1f} s ({options.contacts / dial_seconds:.1f} calls/s)", flush=True)

    while True:
        final = api.total(f"{calls}?q[status]={','.join(FINAL)}")
        print(f"  outcomes: {final}/{options.contacts} final", flush=True)
        if final == options.contacts:
            break
        if time.time() > deadline:
            raise SystemExit("calls not final at the timeout")
        # As SCFM's update_calls task: fetch the calls still under way from the provider.
        if api.total(f"{calls}?q[status]=remotely_queued,in_progress") > 0:
            batch(api, callout, {"type": "BatchOperation::PhoneCallQueueRemoteFetch",
                                 "parameters[phone_call_filter_params][status]": "remotely_queued,in_progress"}, "remote fetch")
        time.sleep(3)

    # Each call's final status callback becomes a remote phone call event; the last may still be on its way.
    events = f"/api/callouts/{callout}/remote_phone_call_events"
    outcomes = {}
    settle_deadline = time.time() + 60
    while True:
        outcomes = {status: (api.total(f"{events}?q[details][CallStatus]={status}"), api.total(f"{calls}?q[remote_status]={status}"))
                    for status in ("completed", "busy", "no-answer", "failed")}
        if all(events_count == calls_count for events_count, calls_count in outcomes.values()) or time.time() > settle_deadline:
            break
        time.sleep(1)
    print("  remote phone call events by final status (events, calls): "
          + ", ".join(f"{status} {pair[0]}/{pair[1]}" for status, pair in outcomes.items()), flush=True)

    statistics, _ = api.call("GET", f"/api/callouts/{callout}/callout_statistics")
    summary = ledger()
    print(json.dumps({"callout_statistics": statistics, "ledger": {k: v for k, v in summary.items() if k != "creates_per_second"}}, indent=2))
    problems = []
    if summary["creates"] != options.contacts:
        problems.append(f"the provider received {summary['creates']} creates for {options.contacts} calls")
    if summary["repeated_to_count"]:
        problems.append(f"{summary['repeated_to_count']} numbers were dialled more than once")
    if summary["max_creates_in_any_second"] > options.rate:
        problems.append(f"{summary['max_creates_in_any_second']} creates in one second, above {options.rate:g}")
    for status, (events_count, calls_count) in outcomes.items():
        if events_count != calls_count:
            problems.append(f"{calls_count} calls ended {status} but {events_count} remote phone call events say so")
    if summary.get("status_callbacks_failed") or summary.get("call_flow_requests_failed"):
        problems.append(f"{summary['status_callbacks_failed']} status callbacks and {summary['call_flow_requests_failed']} call flow requests were refused or failed")
    if summary.get("status_callbacks_delivered", 0) < options.contacts:
        problems.append(f"only {summary.get('status_callbacks_delivered', 0)} status callbacks reached the API for {options.contacts} calls")
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"campaign complete: {options.contacts} calls, each dialled once, all final, in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
