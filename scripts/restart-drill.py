#!/usr/bin/env python3
"""`make restart-drill`: Ctrl-C in the middle of a campaign on `make run`, start again, nothing lost, nothing twice.

Starts `make run` (scripts/run.sh, release build) itself, queues a campaign of --calls calls at --rate calls/s
through the REST API (contacts seeded in the database, CalloutPopulation, PhoneCallCreate, PhoneCallQueue),
stops the whole system with SIGINT (as Ctrl-C does) --stop-after seconds into dialling, notes which calls were
dialled and with which provider call, and starts `make run` again. The local broker comes back empty (every
queued job it held is gone) and the fake provider forgets its calls; PostgreSQL keeps everything. Then it waits
until no call is queued and checks:

  - every call queued at the stop is dialled after the start, within JOB_REDELIVERY_SECONDS and a few passes;
  - no call dialled before the stop is dialled again (its provider call id is unchanged, and the provider,
    fresh after the start, received exactly one create per call that was still queued);
  - no number twice among the creates after the start.

Prints what it saw and exits non-zero on failure. Uses make run's ports (3000, 4010, 5433): stop any running
`make run` first.

Usage: scripts/restart-drill.py [--calls 1500] [--rate 20] [--stop-after 15]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from campaign import API  # noqa: E402
from million import get  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=20, help="the account's max_calls_per_second")
    parser.add_argument("--stop-after", type=float, default=15, help="seconds of dialling before the Ctrl-C")
    parser.add_argument("--timeout", type=float, default=600)
    options = parser.parse_args()
    api_url, provider_url = "http://127.0.0.1:3000", "http://127.0.0.1:4010"
    output = open(os.path.join(ROOT, ".scfm", "restart-drill.log"), "a")

    def start():
        process = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh")], cwd=ROOT, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if json.loads(get(api_url + "/health", timeout=2)).get("status") == "ok":
                    return process
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise SystemExit("make run did not become healthy (see .scfm/restart-drill.log)")

    def stop(process):
        # What Ctrl-C sends to run.sh. The queue role drains the jobs it holds, each at its dial slot, so at a
        # low rate a stop takes a while (about two minutes at 20 calls/s with a thousand jobs in hand).
        started = time.time()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=600)
        return time.time() - started

    def psql(sql):
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", os.environ.get("SCFM_POSTGRES_PORT", "5433"), "-U", "postgres", "-d", "scfm",
             "-v", "ON_ERROR_STOP=1", "-qtAc", sql], check=True, capture_output=True, text=True).stdout.strip()

    process = start()
    try:
        superadmin = API(api_url, open(os.path.join(ROOT, ".scfm", "super-admin-token")).read().strip())
        account, _ = superadmin.call("POST", "/api/accounts", {
            "metadata[name]": "restart drill", "settings[max_calls_per_second]": str(options.rate)})
        token, _ = superadmin.call("POST", "/api/access_tokens", {"account_sid": account["id"]})
        api = API(api_url, token["token"])
        first = 85_514_000_000 + account["id"] * 10_000_000
        psql(f"""INSERT INTO contacts (account_id, msisdn, metadata)
                 SELECT {account['id']}, '+' || ({first} + n)::text, '{{"drill": "yes"}}'
                 FROM generate_series(1, {options.calls}) AS n""")
        callout, _ = api.call("POST", "/api/callouts", {"metadata[name]": "restart drill",
                                                          "call_flow_logic": "CallFlowLogic::PlayMessage"})
        callout = callout["id"]
        for form in ({"type": "BatchOperation::CalloutPopulation", "parameters[contact_filter_params][metadata][drill]": "yes"},
                     {"type": "BatchOperation::PhoneCallCreate", "parameters[remote_request_params][from]": "1294",
                      "parameters[callout_participation_filter_params][no_phone_calls]": "true"},
                     {"type": "BatchOperation::PhoneCallQueue", "parameters[phone_call_filter_params][status]": "created"}):
            if form["type"].endswith("PhoneCallCreate"):
                api.call("POST", f"/api/callouts/{callout}/callout_events", {"event": "start"})
            operation, _ = api.call("POST", f"/api/callouts/{callout}/batch_operations", form)
            api.call("POST", f"/api/batch_operations/{operation['id']}/batch_operation_events", {"event": "queue"})
            while psql(f"SELECT status FROM batch_operations WHERE id = {operation['id']}") != "finished":
                time.sleep(0.5)
        log(f"callout {callout}: {options.calls} calls queued at {options.rate:g}/s; Ctrl-C in {options.stop_after:g} s")
        time.sleep(options.stop_after)
    finally:
        stop_seconds = stop(process)
    # make run stopped its PostgreSQL too: read the stopped system's state with PostgreSQL alone.
    database = [os.path.join(ROOT, "scripts", "postgres.sh"), "start", os.path.join(ROOT, ".scfm", "postgres"),
                os.environ.get("SCFM_POSTGRES_PORT", "5433")]
    subprocess.run(database, check=True, stdout=output, stderr=subprocess.STDOUT)
    dialled_before = dict(line.split("|") for line in psql(
        f"SELECT id, remote_call_id FROM phone_calls WHERE callout_id = {callout} AND dial_claimed_at IS NOT NULL"
        " AND remote_call_id IS NOT NULL").splitlines() if line)
    queued_at_stop = int(psql(f"SELECT count(*) FROM phone_calls WHERE callout_id = {callout} AND status = 'queued'"))
    # Dialled, but the dial's outcome event was still in the broker when it stopped: after the start a queue
    # worker resolves these by looking the number up at the provider. A real provider knows the call; the fake
    # one forgets everything when it stops, so such a call would be dialled again here, and is counted apart.
    unknown_at_stop = int(psql(f"SELECT count(*) FROM phone_calls WHERE callout_id = {callout} AND status = 'queued'"
                               " AND dial_claimed_at IS NOT NULL"))
    subprocess.run([database[0], "stop", database[2]], check=True, stdout=output, stderr=subprocess.STDOUT)
    log(f"stopped: {len(dialled_before)} calls dialled, {queued_at_stop} still queued; starting again")

    process = start()
    restarted = time.time()
    try:
        first_dial = None
        deadline = time.time() + options.timeout
        while True:
            waiting = int(psql(f"SELECT count(*) FROM phone_calls WHERE callout_id = {callout} AND status = 'queued'"))
            if first_dial is None and waiting < queued_at_stop:
                first_dial = time.time() - restarted
                log(f"first call dialled {first_dial:.1f} s after the start")
            if waiting == 0:
                break
            if time.time() > deadline:
                raise SystemExit(f"{waiting} calls still queued {options.timeout:g} s after the start")
            time.sleep(1)
        all_dialled = time.time() - restarted
        ledger = json.loads(get(provider_url + "/_fake/ledger", timeout=60))
        after = dict(line.split("|") for line in psql(
            f"SELECT id, coalesce(remote_call_id, '') FROM phone_calls WHERE callout_id = {callout}").splitlines() if line)
    finally:
        stop(process)
    problems = []
    changed = [call for call, sid in dialled_before.items() if after.get(call) != sid]
    if changed:
        problems.append(f"{len(changed)} calls dialled before the stop have another provider call now, e.g. {changed[:3]}")
    if unknown_at_stop:
        problems.append(f"{unknown_at_stop} calls were dialled but their outcome had not reached PostgreSQL at the stop")
    if ledger["creates"] != queued_at_stop:
        problems.append(f"the provider received {ledger['creates']} creates after the start for {queued_at_stop} calls queued at the stop")
    if ledger["repeated_to_count"]:
        problems.append(f"{ledger['repeated_to_count']} numbers dialled twice after the start")
    if any(not sid for sid in after.values()):
        problems.append("calls without a provider call")
    report = {"calls": options.calls, "rate": options.rate, "dialled_before_stop": len(dialled_before),
              "stop_seconds": round(stop_seconds, 1), "queued_at_stop": queued_at_stop,
              "outcome_unknown_at_stop": unknown_at_stop, "first_dial_after_start_seconds": round(first_dial or 0, 1),
              "all_dialled_after_start_seconds": round(all_dialled, 1), "creates_after_start": ledger["creates"],
              "problems": problems}
    print(json.dumps(report, indent=2))
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"restart drill passed: {queued_at_stop} calls queued at the Ctrl-C dialled once after the start, "
          f"none of the {len(dialled_before)} dialled before dialled again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
