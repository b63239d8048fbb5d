#!/usr/bin/env python3
"""The autopilot end to end against a running `make run`: a callout started once runs to completion by itself.

Creates an account with the autopilot enabled (busy and no-answer retried after 5 s and then 10 s, at most 3
calls per participant) and N contacts, populates a callout, registers a webhook endpoint on the fake provider's
sink, and starts the callout: nothing else. Part-way it pauses the callout and checks on the fake provider's
ledger that dialling stopped within one second of the recorded pause, then resumes it and waits until the
autopilot marks it finished. Then checks, through the API: every participation has an outcome; only busy and
no-answer calls were retried, and exhausted participations had exactly 3 calls; the provider's creates equal the
calls the API counts; every participation result reached the webhook endpoint, signed.

Usage: scripts/autopilot.py [--contacts 20000] [--rate 100] [--api http://127.0.0.1:3000]
                            [--provider http://127.0.0.1:4010] [--timeout 1800]
For the issue's check (30% busy or no answer on first attempts), start
`FAKE_PROVIDER_OUTCOMES=completed=70,busy=15,no-answer=15 make run`.
"""
import argparse
import datetime
import http.client
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from campaign import API, batch, create_contacts  # noqa: E402  (the same HTTP client and helpers)


def post_json(api, path, document):
    """POST a JSON body (settings with booleans and lists read best as JSON)."""
    connection = http.client.HTTPConnection(api.url.hostname, api.url.port or 80, timeout=60)
    connection.request("POST", path, body=json.dumps(document),
                       headers={"Authorization": api.auth, "Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    if response.status not in (200, 201):
        raise SystemExit(f"POST {path} → {response.status}: {data[:500]!r}")
    return json.loads(data)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=100, help="the account's max_calls_per_second")
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--provider", default="http://127.0.0.1:4010")
    parser.add_argument("--token-file", default=".scfm/super-admin-token")
    parser.add_argument("--pause-after", type=float, default=0.3, help="pause once this share of participants was dialled")
    parser.add_argument("--timeout", type=float, default=1800)
    options = parser.parse_args()

    provider = urllib.parse.urlparse(options.provider)

    def fake(path, method="GET"):
        connection = http.client.HTTPConnection(provider.hostname, provider.port, timeout=30)
        connection.request(method, path)
        response = connection.getresponse()
        data = response.read()
        return json.loads(data) if data else None

    fake("/_fake/ledger", "DELETE")
    superadmin = API(options.api, open(options.token_file).read().strip())
    account = post_json(superadmin, "/api/accounts", {
        "metadata": {"name": "autopilot demo"},
        "settings": {
            "max_calls_per_second": options.rate,
            "autopilot": {
                "enabled": True,
                "retry": {"statuses": ["busy", "not_answered"], "delays": ["5s", "10s"], "max_attempts": 3},
                "remote_request_params": {"from": "1294"},
            },
        },
    })
    token, _ = superadmin.call("POST", "/api/access_tokens", {"account_sid": account["id"]})
    api = API(options.api, token["token"])
    print(f"account {account['id']}: {options.contacts} contacts at {options.rate:g} calls/s, autopilot on", flush=True)

    started = time.time()
    create_contacts(api, 85_513_000_000 + account["id"] * 1_000_000, options.contacts, {"metadata[demo]": str(account["id"])})
    callout, _ = api.call("POST", "/api/callouts", {
        "metadata[name]": "autopilot demo", "call_flow_logic": "CallFlowLogic::PlayMessage",
        "metadata[message]": "This is a test of the alert system. No action is needed."})
    callout = callout["id"]
    batch(api, callout, {"type": "BatchOperation::CalloutPopulation",
                         "parameters[contact_filter_params][metadata][demo]": str(account["id"])}, "population")
    sink = f"demo-{account['id']}"
    endpoint, _ = api.call("POST", "/api/webhook_endpoints", {
        "url": f"{options.provider}/_fake/webhooks/{sink}", "event_types[]": ["callout_participation.finished", "callout.finished"]})

    api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "start"})
    dial_started = time.time()
    print("  callout started; the autopilot does the rest", flush=True)

    def progress():
        figure, _ = api.call("GET", f"/api/callouts/{callout}/callout_progress")
        return figure

    deadline = time.time() + options.timeout
    problems = []
    paused = False
    while True:
        figure = progress()
        print(f"  progress: dialled {figure['dialled']}, answered {figure['answered']}, exhausted {figure['exhausted']}, "
              f"remaining {figure['remaining']}, {figure['calls_per_second']} calls/s, estimated finish {figure['estimated_finish_at']}",
              flush=True)
        if figure["finished_at"]:
            break
        if not paused and figure["dialled"] >= options.pause_after * options.contacts:
            paused = True
            moved, _ = api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "pause"})
            pause_at = parse_time(moved["updated_at"])
            time.sleep(3)
            ledger = fake("/_fake/ledger")
            last_create = parse_time(ledger["last_create_at"])
            late = last_create - pause_at
            still = progress()["dialled"]
            time.sleep(2)
            print(f"  paused: last create at the provider {late:+.3f} s from the recorded pause; "
                  f"dialled {still} then {progress()['dialled']} two seconds later", flush=True)
            if late > 1:
                problems.append(f"a call was created {late:.3f} s after the pause was recorded")
            if fake("/_fake/ledger")["creates"] != ledger["creates"]:
                problems.append("the provider received creates while the callout was paused")
            api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "resume"})
            print("  resumed", flush=True)
        if time.time() > deadline:
            raise SystemExit("the callout did not finish before the timeout")
        time.sleep(2)
    print(f"  finished by itself in {time.time() - dial_started:.1f} s after the start", flush=True)

    participations = f"/api/callouts/{callout}/callout_participations"
    calls = f"/api/callouts/{callout}/phone_calls"
    outcomes = {outcome: api.total(f"{participations}?q[outcome]={outcome}")
                for outcome in ("pending", "answered", "exhausted", "do_not_call", "expired")}
    total_calls = api.total(calls)
    retry_calls = api.total(f"{calls}?q[status]=busy,not_answered")
    last_retry = api.total(f"{participations}?q[last_phone_call_attempt]=busy,not_answered")
    exhausted_attempts = {}
    page = 1
    while True:
        records, _ = api.call("GET", f"{participations}?q[outcome]=exhausted&per_page=100&page={page}")
        for record in records:
            exhausted_attempts[record["attempts"]] = exhausted_attempts.get(record["attempts"], 0) + 1
        if len(records) < 100:
            break
        page += 1
    ledger = fake("/_fake/ledger")

    # Every call before a participant's last was busy or unanswered: non-last calls = all calls - participants.
    if outcomes["pending"]:
        problems.append(f"{outcomes['pending']} participations have no outcome")
    if retry_calls - last_retry != total_calls - options.contacts:
        problems.append(f"{total_calls - options.contacts} calls were retried but only {retry_calls - last_retry} of them were busy or unanswered")
    if set(exhausted_attempts) - {3}:
        problems.append(f"exhausted participations by calls made: {exhausted_attempts} (the policy allows 3)")
    if ledger["creates"] != total_calls:
        problems.append(f"the provider received {ledger['creates']} creates for {total_calls} calls")
    # The rate limit's own accuracy is the dispatch benchmark's subject: a sliding window at the provider also
    # sees the requests' network jitter (101 in one second at 100/s was seen here). Far above it is a failure.
    if ledger["max_creates_in_any_second"] > options.rate * 1.05:
        problems.append(f"{ledger['max_creates_in_any_second']} creates in one sliding second, far above {options.rate:g}")
    elif ledger["max_creates_in_any_second"] > options.rate:
        print(f"  note: {ledger['max_creates_in_any_second']} creates in the busiest sliding second at {options.rate:g}/s "
              "(the limiter spaces the dials; the provider also sees their jitter)", flush=True)

    webhook_deadline = time.time() + 120
    while True:
        received = fake(f"/_fake/webhooks/{sink}?secret={endpoint['secret']}")
        finished = [r for r in received if r["event"] == "callout_participation.finished"]
        if len(finished) >= options.contacts or time.time() > webhook_deadline:
            break
        time.sleep(2)
    if len({r["delivery_id"] for r in finished}) != options.contacts:
        problems.append(f"{len({r['delivery_id'] for r in finished})} participation results reached the webhook endpoint")
    if not all(r["signature_valid"] for r in received):
        problems.append("a webhook delivery's signature did not check out")

    print(json.dumps({"outcomes": outcomes, "phone_calls": total_calls, "retried_calls": total_calls - options.contacts,
                      "exhausted_by_calls": exhausted_attempts, "webhook_deliveries": len(received),
                      "ledger": {k: v for k, v in ledger.items() if k != "creates_per_second"}}, indent=2))
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"autopilot campaign complete: {options.contacts} participants, {total_calls} calls, paused and resumed, in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
