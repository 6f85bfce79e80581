"""The console in a real headless Chromium against a served instance (see conftest.py).

One browser session runs every test in order; each test signs in as whom it needs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.console.conftest import auth, register
from tests.support import ProcessServer

pytestmark = pytest.mark.timeout(180)

PLAN = {"content": "1. Write the notes\n2. Answer",
        "usage": {"prompt_tokens": 40, "completion_tokens": 8}}


def tag(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait(driver, condition, timeout: float = 25, message: str = ""):
    # Pages re-render on live events: an element found a moment ago may be gone; poll again.
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1,
                             ignored_exceptions=(NoSuchElementException,
                                                 StaleElementReferenceException)).until(
            lambda d: condition(d), message)
    except TimeoutException as exc:
        raise TimeoutException(f"{message} {page_state(driver)}".strip()) from exc


def page_state(driver) -> str:
    """What a person would see when a wait gives up: the address, the alerts, the console."""
    alerts = driver.execute_script(
        "return [...document.querySelectorAll('.alert')].map(e => e.innerText)")
    logs = [f"{e['level']} {e['message']}" for e in driver.get_log("browser")]
    return f"(at {driver.current_url}; alerts: {alerts}; browser log: {logs[-10:]})"


def find(driver, css: str, timeout: float = 25):
    return wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css), timeout, f"no {css}")


def gone(driver, css: str) -> bool:
    try:
        driver.find_element(By.CSS_SELECTOR, css)
        return False
    except NoSuchElementException:
        return True


def text_of(driver, css: str) -> str:
    """The rendered text of the first match, read in one step (no stale references)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)


def sign_in(driver, url: str, who: dict) -> None:
    # Forget the session on a page without the console, so no refresh is in flight.
    driver.get(f"{url}/health/live")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{url}/login")
    find(driver, "input[name=email]").send_keys(who["email"])
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(who["password"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, lambda d: d.current_url.endswith("/tasks"), message="not signed in")
    wait(driver, lambda d: text_of(d, ".live") == "Live", message="live stream not connected")


def signed_in_as(driver, url: str, who: dict) -> None:
    """Sign in as `who` unless the console already is."""
    current = driver.execute_script(
        "const e = document.querySelector('.session .who'); return e ? e.title : ''")
    if not current.startswith(f"{who['email']} "):
        sign_in(driver, url, who)


def go(driver, path: str) -> None:
    """Client-side navigation (no reload), as a person clicking the menu does."""
    driver.execute_script("history.pushState({}, '', arguments[0]);"
                          "dispatchEvent(new PopStateEvent('popstate'))", path)


def overflow(driver) -> int:
    """How far the page scrolls sideways (0 when it fits the window)."""
    return driver.execute_script(
        "const e = document.documentElement; return e.scrollWidth - e.clientWidth")


def shot(driver, screenshots, name: str, height: int | None = None) -> None:
    if screenshots is not None:
        if height:
            driver.set_window_size(1280, height)
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        time.sleep(0.3)
        path = screenshots / f"{name}.png"
        driver.save_screenshot(str(path))
        from PIL import Image  # a dependency of reportlab: keep the committed PNGs small

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
        if height:
            driver.set_window_size(1280, 800)


def test_sign_in_shows_errors_with_request_id_then_signs_in(browser, console_url, person):
    browser.get(f"{console_url}/tasks")
    wait(browser, lambda d: "/login?next=%2Ftasks" in d.current_url)
    assert browser.title == "Sign in · Crazy Gary"
    find(browser, "input[name=email]").send_keys(person["email"])
    browser.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("Wrong-passw0rd")
    browser.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(Keys.ENTER)
    error = find(browser, ".alert.error")
    assert "INVALID_CREDENTIALS" in error.text and "request id req_" in error.text
    sign_in(browser, console_url, person)
    assert browser.title == "Tasks · Crazy Gary"
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "header nav a")][:2] == [
        "Tasks", "Chat"]
    assert "Admin" not in browser.find_element(By.CSS_SELECTOR, "header nav").text
    # The access token is only in memory; the refresh token in this tab's sessionStorage.
    stored = browser.execute_script(
        "return Object.keys(sessionStorage).concat(Object.keys(localStorage))")
    assert stored == ["crazy-gary.refresh"]


def test_create_task_and_watch_it_finish_live(browser, console_url, person, model_standin,
                                             http, screenshots):
    signed_in_as(browser, console_url, person)
    script = tag("console-live")
    model_standin.script(script, [
        PLAN,
        {"tool_calls": [{"name": "workspace__write_file",
                         "arguments": {"path": f"{script}.md", "content": "# Notes"}}],
         "reasoning": "write first", "delay": 1.5,
         "usage": {"prompt_tokens": 100, "completion_tokens": 20}},
        {"content": "Done: the **notes** are written.\n\n- one\n- two\n\n```\ncode()\n```",
         "delay": 1.0, "usage": {"prompt_tokens": 120, "completion_tokens": 30}},
    ])
    go(browser, "/tasks/new")
    find(browser, "input[name=title]").send_keys(f"Write notes {script}")
    browser.find_element(By.CSS_SELECTOR, "textarea[name=description]").send_keys(
        f"Write notes then answer. [[script:{script}]]")
    model = Select(browser.find_element(By.CSS_SELECTOR, "select[name=model]"))
    model.select_by_value("gpt-oss-20b")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda d: "/tasks/task_" in d.current_url)
    browser.execute_script("window.__sameDocument = true")
    # Drop the live connection at once: it reconnects with Last-Event-ID and catches up.
    browser.execute_script("window.crazyGaryConsole.dropLive()")
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "completed", timeout=40)
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".timeline .step")) >= 4)
    assert browser.execute_script("return window.__sameDocument") is True  # no reload
    kinds = [e.get_attribute("textContent")
             for e in browser.find_elements(By.CSS_SELECTOR, ".timeline .step .kind")]
    assert kinds == ["plan", "model", "tool", "model"], kinds
    assert "workspace__write_file" in text_of(browser, ".timeline .step.s-model .call")
    tool_step = browser.find_element(By.CSS_SELECTOR, ".timeline .step.s-tool")
    assert "workspace.write_file" in tool_step.text and f"{script}.md" in tool_step.text
    assert "ms" in tool_step.text
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".answer strong").text == "notes")
    items = [li.text for li in browser.find_elements(By.CSS_SELECTOR, ".answer li")]
    assert items == ["one", "two"]
    assert browser.find_element(By.CSS_SELECTOR, ".answer pre.code").text == "code()"
    assert "Write the notes" in browser.find_element(By.CSS_SELECTOR, "section.card ol").text
    assert f"{script}.md" in text_of(browser, "section.card ul button.link")
    totals = browser.find_element(By.CSS_SELECTOR, ".timeline").find_element(By.XPATH, "..").text
    assert "$" in totals and "prompt" in totals
    assert browser.title.startswith(f"Write notes {script} (completed)")
    shot(browser, screenshots, "task", height=1250)

    # The list shows it, then a task started elsewhere appears and finishes without reload.
    finished = browser.current_url.split("/")[-1]
    go(browser, "/tasks")
    wait(browser, lambda d: "completed" in text_of(d, f"tr[data-task='{finished}']"))
    other = tag("console-list")
    model_standin.script(other, [{"content": "1. Answer"}, {"content": "Listed.", "delay": 1.0}])
    created = http.post("/api/tasks", headers=auth(http, person), json={
        "title": f"From the API {other}", "description": f"[[script:{other}]]",
        "model": "gpt-oss-20b", "auto_start": True})
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]
    row_css = f"tr[data-task='{task_id}']"
    find(browser, row_css)
    wait(browser, lambda d: "completed" in text_of(d, row_css), timeout=40)
    assert find(browser, f"{row_css} progress").get_attribute("value") == "100"
    assert browser.execute_script("return window.__sameDocument") is True
    shot(browser, screenshots, "tasks")


def test_five_hundred_tasks_render_in_chunks_and_update_in_place(browser, console_url, http,
                                                                  model_standin):
    crowd = register(http, name="Many Tasks")
    headers = auth(http, crowd)

    async def create_all() -> list[str]:
        async with httpx.AsyncClient(base_url=console_url, timeout=60) as client:
            sem = asyncio.Semaphore(16)

            async def one(i: int) -> str:
                async with sem:
                    resp = await client.post("/api/tasks", headers=headers, json={
                        "title": f"Bulk task {i:03d}", "description": "waits",
                        "model": "gpt-oss-20b"})
                    assert resp.status_code == 201, resp.text
                    return resp.json()["task_id"]
            return await asyncio.gather(*(one(i) for i in range(500)))

    ids = asyncio.run(create_all())
    sign_in(browser, console_url, crowd)  # lands on the list
    browser.execute_script("""
        window.__longest = 0;
        new PerformanceObserver((list) => { for (const e of list.getEntries())
          window.__longest = Math.max(window.__longest, e.duration); })
          .observe({type: 'longtask', buffered: true});""")
    wait(browser, lambda d: text_of(d, ".toolbar .muted") == "500 tasks", timeout=30)
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.tasks tbody tr")) == 500
    longest = browser.execute_script("return window.__longest")
    assert longest < 1500, f"the main thread was blocked for {longest} ms"
    # Live changes: a new task appears on top and finishes; a listed one changes in place.
    first = ids[0]
    browser.execute_script(
        "document.querySelector(`tr[data-task='${arguments[0]}']`).__kept = true", first)
    script = tag("console-bulk")
    model_standin.script(script, [{"content": "1. Answer"}, {"content": "Bulk done."}])
    twin = http.post("/api/tasks", headers=headers, json={
        "title": "Bulk twin", "description": f"[[script:{script}]]", "model": "gpt-oss-20b",
        "auto_start": True}).json()["task_id"]
    wait(browser, lambda d: "completed" in text_of(d, f"tr[data-task='{twin}']"), timeout=40)
    assert browser.execute_script(
        "return document.querySelector('table.tasks tbody tr').dataset.task") == twin
    stopped = http.post(f"/api/tasks/{first}/stop", headers=auth(http, crowd))
    assert stopped.status_code == 200, stopped.text
    wait(browser, lambda d: "stopped" in text_of(d, f"tr[data-task='{first}']"))
    assert browser.execute_script(
        "return document.querySelector(`tr[data-task='${arguments[0]}']`).__kept", first) is True
    assert text_of(browser, ".toolbar .muted") == "501 tasks"
    # The status filter asks the API again.
    Select(find(browser, "#status-filter")).select_by_value("stopped")
    wait(browser, lambda d: text_of(d, ".toolbar .muted") == "1 task")
    assert "status=stopped" in browser.current_url


def test_stop_a_running_task(browser, console_url, person, model_standin, http):
    signed_in_as(browser, console_url, person)
    script = tag("console-stop")
    model_standin.script(script, [{"content": "1. Think for long", "delay": 60}])
    created = http.post("/api/tasks", headers=auth(http, person), json={
        "title": f"Long {script}", "description": f"[[script:{script}]]",
        "model": "gpt-oss-20b", "auto_start": True})
    task_id = created.json()["task_id"]
    go(browser, f"/tasks/{task_id}")
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "running")
    stop = find(browser, ".task-status button.danger")
    assert stop.text == "Stop"
    stop.click()
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "stopped")
    assert gone(browser, ".task-status button.danger")
    body = http.get(f"/api/tasks/{task_id}", headers=auth(http, person)).json()
    assert body["status"] == "stopped"


def write_turn(script: str, content: str, reason: str) -> dict:
    """A model turn calling the built-in write_file (a tool the console instance always has)."""
    return {"content": reason, "tool_calls": [{"name": "workspace__write_file", "arguments": {
        "path": f"{script}.md", "content": content}}]}


def tool_results(model_standin, script: str) -> list[str]:
    """What the tools answered, as the model read it in its last request."""
    return [m["content"] for m in model_standin.requests(script)[-1]["messages"]
            if m["role"] == "tool"]


def pending_badge(driver) -> str:
    return driver.execute_script(
        "const e = document.querySelector('header nav a[href=\"/approvals\"] .count');"
        "return e && !e.hidden ? e.textContent : ''")


def set_field(driver, element, text: str) -> None:
    element.clear()
    element.send_keys(text)


def test_pending_approval_appears_live_and_approves_with_edited_arguments(
        browser, console_url, model_standin, http, screenshots):
    who = register(http, name="Avery Approver")  # a user of its own: the count starts at 0
    sign_in(browser, console_url, who)
    go(browser, "/approvals")
    find(browser, ".empty")
    assert pending_badge(browser) == ""
    script = tag("console-approve")
    model_standin.script(script, [
        PLAN, write_turn(script, "# Draft", "I will write the notes to a file."),
        {"content": "The notes are written."}])
    created = http.post("/api/tasks", headers=auth(http, who), json={
        "title": f"Needs approval {script}", "description": f"[[script:{script}]]",
        "model": "gpt-oss-20b", "auto_start": True, "tool_policy": {"default": "ask"}})
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]
    # The card and the menu's count arrive over the live channel (no reload).
    browser.execute_script("window.__sameDocument = true")
    card = "article.approval"
    find(browser, card, timeout=40)
    wait(browser, lambda d: pending_badge(d) == "1", message="no pending count on the menu")
    assert text_of(browser, f"{card} .tool") == "workspace.write_file"
    assert "I will write the notes to a file." in text_of(browser, f"{card} .reason")
    wait(browser, lambda d: text_of(d, f"{card} .approval-head a") == f"Needs approval {script}")
    assert browser.find_element(By.CSS_SELECTOR, f"{card} .approval-head a").get_attribute(
        "href").endswith(f"/tasks/{task_id}")
    facts = text_of(browser, f"{card} .facts")
    assert "Requested" in facts and "Expires" in facts
    args = browser.find_element(By.CSS_SELECTOR, f"{card} textarea[name=arguments]")
    assert json.loads(args.get_attribute("value")) == {"path": f"{script}.md",
                                                       "content": "# Draft"}
    assert text_of(browser, ".toolbar .muted") == "1 pending"
    shot(browser, screenshots, "approvals")

    # Arguments the tool's schema refuses: the server's 400 is shown, nothing is lost.
    broken = json.dumps({"path": f"{script}.md", "content": 5})
    set_field(browser, args, broken)
    browser.find_element(By.CSS_SELECTOR, f"{card} button[data-decision=approve]").click()
    error = find(browser, f"{card} .alert.error")
    assert "VALIDATION_ERROR" in error.text
    assert args.get_attribute("value") == broken
    assert http.get(f"/api/tasks/{task_id}", headers=auth(http, who)).json()[
        "phase"] == "awaiting_approval"
    # Not JSON at all: said at once, nothing sent.
    set_field(browser, args, "{not json")
    browser.find_element(By.CSS_SELECTOR, f"{card} button[data-decision=approve]").click()
    wait(browser, lambda d: "not valid JSON" in text_of(d, f"{card} .alert.error"))

    edited = {"path": f"{script}-edited.md", "content": "# Edited by a person"}
    set_field(browser, args, json.dumps(edited))
    browser.find_element(By.CSS_SELECTOR, f"{card} button[data-decision=approve]").click()
    wait(browser, lambda d: "Approved with edited arguments" in text_of(d, f"{card} .alert.ok"))
    wait(browser, lambda d: gone(d, card), message="the decided approval stays listed")
    wait(browser, lambda d: pending_badge(d) == "")
    find(browser, ".empty")
    assert browser.execute_script("return window.__sameDocument") is True
    deadline = time.monotonic() + 40
    while (task := http.get(f"/api/tasks/{task_id}", headers=auth(http, who)).json())[
            "status"] != "completed":
        assert time.monotonic() < deadline, task
        time.sleep(0.2)
    [step] = [s for s in task["result"]["steps"] if s["kind"] == "tool"]
    assert step["arguments"] == edited, step
    assert f"{script}-edited.md" in tool_results(model_standin, script)[0]


def test_approval_decided_elsewhere_leaves_the_list_live(browser, console_url, model_standin,
                                                          http):
    who = register(http, name="Elsewhere Decider")
    sign_in(browser, console_url, who)
    go(browser, "/approvals")
    find(browser, ".empty")
    script = tag("console-elsewhere")
    model_standin.script(script, [PLAN, write_turn(script, "# Draft", "Writing."),
                                  {"content": "Left alone."}])
    task_id = http.post("/api/tasks", headers=auth(http, who), json={
        "title": f"Elsewhere {script}", "description": f"[[script:{script}]]",
        "model": "gpt-oss-20b", "auto_start": True,
        "tool_policy": {"default": "ask"}}).json()["task_id"]
    find(browser, "article.approval", timeout=40)
    wait(browser, lambda d: pending_badge(d) == "1")
    # A card fits a phone's width.
    browser.set_window_size(390, 844)
    try:
        time.sleep(0.3)
        wait(browser, lambda d: overflow(d) <= 1, timeout=4,
             message="the approval card scrolls sideways at phone width")
    finally:
        browser.set_window_size(1280, 800)
    # Something typed in the card, then the approval is decided through the API.
    browser.find_element(By.CSS_SELECTOR, "article.approval input[name=comment]").send_keys("hm")
    [pending] = http.get(f"/api/tasks/{task_id}", headers=auth(http, who)).json()[
        "pending_approvals"]
    decided = http.post(f"/api/approvals/{pending['id']}", headers=auth(http, who),
                        json={"decision": "deny"})
    assert decided.status_code == 200, decided.text
    wait(browser, lambda d: gone(d, "article.approval"), message="the card stayed")
    wait(browser, lambda d: pending_badge(d) == "")
    find(browser, ".empty")


def test_deny_with_a_comment_on_the_task_page(browser, console_url, person, model_standin, http,
                                              screenshots):
    signed_in_as(browser, console_url, person)
    script = tag("console-deny")
    model_standin.script(script, [
        PLAN, write_turn(script, "# Overwrite", "I will overwrite the file."),
        {"content": "I left the file alone."}])
    created = http.post("/api/tasks", headers=auth(http, person), json={
        "title": f"Denied {script}", "description": f"[[script:{script}]]",
        "model": "gpt-oss-20b",
        "tool_policy": {"rules": [{"match": "workspace.write_*", "action": "ask"}]}})
    assert created.status_code == 201, created.text
    task_id = created.json()["task_id"]
    go(browser, f"/tasks/{task_id}")  # opened before it starts
    find(browser, "dl.facts dt")
    started = http.post(f"/api/tasks/{task_id}/start", headers=auth(http, person))
    assert started.status_code == 200, started.text
    card = ".task-approvals article.approval"
    find(browser, card, timeout=40)
    wait(browser, lambda d: "awaiting_approval" in text_of(d, ".task-status"))
    assert text_of(browser, f"{card} .tool") == "workspace.write_file"
    assert gone(browser, f"{card} .approval-head a")  # no link to the page it is on
    # the start time appears once it starts, without a reload
    wait(browser, lambda d: d.execute_script(
        "const dt = [...document.querySelectorAll('dl.facts dt')]"
        ".find((e) => e.textContent === 'Started');"
        "return dt ? dt.nextElementSibling.textContent : null;") not in (None, "\u2014"))
    shot(browser, screenshots, "task-approval")
    set_field(browser, browser.find_element(By.CSS_SELECTOR, f"{card} input[name=comment]"),
              "Not this file, please")
    browser.find_element(By.CSS_SELECTOR, f"{card} button[data-decision=deny]").click()
    wait(browser, lambda d: "Denied" in text_of(d, f"{card} .alert.ok"))
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "completed", timeout=40)
    wait(browser, lambda d: gone(d, card))
    [told] = tool_results(model_standin, script)
    assert "declined" in told and "Not this file, please" in told
    outcomes = [e.get_attribute("textContent") for e in browser.find_elements(
        By.CSS_SELECTOR, ".timeline .step.s-tool .outcome")]
    assert outcomes == ["declined"], outcomes


def test_retry_a_failed_task_opens_the_new_task(browser, console_url, person, model_standin,
                                                http):
    signed_in_as(browser, console_url, person)
    script = tag("console-retry")
    # A model too slow for the task's time limit fails it with TASK_TIMEOUT. (A model error
    # would not do here: the call falls back to 120b and wakes it, which test_wake_an_endpoint
    # needs asleep.)
    model_standin.script(script, [PLAN, {"content": "Too late.", "delay": 10}], by="turn")
    created = http.post("/api/tasks", headers=auth(http, person), json={
        "title": f"Slow {script}", "description": f"[[script:{script}]]",
        "model": "gpt-oss-20b", "auto_start": True, "timeout_seconds": 3})
    failed_id = created.json()["task_id"]
    go(browser, f"/tasks/{failed_id}")
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "failed", timeout=40)
    wait(browser, lambda d: "TASK_TIMEOUT" in text_of(d, ".alert.error"))
    model_standin.script(script, [PLAN, {"content": "Second time lucky."}], by="turn")
    retry = wait(browser, lambda d: next((b for b in d.find_elements(
        By.CSS_SELECTOR, ".task-status .actions button") if b.text == "Retry"), None))
    retry.click()
    wait(browser, lambda d: "/tasks/task_" in d.current_url
         and not d.current_url.endswith(failed_id), message="not taken to the retry")
    retry_id = browser.current_url.split("/")[-1]
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "completed", timeout=40)
    assert text_of(browser, ".facts a[href^='/tasks/']") == failed_id  # "Retry of"
    assert http.get(f"/api/tasks/{retry_id}", headers=auth(http, person)).json()[
        "retry_of"] == failed_id
    # A completed task offers no retry.
    assert not [b for b in browser.find_elements(By.CSS_SELECTOR, ".task-status .actions button")
                if b.text == "Retry"]


def test_chat_streams_tokens_and_links_the_task(browser, console_url, person, model_standin,
                                                screenshots):
    signed_in_as(browser, console_url, person)
    script = tag("console-chat")
    answer = "Streaming words arrive one by one until the whole answer is here"
    model_standin.script(script, [{"content": answer, "chunk_delay": 0.12}])
    go(browser, "/chat")
    box = find(browser, ".composer textarea")
    box.send_keys(f"Tell me something [[script:{script}]]")
    box.send_keys(Keys.ENTER)
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bubbles = browser.find_elements(By.CSS_SELECTOR, ".bubble.assistant .bubble-body")
        current = bubbles[-1].text if bubbles else ""
        if current and (not seen or seen[-1] != current):
            seen.append(current)
        linked = browser.find_elements(By.CSS_SELECTOR, ".bubble.assistant .task-link")
        if current == answer and linked:
            break
        time.sleep(0.03)
    assert seen[-1] == answer, seen
    partial = [s for s in seen if s and s != answer and answer.startswith(s)]
    assert len(partial) >= 2, seen  # the answer grew token by token
    assert "conversation=conv_" in browser.current_url
    assert text_of(browser, ".conv-list a").startswith("Tell me something")
    shot(browser, screenshots, "chat")
    browser.find_element(By.CSS_SELECTOR, ".bubble.assistant .task-link").click()
    wait(browser, lambda d: "/tasks/task_" in d.current_url)
    wait(browser, lambda d: "chat" in text_of(d, "dl.facts"))


def test_wake_an_endpoint(browser, console_url, console_instance, person, screenshots):
    signed_in_as(browser, console_url, person)
    emu, name = console_instance[1], console_instance[2]
    go(browser, "/models")
    wait(browser, lambda d: "sleeping" in text_of(d, "article[data-model='120b'] h2"))
    assert "Asleep" in text_of(browser, "article[data-model='120b']")
    find(browser, "article[data-model='120b'] button.primary").click()
    wait(browser, lambda d: "running" in text_of(d, "article[data-model='120b'] h2"), timeout=40)
    assert len(emu.calls_to("resume")) == 1 and emu.state("gary", name) == "running"
    assert gone(browser, "article[data-model='120b'] button.primary")
    # 20b is a bare URL: shown, but not something the service can wake or sleep.
    assert "never (not managed)" in text_of(browser, "article[data-model='20b']")
    shot(browser, screenshots, "models")


def test_run_a_tool_from_its_form(browser, console_url, person, http, screenshots):
    signed_in_as(browser, console_url, person)
    go(browser, "/tools")
    find(browser, "article.server")  # MCP server status cards
    find(browser, "button[data-tool='workspace.write_file']").click()
    detail = find(browser, ".tool-detail form")
    detail.find_element(By.CSS_SELECTOR, "input[name=path]").send_keys("from-the-form.txt")
    detail.find_element(By.CSS_SELECTOR, "input[name=content]").send_keys("written by the console")
    detail.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "Succeeded" in text_of(d, ".tool-detail .alert"))
    resp = http.get("/api/workspace/files/from-the-form.txt", headers=auth(http, person))
    assert resp.status_code == 200 and resp.text == "written by the console"
    # a refused call is shown as a failure with the tool's reason
    find(browser, "button[data-tool='workspace.read_file']").click()
    find(browser, ".tool-detail form input[name=path]").send_keys("../outside.txt")
    find(browser, ".tool-detail form button[type=submit]").click()
    wait(browser, lambda d: "Failed" in text_of(d, ".tool-detail .alert.error"))
    assert ".." in text_of(browser, ".tool-detail pre.output")
    browser.find_element(By.CSS_SELECTOR, "button[data-tool='time.get_current_time']").click()
    shot(browser, screenshots, "tools")


def test_upload_download_and_delete_a_workspace_file(browser, console_url, person, http,
                                                     tmp_path, screenshots):
    signed_in_as(browser, console_url, person)
    local = tmp_path / "hello-console.txt"
    local.write_text("hello from a file\n")
    go(browser, "/workspace")
    find(browser, "#upload-files").send_keys(str(local))
    browser.find_element(By.CSS_SELECTOR, "form.upload button[type=submit]").click()
    link = find(browser, "button[data-download='hello-console.txt']")
    assert "Uploaded hello-console.txt" in text_of(browser, ".alert.ok")
    shot(browser, screenshots, "workspace")
    link.click()
    target = browser.downloads / "hello-console.txt"
    wait(browser, lambda d: target.exists() and target.read_text() == "hello from a file\n")
    browser.find_element(By.CSS_SELECTOR, "button[data-delete='hello-console.txt']").click()
    browser.switch_to.alert.accept()
    wait(browser, lambda d: gone(d, "button[data-download='hello-console.txt']"))
    resp = http.get("/api/workspace/files/hello-console.txt", headers=auth(http, person))
    assert resp.status_code == 404


def test_heavy_workflow_runs_live_and_its_report_downloads(browser, console_url, person,
                                                           screenshots):
    signed_in_as(browser, console_url, person)
    workflow = json.dumps([
        {"step": 1, "tool": "write_file",
         "parameters": {"path": "heavy/app.py", "content": "import os\nx = 1\n"}},
        {"step": 2, "tool": "code_analyzer", "parameters": {"target": "heavy", "type": "quality"}},
        {"step": 3, "tool": "report_generator", "parameters": {"format": "html"}},
    ])
    go(browser, "/heavy")
    steps = find(browser, "textarea.mono")
    steps.clear()
    steps.send_keys(workflow)
    browser.find_elements(By.CSS_SELECTOR, "form.card")[1].find_element(
        By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: "run=orch_" in d.current_url)
    wait(browser, lambda d: "completed" in text_of(d, ".run h2"), timeout=90)
    # (late events re-render the run: read and click through the page, not stale handles)
    rows = browser.execute_script(
        "return [...document.querySelectorAll('.run tbody tr')].map(r => r.innerText)")
    assert len(rows) == 3 and all("completed" in r for r in rows), rows
    find(browser, ".run ul button.link")
    assert "html" in text_of(browser, ".run ul button.link")
    shot(browser, screenshots, "heavy")
    browser.execute_script("document.querySelector('.run ul button.link').click()")
    target = browser.downloads / "report-3.html"
    wait(browser, lambda d: target.exists() and "</html>" in target.read_text().lower())
    assert "unused" in target.read_text().lower() or "F401" in target.read_text()


XSS = ("<script>window.__xss='script';document.title='pwned'</script> "
       "<img src=x onerror=\"window.__xss='img';document.title='pwned'\"> "
       "[click me](javascript:window.__xss='link') <a href=\"javascript:alert(1)\">a</a>")


def test_untrusted_model_and_tool_output_is_shown_as_text(browser, console_url, person, http,
                                                          model_standin):
    signed_in_as(browser, console_url, person)
    headers = auth(http, person)
    up = http.post("/api/workspace/files", headers=headers,
                   files={"file": ("payload.html", XSS.encode())})
    assert up.status_code == 201, up.text
    script = tag("console-xss")
    model_standin.script(script, [
        {"content": f"1. Read it\n2. {XSS}"},
        {"tool_calls": [{"name": "workspace__read_file", "arguments": {"path": "payload.html"}}]},
        {"content": f"# Result\n{XSS}\n\n`{XSS}`"},
    ])
    created = http.post("/api/tasks", headers=headers, json={
        "title": "<img src=x onerror=\"window.__xss='title'\">", "model": "gpt-oss-20b",
        "description": f"{XSS} [[script:{script}]]", "auto_start": True})
    task_id = created.json()["task_id"]
    go(browser, f"/tasks/{task_id}")
    wait(browser, lambda d: text_of(d, ".task-status .badge") == "completed", timeout=40)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".answer .md"))
    assert browser.execute_script("return window.__xss") is None
    assert "pwned" not in browser.title
    assert browser.execute_script("return document.querySelectorAll('img, [onerror]').length") == 0
    assert browser.execute_script(
        "return [...document.scripts].map(s => s.getAttribute('src'))") == ["/ui/js/main.js"]
    assert browser.execute_script(
        "return document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    answer = text_of(browser, ".answer")
    assert "<script>window.__xss='script'" in answer and "<img src=x onerror=" in answer
    assert "click me (javascript:window.__xss='link')" in answer
    output = text_of(browser, ".step.s-tool pre.output")
    assert "<script>window.__xss='script'" in output and "<img src=x onerror=" in output
    assert text_of(browser, "h1") == "<img src=x onerror=\"window.__xss='title'\">"
    # and in the list, where the title is a link
    go(browser, "/tasks")
    row = find(browser, f"tr[data-task='{task_id}']")
    assert "<img src=x" in row.text
    assert browser.execute_script("return window.__xss") is None


def test_register_change_password_sign_out(browser, console_url, http):
    email = f"console-new-{uuid.uuid4().hex[:8]}@example.com"
    browser.get(f"{console_url}/health/live")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{console_url}/register")
    find(browser, "input[name=email]").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, "input[name=name]").send_keys("Nora New")
    browser.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("First-passw0rd")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(browser, lambda d: d.current_url.endswith("/tasks"))
    assert text_of(browser, ".session .who") == "Nora New"
    browser.find_element(By.CSS_SELECTOR, ".session .who").click()
    wait(browser, lambda d: d.title == "Account · Crazy Gary")
    fields = browser.find_elements(By.CSS_SELECTOR, "form input[type=password]")
    fields[0].send_keys("First-passw0rd")
    fields[1].send_keys("Second-passw0rd")
    fields[1].send_keys(Keys.ENTER)
    wait(browser, lambda d: "Password changed" in text_of(d, ".alert.ok"))
    go(browser, "/tasks")  # still signed in with the tokens the change returned
    find(browser, "table.tasks, .empty")
    go(browser, "/account")
    find(browser, ".page-head button").click()  # Sign out
    wait(browser, lambda d: "/login" in d.current_url)
    assert browser.execute_script("return sessionStorage.length") == 0
    old = http.post("/api/auth/login", json={"email": email, "password": "First-passw0rd"})
    new = http.post("/api/auth/login", json={"email": email, "password": "Second-passw0rd"})
    assert (old.status_code, new.status_code) == (401, 200)


def test_admin_deletes_a_user(browser, console_url, admin, http, screenshots):
    victim = register(http, name="Victor Victim")
    sign_in(browser, console_url, admin)
    assert "Admin" in browser.find_element(By.CSS_SELECTOR, "header nav").text
    browser.find_element(By.LINK_TEXT, "Admin").click()
    row = find(browser, f"tr[data-user='{victim['email']}']")
    shot(browser, screenshots, "admin")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    assert victim["email"] in browser.switch_to.alert.text
    browser.switch_to.alert.accept()
    wait(browser, lambda d: gone(d, f"tr[data-user='{victim['email']}']"))
    assert "Deleted" in text_of(browser, ".alert.ok")
    login = http.post("/api/auth/login",
                      json={"email": victim["email"], "password": victim["password"]})
    assert login.status_code == 401


def test_admin_monitoring_and_session_renewal(browser, console_url, admin, screenshots):
    signed_in_as(browser, console_url, admin)
    go(browser, "/monitoring")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "main section.card h2 .badge"))
    find(browser, "table.logs")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".chart path.chart-line")) >= 3,
         timeout=30)
    shot(browser, screenshots, "monitoring")
    began = time.monotonic()
    # Report an incident, then move it on with a note: both land in its timeline.
    title = f"Console incident {uuid.uuid4().hex[:6]}"
    find(browser, "details summary").click()  # "Report an incident"
    form = find(browser, "form.inline-form")
    form.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys(title)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    incident = f"//details[contains(@class, 'incident')][summary[contains(., '{title}')]]"
    wait(browser, lambda d: d.find_elements(By.XPATH, incident))
    browser.find_element(By.XPATH, f"{incident}/summary").click()
    status = find(browser, "details.incident[open] select")
    Select(status).select_by_value("investigating")
    browser.find_element(By.CSS_SELECTOR, "details.incident[open] input").send_keys("looking")
    browser.find_element(By.CSS_SELECTOR, "details.incident[open] button[type=submit]").click()
    wait(browser, lambda d: "investigating" in d.find_element(By.XPATH, f"{incident}/summary").text)
    # (the update and its incident_updated event each re-render the list: open the current one)
    timeline = """
        const box = [...document.querySelectorAll('details.incident')]
          .find((d) => d.querySelector('summary').textContent.includes(arguments[0]));
        if (!box) return '';
        if (!box.open) box.open = true;
        return box.innerText;"""
    wait(browser, lambda d: "looking" in d.execute_script(timeline, title))
    # Access tokens live 20 s here: 25 s later the console still works without a sign-in.
    time.sleep(max(0.0, 25 - (time.monotonic() - began)))
    go(browser, "/workspace")
    find(browser, "form.upload")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                            ".table-wrap table, .table-wrap .empty"))
    assert "/login" not in browser.current_url and text_of(browser, ".live") == "Live"
    assert not browser.find_elements(By.CSS_SELECTOR, ".alert.error")


def test_keyboard_and_phone_width(browser, console_url, screenshots):
    go(browser, "/tasks")
    find(browser, "table.tasks, .empty")
    # A new page puts the focus on its heading; Tab reaches its controls with a visible ring.
    assert browser.switch_to.active_element.tag_name == "h1"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.text == "New task"
    assert browser.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle") == "solid"
    focused.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith("/tasks/new"))
    assert browser.switch_to.active_element.get_attribute("name") == "title"
    # The skip link jumps over the menu.
    browser.execute_script("document.querySelector('.skip').focus()")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    browser.set_window_size(390, 844)
    try:
        for path in ("/tasks", "/approvals", "/chat", "/models", "/tools", "/workspace",
                     "/heavy", "/monitoring", "/admin", "/account"):
            go(browser, path)
            find(browser, "main h1")
            # once the page has settled (its data loaded), nothing is wider than the screen
            time.sleep(0.5)
            try:
                wait(browser, lambda d: overflow(d) <= 1, timeout=4)
            except TimeoutException:
                pytest.fail(f"{path} scrolls sideways by {overflow(browser)}px at phone width")
            if path in ("/tasks", "/chat") and screenshots is not None:
                shot(browser, screenshots, f"phone-{path.strip('/')}")
    finally:
        browser.set_window_size(1280, 800)


def test_markdown_renderer_builds_only_safe_nodes(browser, console_url, person):
    signed_in_as(browser, console_url, person)
    rendered = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/ui/js/markdown.js').then(({ renderMarkdown }) => {
          const md = [
            '## Title with <b>tag</b>', '',
            'See [docs](https://example.com/a?b=1), [mail](mailto:a@example.com),',
            '[bad](javascript:alert(1)), [data](data:text/html,<script>1</script>),',
            '[rel](/api/tasks) and https://example.org/x.', '',
            '1. **bold** and *em* and `<i>code</i>`', '2. second', '',
            '> quoted <svg onload=alert(1)>', '',
            '```html', '<script>alert(1)</script>', '```',
          ].join('\\n');
          const root = renderMarkdown(md);
          const links = [...root.querySelectorAll('a')].map((a) =>
            [a.getAttribute('href'), a.rel, a.target, a.textContent]);
          done({
            tags: [...root.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
            links, text: root.textContent,
            attrs: [...root.querySelectorAll('*')]
              .flatMap((e) => [...e.attributes].map((a) => a.name)),
          });
        }).catch((err) => done({ error: String(err && err.stack || err) }));""")
    assert "error" not in rendered, rendered
    assert set(rendered["tags"]) <= {"h4", "p", "a", "ol", "li", "strong", "em", "code",
                                      "blockquote", "div", "pre"}, rendered["tags"]
    assert rendered["links"] == [
        ["https://example.com/a?b=1", "noopener noreferrer", "_blank", "docs"],
        ["mailto:a@example.com", "noopener noreferrer", "_blank", "mail"],
        ["https://example.org/x", "noopener noreferrer", "_blank", "https://example.org/x"],
    ]
    assert set(rendered["attrs"]) <= {"href", "rel", "target", "data-lang", "class"}, rendered[
        "attrs"]
    text = rendered["text"]
    assert "bad (javascript:alert(1))" in text and "rel (/api/tasks)" in text
    assert "<b>tag</b>" in text and "<svg onload=alert(1)>" in text
    assert "<script>alert(1)</script>" in text and "<i>code</i>" in text


def test_unconfigured_models_say_what_to_set(browser, tmp_path):
    """A service with no model configured: the Models page names the variables to set."""
    srv = ProcessServer({
        "CRAZY_GARY_DATA_DIR": str(tmp_path), "RATE_LIMITS_ENABLED": "false",
        "ENVIRONMENT": "test", "DATABASE_URL": "", "REDIS_URL": "",
        "MODEL_120B_BASE_URL": "", "MODEL_20B_BASE_URL": "", "MODEL_120B_HF_ENDPOINT": "",
        "MODEL_20B_HF_ENDPOINT": "", "MCP_CONFIG": str(tmp_path / "none.json"),
        "CRAZY_GARY_EXECUTOR_ID": f"console-bare-{uuid.uuid4().hex[:6]}",
    }).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as client:
            who = register(client, name="Bare Service")
        sign_in(browser, srv.url, who)
        go(browser, "/models")
        find(browser, "article[data-model='120b'] .alert.warn")
        for key in ("120b", "20b"):
            card = text_of(browser, f"article[data-model='{key}']")
            assert "No model configured" in card
            upper = key.upper()
            assert f"MODEL_{upper}_BASE_URL" in card and f"MODEL_{upper}_HF_ENDPOINT" in card
            assert "docs/endpoints.md" in card
        assert gone(browser, "article[data-model='120b'] button")  # nothing to wake
    finally:
        srv.stop()
