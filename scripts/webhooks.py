#!/usr/bin/env python3
"""Provider callbacks against a running `make run`, as the issue's "done when" states them.

1. A call is dialled for real (queued through the API, dialled by the queue worker through the fake provider,
   with callback URLs bound to it by a token); a status callback about it, signed with the account's auth
   token, is stored as a remote phone call event and answered with TwiML (201, application/xml), and the call
   reaches a final status.
2. A forged one (wrong token) gets 403 and stores nothing; a genuinely signed one that names the call in its
   URL without the call's token, for a CallSid that is not the call's, gets 404 and stores nothing (the attack
   of issue #20: the provider signs every tenant's requests with one token).
3. An inbound call, simulated by the fake provider (`POST /_fake/inbound_calls`), creates the caller's contact
   and an inbound phone call, and is answered by the account's call flow.
Prints each step; exits non-zero at the first unexpected answer.

Usage: scripts/webhooks.py [--api http://127.0.0.1:3000] [--provider http://127.0.0.1:4010]
                           [--public-base-url URL (default: --api; what the API's PUBLIC_BASE_URL is)]
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import sys
import time
import urllib.parse


def signature(url, params, token):
    """Twilio's X-Twilio-Signature: HMAC-SHA1 of the URL and the sorted parameters, base64."""
    payload = url + "".join(name + value for name, value in sorted(params.items()))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def request(base, method, path, form=None, headers=None, auth=None):
    url = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read().decode()
    return response.status, response.headers, data


def expect(step, status, expected, data):
    print(f"{step} → {status}")
    if data:
        print("  " + data[:400])
    if status != expected:
        raise SystemExit(f"FAILED: expected {expected}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default="http://127.0.0.1:3000")
    parser.add_argument("--provider", default="http://127.0.0.1:4010")
    parser.add_argument("--public-base-url")
    parser.add_argument("--token-file", default=".scfm/super-admin-token")
    options = parser.parse_args()
    public = (options.public_base_url or options.api).rstrip("/")
    superadmin = open(options.token_file).read().strip() + ":"

    def api(method, path, form=None, token=None, expected=(200, 201, 204)):
        status, headers, data = request(options.api, method, path, form, auth=token)
        if status not in expected:
            raise SystemExit(f"{method} {path} → {status}: {data[:400]}")
        return (json.loads(data) if data else None), headers

    stamp = str(int(time.time() * 1000))
    sid, auth_token = f"AC{stamp}", f"token-{stamp}"
    account, _ = api("POST", "/api/accounts", {"metadata[name]": "webhooks", "twilio_account_sid": sid, "twilio_auth_token": auth_token}, superadmin)
    token, _ = api("POST", "/api/access_tokens", {"account_sid": account["id"]}, superadmin)
    token = token["token"] + ":"
    contact, _ = api("POST", "/api/contacts", {"msisdn": f"+8551{stamp[-8:]}"}, token)
    callout, _ = api("POST", "/api/callouts", {"call_flow_logic": "CallFlowLogic::PlayMessage", "metadata[message]": "Flood warning. Move to high ground."}, token)
    participation, _ = api("POST", f"/api/callouts/{callout['id']}/callout_participations", {"contact_id": contact["id"]}, token)
    call, _ = api("POST", f"/api/callout_participations/{participation['id']}/phone_calls", {"remote_request_params[from]": "1294"}, token)
    print(f"account {account['id']} (twilio_account_sid {sid}), phone call {call['id']}")

    api("POST", f"/api/phone_calls/{call['id']}/phone_call_events", {"event": "queue"}, token)
    for _ in range(100):
        current, _ = api("GET", f"/api/phone_calls/{call['id']}", token=token)
        if current["remote_call_id"]:
            break
        time.sleep(0.2)
    if not current["remote_call_id"]:
        raise SystemExit("FAILED: the call was not dialled (are the queue and status workers running?)")
    print(f"   dialled as {current['remote_call_id']}")

    path = "/api/remote_phone_call_events"
    params = {"AccountSid": sid, "ApiVersion": "2010-04-01", "CallSid": current["remote_call_id"], "CallStatus": "completed",
              "Direction": "outbound-api", "From": "1294", "To": contact["msisdn"]}
    events = f"/api/phone_calls/{call['id']}/remote_phone_call_events"

    status, headers, data = request(options.api, "POST", path, params, {"X-Twilio-Signature": signature(public + path, params, auth_token)})
    expect("1. signed callback", status, 201, data)
    if headers.get("Content-Type") != "application/xml" or "<Say>Flood warning" not in data:
        raise SystemExit("FAILED: expected the PlayMessage TwiML")
    final = ("completed", "busy", "not_answered", "failed", "canceled")
    for _ in range(100):
        current, _ = api("GET", f"/api/phone_calls/{call['id']}", token=token)
        if current["status"] in final:
            break
        time.sleep(0.2)
    stored, _ = api("GET", events, token=token)
    ours = [event for event in stored if event["details"].get("CallStatus") == "completed" and event["details"].get("ApiVersion") == "2010-04-01"]
    print(f"   stored: {len(stored)} events (the provider's own and ours), call_flow_logic={stored[0]['call_flow_logic']}")
    print(f"   phone call {call['id']}: status {current['status']}, remote_call_id {current['remote_call_id']}")
    if not ours or current["status"] not in final:
        raise SystemExit("FAILED: the callback was not stored or the call did not become final (is the status worker running?)")

    forged = dict(params, CallStatus="busy")
    status, _, data = request(options.api, "POST", path, forged, {"X-Twilio-Signature": signature(public + path, forged, "not-the-token")})
    expect("2. forged callback", status, 403, data)
    after, _ = api("GET", events, token=token)
    print(f"   stored: still {len(after)} events")
    if len(after) != len(stored):
        raise SystemExit("FAILED: the forged callback was stored")

    aimed = f"/api/remote_phone_call_events?phone_call_id={call['id']}"
    child = dict(params, CallSid=f"CA-child-{stamp}")
    status, _, data = request(options.api, "POST", aimed, child, {"X-Twilio-Signature": signature(public + aimed, child, auth_token)})
    expect("2b. genuinely signed, naming the call without its token, another CallSid", status, 404, data)
    after, _ = api("GET", events, token=token)
    if len(after) != len(stored):
        raise SystemExit("FAILED: a callback not bound to the call was stored")

    caller = f"+8559{stamp[-8:]}"
    status, _, data = request(options.provider, "POST", "/_fake/inbound_calls",
                              {"From": caller, "To": "1294", "Url": public + "/api/remote_phone_call_events"}, auth=f"{sid}:{auth_token}")
    expect("3. inbound call through the fake provider", status, 201, data)
    answer = json.loads(data)["call_flow_response"]
    if not answer or answer["status"] != 201:
        raise SystemExit(f"FAILED: the API answered the inbound call with {answer}")
    contacts, _ = api("GET", f"/api/contacts?q[msisdn]={urllib.parse.quote(caller)}", token=token)
    inbound, _ = api("GET", "/api/phone_calls?q[remote_direction]=inbound", token=token)
    print(f"   contact {contacts[0]['id']} ({contacts[0]['msisdn']}); inbound phone call {inbound[0]['id']} ({inbound[0]['status']})")
    print("webhooks: all three behave")
    return 0


if __name__ == "__main__":
    sys.exit(main())
