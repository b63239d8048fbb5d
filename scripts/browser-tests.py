#!/usr/bin/env python3
"""The operator console in a real browser (part of `make test`): Debian's Chromium, driven by Selenium through
chromium-driver, against the real API binary on a database of its own.

Checks what only a browser shows: the sign-in form works with the keyboard alone and answers a wrong password
in words; the overview shows the account's running callout; a form posted without the session's CSRF token is
refused and changes nothing; the page fits a phone's width; sign-out works; the audit trail lists the sign-in.

    scripts/browser-tests.py --api .build/debug/API --postgres-port 5434

Needs chromium and chromium-driver (scripts/ensure-deps.sh installs them) and selenium (the venv)."""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(condition, message):
    print(("  ok    " if condition else "  FAIL  ") + message, flush=True)
    if not condition:
        failures.append(message)


def wait_for_url(browser, suffix, seconds=10):
    """Whether the browser arrives at a URL ending with `suffix` within `seconds` (a click's navigation)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if browser.current_url.endswith(suffix):
            return True
        time.sleep(0.05)
    return False


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def psql(port, database, sql):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-qtAc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True, help="the API binary")
    parser.add_argument("--postgres-port", type=int, required=True, help="a running PostgreSQL cluster (user postgres)")
    options = parser.parse_args()

    database = f"scfm_browser_{os.getpid()}"
    psql(options.postgres_port, "postgres", f'CREATE DATABASE "{database}"')
    port = free_port()
    environment = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{options.postgres_port}/{database}",
                       SECRETS_KEY=base64.b64encode(os.urandom(32)).decode(), KAFKA_BROKERS="127.0.0.1:1",
                       KAFKA_PROPERTIES="log_level=0", OUTBOX_RELAY="false", PORT=str(port), METRICS_PORT=str(free_port()),
                       CONSOLE_BCRYPT_COST="4", API_RATE_LIMIT_PER_SECOND="0", LOG_LEVEL="warning", HOST="127.0.0.1")
    subprocess.run([options.api, "migrate"], check=True, env=environment, stdout=subprocess.DEVNULL)
    account = json.loads(subprocess.run([options.api, "accounts", "create", "--metadata", '{"name": "Browser agency"}'],
                                        check=True, env=environment, capture_output=True, text=True).stdout)["id"]
    psql(options.postgres_port, database,
         f"""INSERT INTO callouts (account_id, status, call_flow_logic, metadata)
             VALUES ({account}, 'running', 'CallFlowLogic::HelloWorld', '{{"name": "Flood warning, river district"}}')""")
    drill = psql(options.postgres_port, database,
                 f"""WITH callout AS (
                         INSERT INTO callouts (account_id, status, call_flow_logic, metadata)
                         VALUES ({account}, 'initialized', 'CallFlowLogic::HelloWorld', '{{"name": "Drill, coastal villages"}}')
                         RETURNING id
                     ), contacts AS (
                         INSERT INTO contacts (account_id, msisdn) SELECT {account}, '+8551290000' || n FROM generate_series(1, 2) n
                         RETURNING id, msisdn
                     ), participations AS (
                         INSERT INTO callout_participations (account_id, callout_id, contact_id, msisdn)
                         SELECT {account}, callout.id, contacts.id, contacts.msisdn FROM callout, contacts
                     )
                     SELECT id FROM callout""")
    with tempfile.TemporaryDirectory() as directory:
        password_file = os.path.join(directory, "password")
        subprocess.run([options.api, "users", "create", "--account-id", str(account), "--email", "operator@agency.example.org",
                        "--role", "operator", "--password-file", password_file], check=True, env=environment, stdout=subprocess.DEVNULL)
        password = open(password_file).read().strip()

    api = subprocess.Popen([options.api, "serve"], env=environment)
    base = f"http://127.0.0.1:{port}"
    browser = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        chrome = Options()
        chrome.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
            chrome.add_argument(argument)
        browser = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=chrome)
        browser.implicitly_wait(5)
        print(f"console browser tests: Chromium {browser.capabilities.get('browserVersion')} against {base}", flush=True)

        browser.get(f"{base}/console")
        check(browser.current_url.endswith("/console/sign_in"), "an anonymous visit is sent to the sign-in page")

        # The keyboard alone: the email field has the focus, Tab moves to the password, Enter submits.
        active = browser.switch_to.active_element
        check(active.get_attribute("id") == "email", "the email field has the focus")
        active.send_keys("operator@agency.example.org", Keys.TAB)
        browser.switch_to.active_element.send_keys("not the password", Keys.ENTER)
        error = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
        check("wrong" in error, f"a wrong password is answered in words ({error!r})")

        browser.find_element(By.ID, "email").clear()
        browser.find_element(By.ID, "email").send_keys("operator@agency.example.org")
        browser.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
        check(wait_for_url(browser, "/console"), "signed in: the overview")
        body = browser.find_element(By.TAG_NAME, "body").text
        check("Flood warning, river district" in body, "the account's running callout is on the overview")
        check(browser.find_element(By.ID, "running").text == "1", "one running callout counted")

        # A form without the session's CSRF token (as another site would post it): refused, still signed in.
        browser.execute_script("""
            const form = document.createElement('form');
            form.method = 'post'; form.action = '/console/sign_out';
            document.body.appendChild(form); form.submit();""")
        time.sleep(0.5)
        check("The form expired" in browser.find_element(By.TAG_NAME, "body").text, "a form without the CSRF token is refused")
        browser.get(f"{base}/console")
        check(browser.current_url.endswith("/console"), "and the session was not ended by it")

        # Starting a callout: a confirmation naming the people it calls, then the callout runs.
        browser.get(f"{base}/console/callouts/{drill}")
        browser.find_element(By.ID, "action-start").click()
        check("It calls 2 people" in browser.find_element(By.TAG_NAME, "body").text, "starting asks first, naming the 2 people")
        browser.find_element(By.ID, "confirm").click()
        check(wait_for_url(browser, f"/console/callouts/{drill}") and browser.find_element(By.ID, "status").text == "running",
              "confirmed: the callout runs")
        check(len(browser.find_elements(By.ID, "action-pause")) == 1, "and can be paused from its page")

        # A phone's width: nothing wider than the screen.
        browser.set_window_size(390, 844)
        browser.get(f"{base}/console")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"the overview fits a 390 px wide screen (overflow {overflow} px)")
        browser.set_window_size(1280, 900)

        browser.get(f"{base}/console/audit")
        audit = browser.find_element(By.TAG_NAME, "table").text
        check("signed_in" in audit and "sign_in_failed" in audit, "the audit trail lists the failed and the good sign-in")
        check("callout.started" in audit, "and the callout's start")

        browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
        check(wait_for_url(browser, "/console/sign_in"), "signing out returns to the sign-in page")
        browser.get(f"{base}/console")
        check(browser.current_url.endswith("/console/sign_in"), "and the overview needs a sign-in again")
    finally:
        if browser:
            browser.quit()
        api.terminate()
        api.wait(timeout=30)
        psql(options.postgres_port, "postgres", f'DROP DATABASE IF EXISTS "{database}"')
    if failures:
        print(f"console browser tests: {len(failures)} failed", file=sys.stderr)
        sys.exit(1)
    print("console browser tests passed", flush=True)


if __name__ == "__main__":
    main()
