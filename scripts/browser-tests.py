#!/usr/bin/env python3
"""The operator console in a real browser (part of `make test`): Debian's Chromium, driven by Selenium through
chromium-driver, against the real API binary on a database of its own.

Checks what only a browser shows: the sign-in form works with the keyboard alone and answers a wrong password
in words; the overview shows the account's running callout; a form posted without the session's CSRF token is
refused and changes nothing; the page fits a phone's width; sign-out works; the audit trail lists the sign-in.
Then the whole engine (local broker, fake provider, every worker role): a contacts CSV with a bad line is
imported and the line reported; a callout is composed with an uploaded recording and its live recipient count;
started, its monitor reaches 100 % without a reload; a second one is paused and stops dialling; a viewer can
start nothing.

    scripts/browser-tests.py --api .build/debug/API --postgres-port 5434 [--screenshots docs/console]

With --screenshots, each main page is saved at desktop (1280 px) and phone (390 px) width (`make screenshots`).

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
    parser.add_argument("--screenshots", help="save each main page at desktop and phone width into this folder")
    options = parser.parse_args()
    workers_binary = os.path.join(os.path.dirname(options.api), "Workers")
    state = tempfile.mkdtemp(prefix="scfm-browser-")
    children = []

    def spawn(arguments, env):
        child = subprocess.Popen(arguments, env=env)
        children.append(child)
        return child

    bootstrap = os.path.join(state, "bootstrap")
    spawn([workers_binary, "broker", "--bootstrap-file", bootstrap], dict(os.environ, LOG_LEVEL="warning"))
    for _ in range(100):
        if os.path.exists(bootstrap) and os.path.getsize(bootstrap) > 0:
            break
        time.sleep(0.1)
    provider_port = free_port()
    spawn([workers_binary, "fake-provider", "--port", str(provider_port)],
          dict(os.environ, LOG_LEVEL="warning", FAKE_PROVIDER_OUTCOMES="completed=100", FAKE_PROVIDER_QUEUE_SECONDS="0.1",
               FAKE_PROVIDER_RING_SECONDS="0.2", FAKE_PROVIDER_TALK_SECONDS="0.3"))

    database = f"scfm_browser_{os.getpid()}"
    psql(options.postgres_port, "postgres", f'CREATE DATABASE "{database}"')
    port = free_port()
    environment = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{options.postgres_port}/{database}",
                       SECRETS_KEY=base64.b64encode(os.urandom(32)).decode(), KAFKA_BROKERS=open(bootstrap).read().strip(),
                       KAFKA_CONSUMER_PROPERTIES="session.timeout.ms=4000;fetch.wait.max.ms=100", KAFKA_PROPERTIES="log_level=0", JOB_REDELIVERY_SECONDS="10",
                       PORT=str(port), METRICS_PORT=str(free_port()), PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                       PLATFORM_PROVIDER="twilio", TWILIO_ACCOUNT_SID="AC00000000000000000000000000local", TWILIO_AUTH_TOKEN="local",
                       TWILIO_REST_API_BASE_URL=f"http://127.0.0.1:{provider_port}", MAX_CALLS_PER_SECOND="2",
                       OUTBOUND_ALLOW_PRIVATE_ADDRESSES="true",
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
        viewer_file = os.path.join(directory, "viewer")
        subprocess.run([options.api, "users", "create", "--account-id", str(account), "--email", "viewer@agency.example.org",
                        "--role", "viewer", "--password-file", viewer_file], check=True, env=environment, stdout=subprocess.DEVNULL)
        viewer_password = open(viewer_file).read().strip()

    api = spawn([options.api, "serve"], environment)
    for role in ("status", "scheduler", "population", "remote-fetch", "queue"):
        spawn([workers_binary, "run", "--role", role], dict(environment, WORKER_HTTP_PORT=str(free_port())))
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

        def shot(name):
            """Saves the page at desktop and phone width (with --screenshots)."""
            if not options.screenshots:
                return
            os.makedirs(options.screenshots, exist_ok=True)
            for label, width in (("desktop", 1280), ("phone", 390)):
                browser.set_window_size(width, 900 if width > 400 else 844)
                time.sleep(0.3)
                height = browser.execute_script("return document.documentElement.scrollHeight")
                browser.set_window_size(width, min(max(height, 600), 4000))
                time.sleep(0.2)
                browser.save_screenshot(os.path.join(options.screenshots, f"{name}-{label}.png"))
            browser.set_window_size(1280, 900)

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
        check(len(browser.find_elements(By.CSS_SELECTOR, "form.stop button")) == 1, "and it can be stopped in one click from here")

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
        check(wait_until(lambda: "It calls 2 people" in browser.find_element(By.TAG_NAME, "body").text, 10),
              "starting asks first, naming the 2 people")
        browser.find_element(By.ID, "confirm").click()
        check(wait_until(lambda: browser.current_url.endswith(f"/console/callouts/{drill}")
                         and browser.find_element(By.ID, "status").text == "running", 10),
              "confirmed: the callout runs")
        check(len(browser.find_elements(By.ID, "action-pause")) == 1, "and can be paused from its page")

        # A phone's width: nothing wider than the screen.
        browser.set_window_size(390, 844)
        browser.get(f"{base}/console")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 0, f"the overview fits a 390 px wide screen (overflow {overflow} px)")
        browser.set_window_size(1280, 900)

        browser.get(f"{base}/console/audit")
        shot("audit")
        audit = browser.find_element(By.TAG_NAME, "table").text
        check("signed_in" in audit and "sign_in_failed" in audit, "the audit trail lists the failed and the good sign-in")
        check("callout.started" in audit, "and the callout's start")

        campaign(browser, base, state, shot)

        browser.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
        check(wait_for_url(browser, "/console/sign_in"), "signing out returns to the sign-in page")
        shot("sign-in")
        browser.get(f"{base}/console")
        check(browser.current_url.endswith("/console/sign_in"), "and the overview needs a sign-in again")

        # Khmer: the language link, then the same page in Khmer, fitting a phone.
        browser.get(f"{base}/console/sign_in")
        browser.find_element(By.CSS_SELECTOR, "a[lang=km]").click()
        browser.get(f"{base}/console/sign_in")
        check("ចូលទៅកុងសូលជូនដំណឹង" in browser.find_element(By.TAG_NAME, "h1").text, "the sign-in page in Khmer")
        shot("sign-in-km")
        browser.find_element(By.CSS_SELECTOR, "a[lang=en]").click()
        browser.get(f"{base}/console/sign_in")
        check("Sign in to the alert console" in browser.find_element(By.TAG_NAME, "h1").text, "and back in English")

        viewer(browser, base, viewer_password)
    finally:
        if browser:
            browser.quit()
        for child in reversed(children):
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        psql(options.postgres_port, "postgres", f'DROP DATABASE IF EXISTS "{database}"')
    if failures:
        print(f"console browser tests: {len(failures)} failed", file=sys.stderr)
        sys.exit(1)
    print("console browser tests passed", flush=True)


def wait_until(condition, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if condition():
                return True
        except Exception:  # the page is between two states
            pass
        time.sleep(0.2)
    return False


def text_of(browser, element_id):
    return browser.find_element(By.ID, element_id).text.strip()


def upload(browser, input_id, button_id, path):
    browser.find_element(By.ID, input_id).send_keys(path)
    browser.find_element(By.ID, button_id).click()


def wav(path, samples=8000):
    """A second of 8 kHz silence as a WAV file."""
    import struct
    with open(path, "wb") as file:
        file.write(b"RIFF" + struct.pack("<I", 36 + samples * 2) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16))
        file.write(b"data" + struct.pack("<I", samples * 2) + bytes(samples * 2))


def campaign(browser, base, state, shot):
    """Contacts from a CSV with a bad line; a callout composed with a recording; started, watched to 100 %; a
    second one paused."""
    csv = os.path.join(state, "people.csv")
    with open(csv, "w") as file:
        file.write("msisdn,province,language\n")
        for n in range(3):
            file.write(f"+85571000{n:03d},Kandal,km\n")
        file.write("not-a-number,Kandal,km\n")
        for n in range(30):
            file.write(f"+85572000{n:03d},Takeo,km\n")
    browser.get(f"{base}/console/contacts")
    upload(browser, "csv-file", "upload-csv", csv)
    check(wait_until(lambda: "/console/imports/" in browser.current_url, 30), "the CSV upload leads to its result")
    check(wait_until(lambda: text_of(browser, "rejected") == "1", 10), "one line refused")
    errors = browser.find_element(By.ID, "errors").text
    check("5" in errors and "not-a-number is an invalid number" in errors, f"the bad line is reported with its number ({errors!r})")
    check(text_of(browser, "created") == "33", "the other 33 contacts created")
    shot("import")
    browser.get(f"{base}/console/contacts?key=province&value=Kandal")
    check(text_of(browser, "total") == "3", "a search by a field finds the three of Kandal")
    shot("contacts")

    recording = os.path.join(state, "warning.wav")
    wav(recording)
    browser.get(f"{base}/console/callouts/new")
    upload(browser, "recording-file", "upload-recording", recording)
    check(wait_until(lambda: browser.find_element(By.ID, "recording-player").get_attribute("src").endswith(".wav"), 15),
          "the uploaded recording plays in the page")
    check(browser.find_element(By.ID, "kind-audio").is_selected(), "and is chosen as the message")
    browser.find_element(By.ID, "name").send_keys("Flood warning, Kandal")
    browser.find_element(By.NAME, "key").send_keys("province")
    browser.find_element(By.NAME, "value").send_keys("Kandal")
    check(wait_until(lambda: text_of(browser, "recipient-count") == "3", 10), "the recipient count follows the filter: 3")
    browser.find_element(By.NAME, "value").send_keys(Keys.BACKSPACE)
    check(wait_until(lambda: text_of(browser, "recipient-count") == "0", 10), "and changes as it is typed: 0 for 'Kanda'")
    browser.find_element(By.NAME, "value").send_keys("l")
    check(wait_until(lambda: text_of(browser, "recipient-count") == "3", 10), "3 again")
    browser.find_element(By.ID, "from").clear()
    browser.find_element(By.ID, "from").send_keys("1294")
    shot("compose")
    browser.find_element(By.ID, "create").click()
    check(wait_until(lambda: "/console/callouts/" in browser.current_url and not browser.current_url.endswith("/new"), 10),
          "composed: the callout's page")
    check(wait_until(lambda: text_of(browser, "participations") == "3", 30), "its audience of 3 is added (pushed live)")
    browser.find_element(By.ID, "action-start").click()
    check(wait_until(lambda: "It calls 3 people" in browser.find_element(By.TAG_NAME, "body").text, 10),
          "starting names the 3 people")
    browser.find_element(By.ID, "confirm").click()
    check(wait_until(lambda: text_of(browser, "status") == "running", 10), "running")
    browser.execute_script("window.notReloaded = true")
    check(wait_until(lambda: text_of(browser, "percent") == "100", 90), "the monitor reaches 100 % without a reload")
    check(browser.execute_script("return window.notReloaded === true"), "(the page was not reloaded)")
    check(text_of(browser, "count-answered") == "3", "all 3 answered")
    shot("monitor")

    browser.get(f"{base}/console/callouts/new")
    browser.find_element(By.ID, "name").send_keys("Drought advice, Takeo")
    browser.find_element(By.ID, "message").send_keys("Water distribution at the pagoda tomorrow at eight.")
    browser.find_element(By.NAME, "key").send_keys("province")
    browser.find_element(By.NAME, "value").send_keys("Takeo")
    check(wait_until(lambda: text_of(browser, "recipient-count") == "30", 10), "30 recipients in Takeo")
    browser.find_element(By.ID, "from").clear()
    browser.find_element(By.ID, "from").send_keys("1294")
    browser.find_element(By.ID, "create").click()
    check(wait_until(lambda: text_of(browser, "participations") == "30", 30), "its 30 participations")
    browser.find_element(By.ID, "action-start").click()
    wait_until(lambda: browser.find_element(By.ID, "confirm").is_displayed(), 10)
    browser.find_element(By.ID, "confirm").click()
    check(wait_until(lambda: int(text_of(browser, "dialled")) >= 2, 30), "it dials (at the account's 2 a second)")
    browser.find_element(By.ID, "action-pause").click()
    wait_until(lambda: browser.find_element(By.ID, "confirm").is_displayed(), 10)
    browser.find_element(By.ID, "confirm").click()
    check(wait_until(lambda: text_of(browser, "status") == "paused", 10), "paused")
    check(wait_until(lambda: "Paused" in text_of(browser, "reason"), 10), "the monitor says why it does not dial")
    time.sleep(2)
    before = int(text_of(browser, "dialled"))
    time.sleep(4)
    after = int(text_of(browser, "dialled"))
    check(after == before and after < 30, f"and dialling stopped ({before} calls made, then {after} four seconds later)")
    browser.get(f"{base}/console")
    shot("overview")
    browser.get(f"{base}/console/callouts")
    shot("callouts")


def viewer(browser, base, password):
    """A viewer sees a callout but can start, pause or stop nothing, even with a hand-made form."""
    browser.get(f"{base}/console/sign_in")
    browser.find_element(By.ID, "email").send_keys("viewer@agency.example.org")
    browser.find_element(By.ID, "password").send_keys(password, Keys.ENTER)
    check(wait_for_url(browser, "/console"), "the viewer is signed in")
    browser.get(f"{base}/console/callouts")
    check(len(browser.find_elements(By.CSS_SELECTOR, "form.stop")) == 0 and len(browser.find_elements(By.ID, "compose")) == 0,
          "the viewer's list offers no stop and no compose")
    link = browser.find_elements(By.CSS_SELECTOR, "table.list a")
    check(len(link) >= 1, "the viewer sees the callouts")
    link[-1].click()
    check(len(browser.find_elements(By.CSS_SELECTOR, "form.action")) == 0, "a callout's page offers the viewer no action")
    callout = browser.current_url.rsplit("/", 1)[-1]
    csrf = browser.find_element(By.CSS_SELECTOR, "form.sign-out input[name=csrf_token]").get_attribute("value")
    browser.execute_script(f"""
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/console/callouts/{callout}/events';
        for (const [name, value] of [['csrf_token', '{csrf}'], ['event', 'start'], ['confirmed', 'yes']]) {{
            const input = document.createElement('input'); input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
        }}
        document.body.appendChild(form); form.submit();""")
    time.sleep(0.5)
    check("Your role cannot do that" in browser.find_element(By.TAG_NAME, "body").text, "a viewer's hand-made start is refused")


if __name__ == "__main__":
    main()
