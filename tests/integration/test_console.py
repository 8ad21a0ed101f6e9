"""The console in a real browser: Debian's chromium driven by chromium-driver through
python3-selenium (headless), against the real daemon on TCP (console.conf: contacts with
passwords and access levels).

Every wait is for a condition (WebDriverWait), never a sleep. Screenshots of each page (zh and
en, 1280 px and a phone's 375 px) go to $SLAD_SHOTS_DIR (meson sets build/console-shots),
else to the test's temporary directory: look at them after a change to the pages.

Skipped only when chromium or its driver is not installed (scripts/install-deps.sh installs
them, so CI runs these tests).
"""

import hashlib
import json
import os
import re
import shutil
import time

import pytest

from conftest import Daemon, free_tcp_port, wait_for, write_private

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

NO_BROWSER = ("the browser tests need Debian's chromium, chromium-driver and python3-selenium "
              "(scripts/install-deps.sh installs them)")

OPERATOR = ("sup", "operator-pw")
VIEWER = ("watcher", "viewer-pw")
ADMIN = ("boss", "admin-pw")
WAIT_S = 10.0   # a page, a click's answer: generous on a loaded machine, returns at once
LIVE_S = 2.0    # the bound: a change shows on an open board within 2 s
PHONE = (375, 812)
DESKTOP = (1280, 900)
CODE_RE = re.compile(r"/a/([A-Za-z0-9]{10})\b")


def shots_dir(tmp_path_factory):
    d = os.environ.get("SLAD_SHOTS_DIR") or str(tmp_path_factory.mktemp("shots"))
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """One daemon with a TCP listener and public_url for the module's tests."""
    d = tmp_path_factory.mktemp("console")
    port = free_tcp_port()
    write_private(os.path.join(str(d), "token"), "api-token-for-tests\n")
    extra = (f'tcp = "127.0.0.1:{port}"; token_file = "{d}/token"; '
             f'public_url = "http://127.0.0.1:{port}";')
    daemon = Daemon(d, template="console.conf", daemon_extra=extra)
    daemon.start()
    daemon.base = f"http://127.0.0.1:{port}"
    daemon.port = port
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER and HAVE_SELENIUM):
        pytest.skip(NO_BROWSER)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-US"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.shots = shots_dir(tmp_path_factory)
    yield drv
    drv.quit()


def script_errors(drv):
    """The page's JavaScript errors since the last call (answers with an error status are
    the API's business, not the page's)."""
    return [e["message"] for e in drv.get_log("browser")
            if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]


@pytest.fixture
def b(browser, console):  # browser first: without chromium, no daemon is started either
    """The browser, signed out, language from the browser (English), desktop width; no
    JavaScript error on any page by the end of the test."""
    browser.set_window_size(*DESKTOP)
    browser.get(console.base + "/ui/")
    browser.delete_all_cookies()
    browser.execute_script("localStorage.clear()")
    script_errors(browser)
    yield browser
    assert script_errors(browser) == []


def wait(drv, cond, timeout=WAIT_S, what="a condition"):
    """Poll cond until true. The pages re-render parts of themselves (a refresh after an
    event, a change on the stream): an element found just before is then stale, and the
    condition is simply asked again."""
    return WebDriverWait(drv, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        cond, message=f"timed out waiting for {what}")


def find(drv, css):
    return drv.find_element(By.CSS_SELECTOR, css)


def find_all(drv, css):
    return drv.find_elements(By.CSS_SELECTOR, css)


def act_on(drv, css, action, what):
    """action(element) on the element css names, found again if the page re-rendered it
    meanwhile (the ticket page refreshes itself after an event and on the stream)."""
    def attempt(d):
        action(find(d, css))
        return True
    WebDriverWait(drv, WAIT_S, ignored_exceptions=(StaleElementReferenceException,
                                                   ElementNotInteractableException)).until(
        attempt, message=f"timed out trying to {what}")


def text_of(drv, css):
    """The text of the element css names, read at once in the page (a live part of it may
    be re-rendered between finding an element and reading it)."""
    return drv.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", css)


def attr_of(drv, css, name):
    return drv.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null", css, name)


def events_shown(drv):
    """The data-event of every button, read at once (the page may re-render meanwhile)."""
    return set(drv.execute_script(
        "return [...document.querySelectorAll('button[data-event]')].map(e => e.dataset.event)"))


def ready(drv, page):
    wait(drv, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == page,
         what=f"the {page} page to render")


def open_page(drv, console, path, page):
    drv.get(console.base + path)
    ready(drv, page)


def sign_in(drv, console, who, path="/ui/"):
    drv.get(console.base + path)
    user = wait(drv, EC.visibility_of_element_located((By.NAME, "user")), what="the sign-in form")
    user.send_keys(who[0])
    find(drv, "input[name=password]").send_keys(who[1])
    find(drv, "form.signin button[type=submit]").click()
    wait(drv, EC.presence_of_element_located((By.ID, "who")), what="the signed-in name")


def unlabelled(drv):
    """The form controls of the page that no label names (a screen reader would read
    nothing for them), and the buttons without text."""
    return drv.execute_script("""
        const bad = [];
        for (const e of document.querySelectorAll('input, select, textarea')) {
            if (e.type === 'hidden') continue;
            if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')) bad.push(e.outerHTML);
        }
        for (const e of document.querySelectorAll('button'))
            if (!e.textContent.trim() && !e.getAttribute('aria-label')) bad.push(e.outerHTML);
        return bad;
    """)


def shot(drv, name, width=None):
    """A screenshot of the whole page (the window grown to the page's height); with width,
    the page loaded again at that width first (a phone's layout is chosen at load)."""
    w = width or drv.get_window_size()["width"]
    if width:
        page = drv.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        drv.set_window_size(width, PHONE[1])
        drv.refresh()
        ready(drv, page)
    height = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(w, min(max(height + 120, 600), 4000))
    drv.save_screenshot(os.path.join(drv.shots, name + ".png"))
    drv.set_window_size(*DESKTOP)


def create(console, **fields):
    return console.create(**fields)


def status_of(console, tid):
    return console.ticket(tid)["status"]


def last_event(console, tid, event):
    entries = [e for e in console.ticket(tid)["history"] if e["kind"] == "event" and e["event"] == event]
    assert entries, f"no {event} event in ticket {tid}'s history"
    return entries[-1]


# --- sign-in --------------------------------------------------------------------------------

def test_sign_in_wrong_password_then_right_then_out(b, console):
    b.get(console.base + "/ui/")
    wait(b, EC.visibility_of_element_located((By.NAME, "user")), what="the sign-in form")
    shot(b, "signin-en")
    find(b, "input[name=user]").send_keys("sup")
    find(b, "input[name=password]").send_keys("not-the-password")
    find(b, "form.signin button[type=submit]").click()
    err = wait(b, EC.visibility_of_element_located((By.CSS_SELECTOR, "form.signin [role=alert]")),
               what="the refusal")
    assert "Wrong name or password" in err.text
    assert not find_all(b, "#who")

    find(b, "input[name=password]").clear()
    find(b, "input[name=password]").send_keys(OPERATOR[1])
    find(b, "form.signin button[type=submit]").click()
    who = wait(b, EC.presence_of_element_located((By.ID, "who")), what="the signed-in name")
    assert "sup" in who.text and "operator" in who.text
    assert who.get_attribute("data-access") == "operator"
    cookie = b.get_cookie("slad_session")
    assert cookie and cookie["httpOnly"], cookie
    assert b.execute_script("return document.cookie").find("slad_session") < 0  # HttpOnly

    find(b, "#sign-out").click()
    wait(b, EC.visibility_of_element_located((By.NAME, "user")), what="the sign-in form again")
    assert b.get_cookie("slad_session") is None or not b.get_cookie("slad_session")["value"]


# --- board ----------------------------------------------------------------------------------

def test_board_shows_a_new_ticket_within_2_s_and_counts_down(b, console):
    sign_in(b, console, OPERATOR)
    ready(b, "board")
    t0 = time.monotonic()
    tk = create(console, title="冷库压缩机不启动", severity=1, team="north",
                customer={"name": "王先生", "phone": "+8613800000000"})
    wait(b, EC.presence_of_element_located(
        (By.CSS_SELECTOR, f'[data-ticket-id="{tk["id"]}"]')), timeout=LIVE_S,
        what="the new ticket on the open board (stream)")
    assert time.monotonic() - t0 < LIVE_S + 0.5
    assert "冷库压缩机不启动" in text_of(b, f'[data-ticket-id="{tk["id"]}"]')
    running = {c["name"]: c["due_at"] for c in tk["clocks"] if c["state"] == "running"}
    dues = b.execute_script("""
        const out = {};
        for (const e of document.querySelectorAll(arguments[0] + ' [data-due]')) out[e.dataset.clock] = e.dataset.due;
        return out;""", f'[data-ticket-id="{tk["id"]}"]')
    assert dues == running

    # The 3 s response clock counts down, turns at risk (< 25 % left), then breached: by
    # colour (a class) and by text.
    sel = f'[data-ticket-id="{tk["id"]}"] [data-clock="response"]'
    first = int(attr_of(b, sel, "data-left"))
    wait(b, lambda d: int(find(d, sel).get_attribute("data-left")) < first, what="the countdown to decrease")
    wait(b, lambda d: "at-risk" in find(d, sel).get_attribute("class") or
         "breached" in find(d, sel).get_attribute("class"), what="the clock at risk")
    wait(b, lambda d: "breached" in find(d, sel).get_attribute("class"), what="the clock breached")
    assert "Breached" in text_of(b, sel)
    wait(b, lambda d: int(find(d, '[data-count="breached"]').text or 0) >= 1, what="the breached count")
    assert unlabelled(b) == []
    shot(b, "board-en")
    shot(b, "board-en-phone", PHONE[0])


def test_board_filters_and_search(b, console):
    a = create(console, title="电梯困人 filter-a", severity=2, team="north", region="city",
               customer={"name": "李女士", "phone": "+8613911112222"})
    z = create(console, title="空调不制冷 filter-z", severity=3, team="south", region="county")
    done = create(console, title="已修好 filter-done", severity=3, team="south", region="county")
    assert console.event(done["id"], "resolve").status == 200
    sign_in(b, console, OPERATOR, "/ui/?q=13911112222")
    ready(b, "board")
    ids = {e.get_attribute("data-ticket-id") for e in find_all(b, "[data-ticket-id]")}
    assert ids == {str(a["id"])}
    open_page(b, console, "/ui/?region=county", "board")
    ids = {e.get_attribute("data-ticket-id") for e in find_all(b, "[data-ticket-id]")}
    assert str(z["id"]) in ids and str(a["id"]) not in ids
    assert str(done["id"]) not in ids, "a resolved ticket is not on the board"
    # the form fills from the address and submits to it
    assert find(b, "#f-region").get_attribute("value") == "county"


# --- ticket page ----------------------------------------------------------------------------

def test_acknowledge_from_the_ticket_page_changes_status_and_board(b, console):
    tk = create(console, title="acknowledge me", severity=2, team="north")
    sign_in(b, console, OPERATOR, f"/ui/tickets/{tk['id']}")
    ready(b, "ticket")
    events = events_shown(b)
    assert events == {"acknowledge", "dispatch", "arrive", "hold", "resolve", "cancel", "comment"}
    assert find_all(b, "progress"), "the clocks' progress bars"
    assert unlabelled(b) == []
    shot(b, "ticket-en")
    act_on(b, 'button[data-event="acknowledge"]', lambda e: e.click(), "click acknowledge")
    wait(b, lambda d: find(d, "h1[data-status]").get_attribute("data-status") == "acknowledged",
         what="the page to show acknowledged")
    assert status_of(console, tk["id"]) == "acknowledged"
    assert last_event(console, tk["id"], "acknowledge")["by"] == "sup"
    # exactly the events acknowledged allows
    events = events_shown(b)
    assert events == {"dispatch", "arrive", "hold", "resolve", "cancel", "comment"}

    open_page(b, console, "/ui/", "board")
    assert attr_of(b, f'[data-ticket-id="{tk["id"]}"]', "data-status") == "acknowledged"


def test_hold_asks_a_reason(b, console):
    tk = create(console, title="hold me", severity=2, team="north")
    sign_in(b, console, OPERATOR, f"/ui/tickets/{tk['id']}")
    ready(b, "ticket")
    # By keyboard: Enter on the button opens the dialog with the focus in it, Escape closes
    # it and nothing is sent.
    act_on(b, 'button[data-event="hold"]', lambda e: e.send_keys(Keys.ENTER), "press Enter on hold")
    wait(b, EC.visibility_of_element_located((By.CSS_SELECTOR, 'dialog[data-ask="hold"]')),
         what="the hold dialog")
    assert b.execute_script("return document.activeElement.closest('dialog') !== null")
    b.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(b, lambda d: not find_all(d, "dialog[open]"), what="Escape to close the dialog")
    assert status_of(console, tk["id"]) == "open"

    act_on(b, 'button[data-event="hold"]', lambda e: e.click(), "click hold")
    dialog = wait(b, EC.visibility_of_element_located((By.CSS_SELECTOR, 'dialog[data-ask="hold"]')),
                  what="the hold dialog")
    reason = dialog.find_element(By.NAME, "reason")
    assert reason.get_attribute("required") is not None
    # Confirming without a reason does nothing: the form is invalid, the dialog stays.
    dialog.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert dialog.is_displayed()
    assert status_of(console, tk["id"]) == "open"
    reason.send_keys("客户要求改天上门")
    dialog.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(b, lambda d: find(d, "h1[data-status]").get_attribute("data-status") == "on_hold",
         what="the page to show on hold")
    entry = last_event(console, tk["id"], "hold")
    assert "客户要求改天上门" in (entry.get("reason") or entry.get("note") or "")
    assert entry["by"] == "sup"
    assert events_shown(b) == \
        {"resume", "resolve", "cancel", "comment"}


def test_dispatch_asks_an_assignee_and_comment(b, console):
    tk = create(console, title="dispatch me", severity=2, team="north")
    sign_in(b, console, OPERATOR, f"/ui/tickets/{tk['id']}")
    ready(b, "ticket")
    act_on(b, 'button[data-event="dispatch"]', lambda e: e.click(), "click dispatch")
    dialog = wait(b, EC.visibility_of_element_located((By.CSS_SELECTOR, 'dialog[data-ask="dispatch"]')),
                  what="the dispatch dialog")
    dialog.find_element(By.NAME, "assignee").send_keys("张师傅")
    dialog.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(b, lambda d: find(d, "h1[data-status]").get_attribute("data-status") == "dispatched",
         what="the page to show dispatched")
    assert console.ticket(tk["id"])["assignee"] == "张师傅"

    act_on(b, "#comment-note", lambda e: e.send_keys("已电话联系客户"), "type the comment")
    act_on(b, 'form.comment button[data-event="comment"]', lambda e: e.click(), "send the comment")
    wait(b, lambda d: "已电话联系客户" in find(d, "ol.timeline").text, what="the comment in the timeline")
    assert last_event(console, tk["id"], "comment")["by"] == "sup"


def test_a_viewer_sees_no_action_buttons(b, console):
    tk = create(console, title="look, don't touch", severity=2, team="north")
    sign_in(b, console, VIEWER, f"/ui/tickets/{tk['id']}")
    ready(b, "ticket")
    assert find(b, "#who").get_attribute("data-access") == "viewer"
    assert find_all(b, "[data-event]") == []
    assert find_all(b, "#comment-note") == []
    assert find(b, "#read-only").is_displayed()


def test_a_post_without_the_csrf_token_is_refused(b, console):
    tk = create(console, title="csrf", severity=2, team="north")
    sign_in(b, console, OPERATOR)
    ready(b, "board")
    status = b.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/v1/tickets/%d/events', {method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({type: 'acknowledge'})}).then(r => done(r.status), e => done(String(e)));
    """ % tk["id"])
    assert status == 403
    assert status_of(console, tk["id"]) == "open"


# --- the link in a notification --------------------------------------------------------------

def action_code(console, tid, contact="sup", timeout=WAIT_S):
    """The code of the first action link sent to contact about ticket tid (read from the file
    channel's lines: the message's link, which every channel's text carries too)."""
    path = os.path.join(console.dir, "notifications.jsonl")

    def found():
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except OSError:
            return None
        for line in lines:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # a line being written
            if (msg.get("ticket") or {}).get("id") == tid and msg.get("contact") == contact:
                m = CODE_RE.search(msg.get("link") or "")
                if m:
                    return m.group(1)
        return None
    return wait_for(found, timeout, f"an action link to {contact} about ticket {tid}")


def test_the_action_link_acknowledges_once(b, console):
    # severity 1: the fast policy notifies the supervisor (sup) at 50 % of 3 s
    tk = create(console, title="扫码枪无法联网", severity=1, team="north")
    code = action_code(console, tk["id"])
    b.delete_all_cookies()  # a fresh browser: the code is the only credential
    open_page(b, console, f"/a/{code}", "action")
    assert find(b, f'[data-ticket-id="{tk["id"]}"]').is_displayed()
    assert find_all(b, '[data-action="acknowledge"]')
    shot(b, "action-en")
    shot(b, "action-en-phone", PHONE[0])
    find(b, '[data-action="acknowledge"]').click()
    wait(b, EC.visibility_of_element_located((By.ID, "done")), what="the acknowledgement")
    assert status_of(console, tk["id"]) == "acknowledged"
    assert last_event(console, tk["id"], "acknowledge")["by"] == "sup"

    open_page(b, console, f"/a/{code}", "action")
    assert find(b, "#refused").get_attribute("data-refused") == "used"
    assert "already been used" in find(b, "#refused").text
    shot(b, "action-used-en")


def test_an_expired_link_is_refused(b, console):
    tk = create(console, title="过期链接", severity=1, team="north")
    code = action_code(console, tk["id"])
    # Seven days are not waited for: the link's row is moved an hour past its expiry (the
    # database keeps the code's SHA-256; SQLite's WAL lets the test write beside the daemon).
    moved = console.sql(f"UPDATE action_links SET expires_ms = {int(time.time() * 1000) - 3600_000}"
                        f" WHERE code_hash = '{hashlib.sha256(code.encode()).hexdigest()}'"
                        " RETURNING code_hash")
    assert len(moved) == 1, "the link's row (action_links, by the code's SHA-256)"
    b.delete_all_cookies()
    open_page(b, console, f"/a/{code}", "action")
    refused = find(b, "#refused")
    assert refused.get_attribute("data-refused") == "expired"
    assert "expired" in refused.text
    assert find_all(b, "[data-event]") == []
    assert status_of(console, tk["id"]) == "open"


def test_a_forged_link_is_refused(b, console):
    open_page(b, console, "/a/ABCDEFGHJK", "action")
    refused = find(b, "#refused")
    assert refused.get_attribute("data-refused") == "unknown"
    assert "not valid" in refused.text
    assert find_all(b, "[data-event]") == []


# --- language and reports --------------------------------------------------------------------

def test_the_language_switch_is_kept(b, console):
    tk = create(console, title="语言切换", severity=2, team="north")
    sign_in(b, console, OPERATOR)
    ready(b, "board")
    assert b.execute_script("return document.documentElement.lang") == "en"
    assert find(b, 'header nav a[href="/ui/"]').text == "Board"
    find(b, "#lang-switch").click()
    ready(b, "board")
    wait(b, lambda d: d.execute_script("return document.documentElement.lang") == "zh-CN",
         what="the page in Chinese")
    assert find(b, 'header nav a[href="/ui/"]').text == "看板"
    assert "未结工单" in text_of(b, "#summary")
    shot(b, "board-zh")
    shot(b, "board-zh-phone", PHONE[0])
    # kept across pages and reloads
    open_page(b, console, f"/ui/tickets/{tk['id']}", "ticket")
    assert text_of(b, 'button[data-event="acknowledge"]') == "受理"
    shot(b, "ticket-zh")
    shot(b, "ticket-zh-phone", PHONE[0])
    find(b, "#lang-switch").click()
    ready(b, "ticket")
    wait(b, lambda d: d.execute_script("return document.documentElement.lang") == "en",
         what="the page in English again")


def test_the_reports_page_draws_its_charts(b, console):
    tk = create(console, title="report me", severity=2, team="north")
    assert console.event(tk["id"], "resolve").status == 200
    sign_in(b, console, ADMIN, "/ui/reports")
    ready(b, "reports")
    bars = find(b, 'svg[data-chart="bars"]')
    assert bars.find_elements(By.CSS_SELECTOR, "rect"), "a bar per group and clock"
    line = find(b, 'svg[data-chart="line"]')
    assert line.find_elements(By.CSS_SELECTOR, "polyline"), "a line per clock"
    href = find(b, "#csv").get_attribute("href")
    assert "format=csv" in href
    text = b.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.text().then(t => done(r.status + ' ' + r.headers.get('content-type') + '\\n' + t)));
    """, href)
    assert text.startswith("200 text/csv"), text[:200]
    assert "group,clock,total,met,missed,open,compliance" in text
    shot(b, "reports-en")
    b.execute_script("localStorage.setItem('slad.lang', 'zh-CN')")
    open_page(b, console, "/ui/reports", "reports")
    shot(b, "reports-zh")


def test_a_follow_up_completed_with_its_outcome(b, console):
    # severity 1 (fast policy): resolving schedules the supervisor's callback, due at once
    tk = create(console, title="回访测试", severity=1, team="north")
    assert console.event(tk["id"], "resolve").status == 200
    fu = wait_for(lambda: next((f for f in console.client.get(f"/v1/followups?ticket={tk['id']}").json["followups"]
                                if f["state"] == "due"), None), WAIT_S, "the follow-up to fall due")
    sign_in(b, console, OPERATOR, "/ui/followups?state=due")
    ready(b, "followups")
    row = find(b, f'tr[data-followup="{fu["id"]}"]')
    row.find_element(By.CSS_SELECTOR, 'select[name="outcome"] option[value="unreachable"]').click()
    row.find_element(By.NAME, "note").send_keys("电话无人接听")
    row.find_element(By.CSS_SELECTOR, f'button[data-complete="{fu["id"]}"]').click()
    wait(b, lambda d: not find_all(d, f'tr[data-followup="{fu["id"]}"]'), what="the follow-up to leave the due list")
    done = console.client.get(f"/v1/followups/{fu['id']}").json
    assert (done["state"], done["outcome"], done["note"], done["completed_by"]) == \
        ("done", "unreachable", "电话无人接听", "sup")


def test_the_other_pages_render(b, console):
    sign_in(b, console, OPERATOR, "/ui/followups?state=due")
    ready(b, "followups")
    assert unlabelled(b) == []
    for path, page in (("/ui/notifications?state=sent", "notifications"), ("/ui/plans", "plans"),
                       ("/ui/reports", "reports")):
        open_page(b, console, path, page)
        assert unlabelled(b) == [], page
        shot(b, page + "-en")


# --- the texts (no browser needed) -------------------------------------------------------------

UI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ui")


def ui_texts():
    """{language: {key: text}} from ui/i18n.js's two tables."""
    with open(os.path.join(UI_DIR, "i18n.js"), encoding="utf-8") as f:
        src = f.read()
    tables = {}
    for name in ("en", "zh"):
        body = re.search(r"\nconst %s = \{\n(.*?)\n\};" % name, src, re.S).group(1)
        tables[name] = dict(re.findall(r'"([a-z_.0-9]+)":\s*"((?:[^"\\]|\\.)*)"', body))
    return tables


def test_every_text_is_in_both_languages():
    tables = ui_texts()
    assert set(tables["en"]) == set(tables["zh"]), \
        set(tables["en"]) ^ set(tables["zh"])
    used = set()
    for name in os.listdir(UI_DIR):
        if name.endswith(".js"):
            with open(os.path.join(UI_DIR, name), encoding="utf-8") as f:
                used |= set(re.findall(r'\bt\("([a-z_.0-9]+)"', f.read()))
    # t("status." + s): a family of texts, at least one written
    families = {k for k in used if k.endswith(".")}
    assert [f for f in families if not any(k.startswith(f) for k in tables["en"])] == []
    assert used - families - set(tables["en"]) == set(), "texts used but not written"
    # the Chinese table is Chinese (a key copied untranslated would show English)
    untranslated = [k for k, v in tables["zh"].items()
                    if v == tables["en"][k] and re.search(r"[A-Za-z]{4,}", v)
                    and not k.startswith(("lang.", "app."))]
    assert untranslated == [], untranslated
