"""The admin page at /settings/audit-log in a real browser (Debian's chromium, headless,
driven by Playwright) against the local stack: the API in sam local, the page and its
gateway from devtools.admin_ui, exactly what `make local` serves.

The browser runs in Asia/Kolkata (UTC+05:30), so a time shown in UTC would be caught. It
is the demo data's timezone too: the organisation of this module holds fixed events on 20
November 2026 and `make local`'s story (devtools.demo_data.story_events, relative to now),
so the README's walkthrough runs here on the same events.
"""

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import threading
import time as page_time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest

from devtools import demo_data, local_stack
from devtools.dev_tokens import token
from tests.e2e.conftest import LocalApi

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

VIEWER_ZONE = "Asia/Kolkata"
SCREENSHOTS = local_stack.LOCAL / "screenshots"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LONG_EMAIL = "maximiliana.featherstonehaugh-worthington@procurement.subsidiary.example"
ACTORS = [
    {"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@example.com"},
    {"id": "usr_grace", "name": "Grace Hopper", "email": "grace@example.com"},
    {"id": "svc_keyrotator", "type": "system"},
    {"id": "usr_maximiliana", "name": "Maximiliana Featherstonehaugh-Worthington", "email": LONG_EMAIL},
]
TYPES = ["user.login", "member.invited", "api_key.rotated"]
# A minute apart from 09:00 UTC on 20 November (14:30 in Kolkata), then two around
# midnight in Kolkata: 23:50 on the 20th and 00:15 on the 21st (18:20 and 18:45 UTC).
TIMES = [START + timedelta(minutes=number) for number in range(55)] + [
    datetime(2026, 11, 20, 18, 20, tzinfo=UTC),
    datetime(2026, 11, 20, 18, 45, tzinfo=UTC),
]
FIXED = len(TIMES)  # with the story's events, more than one page of 50
KATHERINE = "usr_katherine"
BILLING_KEY = demo_data.BILLING_KEY


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def fixed_actor(number: int) -> dict[str, Any]:
    if number == 7:
        return ACTORS[3]  # one user whose email is long
    return ACTORS[number % 3 if number % 5 else 1]


@pytest.fixture(scope="module")
def seeded(local_api: LocalApi) -> dict[str, Any]:
    """An organisation of its own with the events of TIMES and the demo's story, recorded
    through the API oldest first."""
    org = f"org_ui_{secrets.token_hex(4)}"
    fixed = [
        {
            "org_id": org,
            "event_type": TYPES[number % 3],
            "actor": fixed_actor(number),
            "occurred_at": iso(TIMES[number]),
            "context": {"ip_address": f"203.0.113.{number}", "user_agent": "Mozilla/5.0 (test)"},
            "details": {"number": number},
        }
        for number in range(FIXED)
    ]
    events = sorted(fixed + demo_data.story_events(datetime.now(UTC), org), key=lambda event: event["occurred_at"])
    ids = []
    for start in range(0, len(events), 25):
        status, body = local_api.call("POST", "/events/batch", {"events": events[start : start + 25]})
        assert status == 201, body
        ids += [recorded["event_id"] for recorded in body["events"]]
    for event, event_id in zip(events, ids, strict=True):
        event["event_id"] = event_id
    return {
        "org": org,
        "events": events,
        "count": len(events),
        "admin": token(org, "admin", "usr_ada"),
        "member": token(org, "member", "usr_grace"),
    }


def api_get(local_api: LocalApi, seeded: dict[str, Any], path: str, **query: str) -> Any:
    status, body = local_api.call(
        "GET", f"{path}?{urlencode(query)}", headers={"Authorization": f"Bearer {seeded['admin']}"}
    )
    assert status == 200, body
    return body


def story(seeded: dict[str, Any], keep: Any) -> list[dict[str, Any]]:
    return [event for event in seeded["events"] if keep(event)]


def katherines_logins(seeded: dict[str, Any]) -> list[dict[str, Any]]:
    return story(seeded, lambda event: event["event_type"] == "user.login" and event["actor"]["id"] == KATHERINE)


def unusual_login(seeded: dict[str, Any]) -> dict[str, Any]:
    """The story's night-time sign-in from a new address and device."""
    (event,) = story(seeded, lambda event: event.get("context", {}).get("ip_address") == demo_data.UNUSUAL_IP)
    return event


def billing_key_history(seeded: dict[str, Any]) -> list[dict[str, Any]]:
    return story(seeded, lambda event: BILLING_KEY in event.get("targets", []))


@pytest.fixture(scope="module")
def indexed(local_api: LocalApi, seeded: dict[str, Any]) -> dict[str, Any]:
    """The seeded organisation once the investigation helpers derived it from the stream
    (seconds after recording): actors, event types, the billing key's history and the
    night-time sign-in's signals. Polled, never a fixed wait."""
    types = sorted({event["event_type"] for event in seeded["events"]})
    wanted_id = unusual_login(seeded)["event_id"]
    deadline = page_time.monotonic() + 120
    while True:
        actors = api_get(local_api, seeded, "/actors", q="kath")["actors"]
        recorded = [entry["event_type"] for entry in api_get(local_api, seeded, "/event-types")["event_types"]]
        history = api_get(local_api, seeded, "/events", target_type="api_key", target_id=BILLING_KEY["id"])["events"]
        logins = api_get(local_api, seeded, "/events", event_type="user.login", actor_id=KATHERINE, limit="100")
        signals = {event["event_id"]: event["signals"] for event in logins["events"]}
        done = (
            [actor["id"] for actor in actors] == [KATHERINE]
            and recorded == types
            and len(history) == len(billing_key_history(seeded))
            and set(signals.get(wanted_id, [])) == {"new_ip", "new_user_agent"}
        )
        if done:
            return {"signals": signals}
        assert page_time.monotonic() < deadline, (
            f"not derived within two minutes: actors {actors}, types {recorded} (want {types}), "
            f"{len(history)} billing key events, night sign-in signals {signals.get(wanted_id)}"
        )
        page_time.sleep(0.5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not local_stack.CHROMIUM.exists():
        reason = f"no {local_stack.CHROMIUM} (`make browser` installs Debian's chromium)"
        if os.environ.get("AUDIT_LOG_REQUIRE_E2E") == "1":
            pytest.fail(f"AUDIT_LOG_REQUIRE_E2E=1 but {reason}")
        pytest.skip(reason)
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(local_stack.CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(timezone_id=VIEWER_ZONE, locale="en-GB", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def open_as(page: Any, local_api: LocalApi, bearer: str, query: str = "") -> None:
    page.goto(f"{local_api.admin_ui.url}{query}#token={bearer}")


def shown_times(page: Any) -> list[str]:
    """The `datetime` of every row's time, in table order."""
    page.locator("#log tbody tr").first.wait_for()
    times = page.evaluate("Array.from(document.querySelectorAll('#log tbody time'), (time) => time.dateTime)")
    return [str(value) for value in times]


def expected(seeded: dict[str, Any], keep: Any = lambda event: True) -> list[str]:
    return sorted((e["occurred_at"] for e in seeded["events"] if keep(e)), reverse=True)


def wait_for_rows(page: Any, count: int) -> None:
    # A locator assertion, not wait_for_function: the page's CSP forbids the eval that needs.
    expect(page.locator("#log tbody tr")).to_have_count(count, timeout=30_000)


def row_at(page: Any, occurred_at: str) -> Any:
    return page.locator("#log tbody tr", has=page.locator(f'time[datetime="{occurred_at}"]'))


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))


def tab_to(page: Any, wanted: str, presses: int = 25) -> None:
    """Press Tab until the element with id or text `wanted` has the focus."""
    for _ in range(presses):
        if focused(page) == wanted:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{wanted!r} is not reached by Tab (focus is on {focused(page)!r})")


def test_an_admin_sees_the_events_newest_first_in_local_time(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    assert shown_times(page) == expected(seeded)[:50]
    newest = max(seeded["events"], key=lambda event: event["occurred_at"])
    first = page.locator("#log tbody tr").first
    local = datetime.fromisoformat(newest["occurred_at"]).astimezone(ZoneInfo(VIEWER_ZONE))
    time = first.locator("time")
    assert f"{local.day} {local:%b %Y, %H:%M:%S}" in time.inner_text()  # en-GB: "1 Dec", not "01 Dec"
    assert time.get_attribute("title") == newest["occurred_at"].replace("T", " ").replace("Z", " UTC")
    assert first.locator("code").inner_text() == newest["event_type"]
    actor = first.locator(".actor")
    assert actor.get_attribute("title", timeout=1000).startswith(f"User id: {newest['actor']['id']}")
    assert "#token=" not in page.url, "the token leaves the address bar"

    first.locator("summary").click()
    details = first.locator("dl")
    assert newest["context"]["ip_address"] in details.inner_text()
    assert newest["event_id"] in details.inner_text()
    assert newest["occurred_at"].replace("T", " ").replace("Z", " UTC") in details.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit-log.png"), full_page=False)


def test_events_read_as_labels_beside_their_codes_in_the_settings_shell(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    labels = {
        "user.login": "Signed in",
        "member.invited": "Member invited",
        "api_key.rotated": "API key rotated",
        "api_key.created": "API key created",
    }
    for row in page.locator("#log tbody tr").all()[:50]:
        code = row.locator("code").inner_text()
        assert row.locator(".event-label").inner_text() == labels[code], code
    sidebar = page.get_by_role("navigation", name="Organisation")
    assert sidebar.get_by_role("link").all_inner_texts() == ["Members", "Admin Overview", "Audit Log"]
    assert sidebar.get_by_role("link", name="Audit Log").get_attribute("aria-current") == "page"
    assert page.get_by_role("heading", level=1).inner_text() == "Audit Log"
    # One live region, and what it says is said nowhere else on the page.
    live = page.locator("[role=status], [role=alert], [aria-live]")
    expect(live).to_have_count(1)
    expect(live).to_have_text(re.compile(r"^50 events shown(, \d+ marked unusual)?\.$"))
    copies = live.evaluate(
        """(status) => Array.from(document.body.querySelectorAll('*')).filter(
             (element) => !status.contains(element) && !element.contains(status)
               && element.textContent.includes(status.textContent)).length"""
    )
    assert copies == 0


def test_filtering_by_event_type_offers_the_recorded_types_and_lives_in_the_url(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    recorded = sorted({event["event_type"] for event in seeded["events"]})
    options = page.get_by_label("Event type", exact=True).locator("option")
    expect(options).to_have_count(len(recorded) + 1)  # the types GET /event-types names, and "any"
    assert options.evaluate_all("(all) => all.map((option) => option.value)") == ["", *recorded]
    expect(options.nth(recorded.index("member.invited") + 1)).to_have_text("Member invited (member.invited)")

    page.get_by_label("Event type", exact=True).select_option("member.invited")
    page.get_by_role("button", name="Apply filters").click()
    invited = expected(seeded, lambda event: event["event_type"] == "member.invited")
    wait_for_rows(page, len(invited))

    assert shown_times(page) == invited
    assert set(page.locator("#log tbody code").all_inner_texts()) == {"member.invited"}
    assert "event_type=member.invited" in page.url
    expect(page.locator("#chips")).to_contain_text("Member invited")
    page.reload()  # a shared link opens the same view
    wait_for_rows(page, len(invited))
    assert page.get_by_label("Event type", exact=True).input_value() == "member.invited"


def test_type_and_user_together_in_a_shared_link(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"], "?event_type=user.login&actor_id=usr_ada")
    adas_logins = expected(
        seeded, lambda event: event["event_type"] == "user.login" and event["actor"]["id"] == "usr_ada"
    )
    wait_for_rows(page, len(adas_logins))

    assert shown_times(page) == adas_logins
    expect(page.get_by_role("combobox", name="User")).to_have_value("Ada Lovelace")


def test_a_shared_link_names_its_user_even_when_no_event_shows_them(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    """The address holds the actor id; the chip and the field name the user (GET /actors)."""
    open_as(page, local_api, seeded["admin"], f"?event_type=member.removed&actor_id={KATHERINE}")

    expect(page.locator("#status")).to_have_text("No events match these filters.")
    expect(page.locator("#chips")).to_contain_text("Katherine Johnson")
    expect(page.get_by_role("combobox", name="User")).to_have_value("Katherine Johnson")


def test_clicking_a_user_shows_only_that_users_events(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    page.locator(".actor", has_text="Grace Hopper").first.click()
    graces = expected(seeded, lambda event: event["actor"]["id"] == "usr_grace")
    wait_for_rows(page, len(graces))

    assert shown_times(page) == graces
    assert set(page.locator(".actor-name").all_inner_texts()) == {"Grace Hopper"}
    assert "actor_id=usr_grace" in page.url


def test_load_more_appends_the_next_page_up_to_the_beginning_of_the_log(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    assert "Beginning of the log reached" not in page.locator("#status").inner_text()

    page.get_by_role("button", name="Load more").focus()
    page.keyboard.press("Enter")  # keyboard, not only the mouse
    wait_for_rows(page, seeded["count"])

    assert shown_times(page) == expected(seeded)
    assert page.get_by_role("button", name="Load more").is_hidden()
    expect(page.locator("#status")).to_contain_text(f"{seeded['count']} events shown")
    expect(page.locator("#status .end")).to_have_text("Beginning of the log reached.")


def test_dates_filter_whole_days_in_the_viewers_timezone(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    """18:45 UTC on the 20th is already the 21st in Kolkata; 18:20 UTC is still the 20th."""
    open_as(page, local_api, seeded["admin"], "?from=2026-11-21&to=2026-11-21")
    wait_for_rows(page, 1)
    assert shown_times(page) == ["2026-11-20T18:45:00.000Z"]
    expect(page.locator("#status .end")).to_have_text("No more events.")

    page.get_by_label("From", exact=True).fill("2026-11-20")
    page.get_by_label("To", exact=True).fill("2026-11-20")
    page.get_by_role("button", name="Apply filters").click()
    wait_for_rows(page, 50)
    assert "from=2026-11-20&to=2026-11-20" in page.url
    on_the_20th = lambda event: "2026-11-19T18:30" <= event["occurred_at"] < "2026-11-20T18:30"  # noqa: E731
    assert shown_times(page) == expected(seeded, on_the_20th)[:50]

    page.get_by_label("From", exact=True).fill("2026-11-01")
    page.get_by_label("To", exact=True).fill("2026-11-02")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#status")).to_have_text("No events match these filters.")
    assert page.locator("#log").is_hidden()


def test_a_member_is_sent_to_settings_with_a_reason(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["member"])

    page.wait_for_url("**/settings?reason=admins-only")
    assert "only available to ORG Admins" in page.get_by_role("alert").inner_text()


def test_without_a_token_the_page_asks_to_sign_in(page: Any, local_api: LocalApi) -> None:
    page.goto(local_api.admin_ui.url)

    page.get_by_role("heading", name="Sign in to see the Audit Log").wait_for()
    assert page.locator("#log").is_hidden()


def test_a_refused_token_leads_back_to_sign_in_and_a_valid_one_shows_the_log(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    forged = seeded["admin"][:-4] + ("AAAA" if not seeded["admin"].endswith("AAAA") else "BBBB")
    open_as(page, local_api, forged)

    # API Gateway answers a refused token with 401 (the sign-in panel); sam local with 502,
    # an error whose panel leads back to signing in.
    page.locator("#error:not([hidden]), #sign-in:not([hidden])").first.wait_for()
    if page.locator("#error").is_visible():
        page.get_by_role("button", name="Sign in with another token").click()
    page.get_by_role("heading", name="Sign in to see the Audit Log").wait_for()
    page.get_by_label("Or paste an access token").fill(seeded["admin"])
    page.get_by_role("button", name="Use this token").click()
    wait_for_rows(page, 50)


def test_api_gateways_401_for_a_refused_token_brings_the_sign_in_panel_back(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    """What API Gateway answers a token the authorizer refuses (sam local answers 502):
    the sign-in panel says so, forgets the token, and takes the next one."""
    refused = {"count": 0}

    def as_api_gateway(route: Any) -> None:
        refused["count"] += 1
        headers = {"Access-Control-Allow-Origin": local_api.admin_ui.page, "Content-Type": "application/json"}
        route.fulfill(status=401, headers=headers, body='{"message":"Unauthorized"}')

    page.route(f"{local_api.admin_ui.gateway}/events?*", as_api_gateway)
    open_as(page, local_api, "expired.token.value")
    panel = page.get_by_role("region", name="Sign in to see the Audit Log")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("refused the access token")
    expect(panel).to_be_focused()
    assert refused["count"] == 1
    assert page.evaluate("sessionStorage.getItem('audit-log-token')") is None, "the refused token is forgotten"

    page.unroute(f"{local_api.admin_ui.gateway}/events?*")
    page.get_by_label("Or paste an access token").fill(seeded["admin"])
    page.keyboard.press("Enter")
    wait_for_rows(page, 50)
    assert panel.is_hidden()


def test_a_request_the_api_refuses_offers_no_retry(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"], "?event_type=Not-A-Type")  # the API answers 400

    page.get_by_role("heading", name="The Audit Log could not be loaded").wait_for()
    assert "event_type" in page.locator("#error-detail").inner_text()
    assert page.get_by_role("button", name="Try again").is_hidden()
    assert page.get_by_role("button", name="Sign in with another token").is_visible()


# --- investigating: a user's sign-ins, a resource's history --------------------------------


def test_picking_a_user_by_keyboard_shows_their_sign_ins_with_the_unusual_one_marked(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    """The README's first question, keyboard only: "kath", Down, Enter; then "Review sign-ins"."""
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    page.evaluate("document.activeElement.blur()")
    tab_to(page, "actor")
    picker = page.get_by_role("combobox", name="User")
    page.keyboard.type("kath")
    suggestion = page.get_by_role("listbox", name="Matching users").get_by_role("option", name="Katherine Johnson")
    expect(suggestion).to_be_visible()
    expect(picker).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(picker).to_have_attribute("aria-activedescendant", suggestion.get_attribute("id") or "")
    expect(suggestion).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")

    page.wait_for_url(f"**actor_id={KATHERINE}")
    expect(picker).to_have_value("Katherine Johnson")
    expect(picker).to_be_focused()
    expect(page.locator("#chips")).to_contain_text("Katherine Johnson")
    everything = story(seeded, lambda event: event["actor"]["id"] == KATHERINE)
    wait_for_rows(page, len(everything))

    tab_to(page, "sign-ins")
    expect(page.get_by_role("button", name="Review sign-ins of Katherine Johnson")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url("**event_type=user.login**")
    logins = katherines_logins(seeded)
    wait_for_rows(page, len(logins))
    assert shown_times(page) == sorted((event["occurred_at"] for event in logins), reverse=True)

    night = row_at(page, unusual_login(seeded)["occurred_at"])
    assert night.locator(".signal").all_inner_texts() == ["New IP address", "New device"]
    assert "03:00:00" in night.locator("time").inner_text(), "03:00 in the demo's (and this viewer's) timezone"
    assert "unusual" in (night.get_attribute("class") or "")
    week_ago = iso(datetime.now(UTC) - timedelta(days=7))
    for event in logins:
        marks = row_at(page, event["occurred_at"]).locator(".signal")
        expect(marks).to_have_count(len(indexed["signals"][event["event_id"]]))
        if event["occurred_at"] > week_ago and event is not unusual_login(seeded):
            expect(marks).to_have_count(0)  # her ordinary mornings this week
    flagged = sum(1 for signals in indexed["signals"].values() if signals)
    expect(page.locator("#status")).to_have_text(
        f"{len(logins)} sign-ins shown, {flagged} marked unusual. No more events."
    )
    page.screenshot(path=str(SCREENSHOTS / "audit-log-sign-ins.png"))


def test_the_user_picker_follows_the_combobox_pattern(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    picker = page.get_by_role("combobox", name="User")
    listbox = page.get_by_role("listbox", name="Matching users")
    katherine = listbox.get_by_role("option", name="Katherine Johnson")

    picker.focus()
    page.keyboard.type("katherine jo")  # the start of several words
    expect(katherine).to_be_visible()
    page.keyboard.press("Escape")  # closes the list, keeps the text
    expect(listbox).to_be_hidden()
    expect(picker).to_have_attribute("aria-expanded", "false")
    expect(picker).to_have_value("katherine jo")
    page.keyboard.press("Escape")  # then clears the field
    expect(picker).to_have_value("")

    page.keyboard.type("zzz-nobody")
    note = listbox.get_by_role("option", name="No user matches “zzz-nobody”.")
    expect(note).to_be_visible()
    expect(note).to_have_attribute("aria-disabled", "true")
    page.keyboard.press("ArrowDown")  # a screen reader hears the note
    expect(picker).to_have_attribute("aria-activedescendant", note.get_attribute("id") or "")
    page.keyboard.press("Enter")  # nothing to choose: the form says so and stays
    expect(page.locator("#actor:invalid")).to_have_count(1)
    assert picker.evaluate("(input) => input.validationMessage") == "No user matches “zzz-nobody”."
    assert "actor_id" not in page.url

    picker.fill("")
    page.keyboard.type("katherine@")  # the start of an email
    expect(katherine).to_be_visible()
    katherine.click()
    page.wait_for_url(f"**actor_id={KATHERINE}")
    expect(picker).to_have_value("Katherine Johnson")


def test_a_target_in_an_event_opens_that_resources_history(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    """The README's second question: who changed the billing API key, and when."""
    open_as(page, local_api, seeded["admin"], "?event_type=api_key.rotated")
    rotations = expected(seeded, lambda event: event["event_type"] == "api_key.rotated")
    wait_for_rows(page, min(50, len(rotations)))

    page.get_by_role("button", name="API key Billing API key").first.click()
    page.wait_for_url(f"**target_type=api_key&target_id={BILLING_KEY['id']}")
    history = billing_key_history(seeded)
    wait_for_rows(page, len(history))
    assert shown_times(page) == sorted((event["occurred_at"] for event in history), reverse=True)
    assert page.locator("#log tbody .actor-name").all_inner_texts() == [
        event["actor"]["name"] for event in sorted(history, key=lambda e: e["occurred_at"], reverse=True)
    ]
    assert {"Ada Lovelace", "Barbara Liskov"} <= set(page.locator("#log tbody .actor-name").all_inner_texts())
    assert "event_type" not in page.url, "the whole history, not only rotations"
    expect(page.locator("#chips li")).to_have_count(1)
    expect(page.locator("#chips li")).to_contain_text("History of API key Billing API key")
    expect(page.locator("#status")).to_have_text(f"{len(history)} events shown. No more events.")

    page.reload()  # a shared link names the key too
    wait_for_rows(page, len(history))
    expect(page.locator("#chips")).to_contain_text("Billing API key")
    page.get_by_role("button", name="Remove filter: History of API key Billing API key").click()
    wait_for_rows(page, 50)
    assert "target_id" not in page.url


def test_the_page_is_readable_at_320_pixels(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], indexed: dict[str, Any]
) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    open_as(page, local_api, seeded["admin"], "?actor_id=usr_maximiliana")
    wait_for_rows(page, 1)
    page.locator("#log tbody tr summary").first.click()  # the widest content: details open

    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling"
    region = page.evaluate(
        "(() => { const r = document.querySelector('.table-region'); return [r.scrollWidth, r.clientWidth]; })()"
    )
    assert region[0] <= region[1], f"the table fits its region at 320 px: {region}"
    # A long email wraps after its "@", before a dot or after a hyphen, never inside a word.
    breaks = page.evaluate(
        """(() => {
          const email = document.querySelector('#log tbody .actor-email');
          const lines = [];
          let top = null;
          for (const node of email.childNodes) {
            if (node.nodeType !== Node.TEXT_NODE) continue;
            for (let at = 0; at < node.length; at += 1) {
              const range = document.createRange();
              range.setStart(node, at);
              range.setEnd(node, at + 1);
              const y = range.getClientRects()[0].top;
              if (top !== null && y > top + 2) lines.push([at === 0 ? "" : node.data[at - 1], node.data]);
              top = y;
            }
          }
          return [lines, email.getBoundingClientRect().height, email.textContent];
        })()"""
    )
    assert breaks[2] == LONG_EMAIL
    assert breaks[1] > 20, "the email takes more than one line at 320 px"
    assert breaks[0], "the email wraps"
    assert all(before in ("", "-") for before, _ in breaks[0]), f"lines start only at a break point: {breaks[0]}"
    page.screenshot(path=str(Path(SCREENSHOTS / "audit-log-320.png")))

    # The picker works at 320 px too.
    picker = page.get_by_role("combobox", name="User")
    picker.fill("")
    picker.press_sequentially("ada")
    option = page.get_by_role("listbox", name="Matching users").get_by_role("option", name="Ada Lovelace")
    expect(option).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "the suggestions fit too"


# --- the ledger, verified in the browser -------------------------------------------------


def sealed_ledger(local_api: LocalApi, seeded: dict[str, Any]) -> dict[str, Any]:
    """The seeded organisation's latest checkpoint once every seeded event is in it."""
    deadline = datetime.now(UTC) + timedelta(minutes=2)
    while True:
        status, checkpoint = local_api.call(
            "GET", "/ledger/checkpoint", headers={"Authorization": f"Bearer {seeded['admin']}"}
        )
        assert status == 200, checkpoint
        if checkpoint["tree_size"] >= seeded["count"] or datetime.now(UTC) > deadline:
            assert checkpoint["tree_size"] == seeded["count"], "the seeded events were sealed within two minutes"
            return dict(checkpoint)
        page_time.sleep(1)


def ledger_mark(page: Any) -> Any:
    mark = page.locator("#ledger")
    expect(mark).not_to_have_text("", timeout=30_000)
    return mark


def remember(page: Any, origin: str, body: str) -> None:
    """What this browser saw on an earlier visit (set before the page's own script runs)."""
    key, value = json.dumps(f"audit-log-ledger-seen:{origin}"), json.dumps(json.dumps({"body": body}))
    page.add_init_script(f"localStorage.setItem({key}, {value})")


def other_body(checkpoint: dict[str, Any], size: int, root: bytes = b"\x07" * 32) -> str:
    timestamp = checkpoint["timestamp"]
    return f"{checkpoint['origin']}\n{size}\n{base64.b64encode(root).decode()}\ntimestamp {timestamp}\n"


def test_the_page_verifies_the_signed_ledger_and_an_events_inclusion(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    checkpoint = sealed_ledger(local_api, seeded)
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    mark = ledger_mark(page)
    expect(mark).to_contain_text(f"Verified: the signed ledger holds {seeded['count']} events")
    assert "failed" not in (mark.get_attribute("class") or "")
    stored = page.evaluate(f"localStorage.getItem({json.dumps('audit-log-ledger-seen:' + checkpoint['origin'])})")
    assert json.loads(stored)["body"] == checkpoint["body"], "the browser keeps what it verified"

    first = page.locator("#log tbody tr").first
    first.locator("summary").click()
    first.get_by_role("button", name="Verify in the ledger").click()
    result = first.locator(".proof")
    expect(result).to_contain_text("Verified: event", timeout=30_000)
    expect(result).to_contain_text(f"of the {seeded['count']} in the signed checkpoint")


@pytest.mark.parametrize(
    ("seen", "named"),
    [
        ("same size, other root", "two different ledgers of"),
        ("smaller, other root", "does not extend the one this browser saw"),
        ("larger", "fewer than the"),
    ],
)
def test_a_rewritten_history_is_named_on_the_next_visit(
    page: Any, local_api: LocalApi, seeded: dict[str, Any], seen: str, named: str
) -> None:
    checkpoint = sealed_ledger(local_api, seeded)
    size = {"same size, other root": seeded["count"], "smaller, other root": 10, "larger": seeded["count"] + 5}[seen]
    remember(page, checkpoint["origin"], other_body(checkpoint, size))
    open_as(page, local_api, seeded["admin"])
    mark = ledger_mark(page)
    expect(mark).to_contain_text("Ledger verification failed")
    expect(mark).to_contain_text(named)
    assert "failed" in (mark.get_attribute("class") or "")


def test_a_checkpoint_signed_by_another_key_is_named(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    sealed_ledger(local_api, seeded)
    other = ec.generate_private_key(ec.SECP256R1())
    spki = other.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def signed_by_another_key(route: Any) -> None:
        """The service's own answer (its headers kept), re-signed by a key not its own."""
        response = route.fetch()
        checkpoint = response.json()
        checkpoint["key_id"] = hashlib.sha256(spki).hexdigest()
        signature = other.sign(checkpoint["body"].encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint["signature"] = base64.b64encode(signature).decode()
        route.fulfill(response=response, json=checkpoint)

    page.route("**/ledger/checkpoint", signed_by_another_key)
    open_as(page, local_api, seeded["admin"])
    mark = ledger_mark(page)
    expect(mark).to_contain_text("the checkpoint is signed by another key")
    assert "failed" in (mark.get_attribute("class") or "")


def test_an_event_changed_behind_the_api_is_named(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    sealed_ledger(local_api, seeded)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local_api.dynamodb,
        region_name=local_stack.REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    newest = dynamodb.query(
        TableName=local_stack.TABLE_NAME,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"org#{seeded['org']}"}},
        ScanIndexForward=False,
        Limit=1,
    )["Items"][0]
    changed = {**newest, "details": {"S": json.dumps({"number": 9999})}}  # what only a raw write could do
    dynamodb.put_item(TableName=local_stack.TABLE_NAME, Item=changed)
    try:
        open_as(page, local_api, seeded["admin"])
        wait_for_rows(page, 50)
        first = page.locator("#log tbody tr").first
        first.locator("summary").click()
        first.get_by_role("button", name="Verify in the ledger").click()
        result = first.locator(".proof")
        expect(result).to_contain_text("changed after it was recorded", timeout=30_000)
        assert "failed" in (result.get_attribute("class") or "")
    finally:
        dynamodb.put_item(TableName=local_stack.TABLE_NAME, Item=newest)


# --- exports --------------------------------------------------------------------------------

# The export organisation's events: from 06:00 UTC on 25 November (11:30 in Kolkata), a
# minute apart, and one a day later, outside a From/To of the 25th.
EXPORT_DAY = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
EXPORT_TYPES = ["member.invited", "user.login"]
CSV_HEADER = (
    "event_id,occurred_at,recorded_at,event_type,actor_id,actor_type,actor_name,actor_email,"
    "targets,ip_address,user_agent,details,signals"
)
# From the click to the file: sam local starts the worker's container on the first export.
EXPORT_WAIT_MS = 180_000


@pytest.fixture(scope="module")
def exporting(local_api: LocalApi) -> dict[str, Any]:
    """An organisation of its own for the export tests: each export records
    `audit_log.exported` in the log it exports, which the other tests' counts and sealed
    ledger must not see."""
    org = f"org_export_{secrets.token_hex(4)}"
    times = [EXPORT_DAY + timedelta(minutes=number) for number in range(8)] + [EXPORT_DAY + timedelta(days=1)]
    events = [
        {
            "org_id": org,
            "event_type": EXPORT_TYPES[number % 2] if number < 8 else "member.invited",
            "actor": ACTORS[number % 2],
            "occurred_at": iso(moment),
            "context": {"ip_address": f"198.51.100.{number}", "user_agent": "Mozilla/5.0 (export test)"},
            "details": {"number": number},
        }
        for number, moment in enumerate(times)
    ]
    status, body = local_api.call("POST", "/events/batch", {"events": events})
    assert status == 201, body
    for event, recorded in zip(events, body["events"], strict=True):
        event["event_id"] = recorded["event_id"]
    return {
        "org": org,
        "events": events,
        "admin": token(org, "admin", "usr_ada", name="Ada Lovelace", email="ada@example.com"),
    }


def newest_first(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in sorted(events, key=lambda e: (e["occurred_at"], e["event_id"]), reverse=True)]


def export_panel(page: Any) -> Any:
    return page.get_by_role("region", name="Export", exact=True)


def downloaded(page: Any, control: Any) -> tuple[str, str]:
    """Click `control` and take the download it starts: (suggested file name, its text)."""
    with page.expect_download(timeout=30_000) as started:
        control.click()
    download = started.value
    assert download.failure() is None, download.failure()
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def open_recent_exports(page: Any) -> Any:
    """The Recent exports list, opened; its newest row once listed."""
    page.locator("#recent-exports > summary").click()
    newest = page.locator("#exports tbody tr").first
    newest.wait_for()
    return newest


def test_an_admin_exports_the_filtered_view_as_csv_and_downloads_it(
    page: Any, local_api: LocalApi, exporting: dict[str, Any]
) -> None:
    """Type and dates set: exactly those filters are exported (dates as whole days in the
    viewer's timezone, as the list reads them); the file comes from the Download link, the
    export is listed in Recent exports, and the log records it as `audit_log.exported`."""
    open_as(page, local_api, exporting["admin"], "?event_type=member.invited&from=2026-11-25&to=2026-11-25")
    invited = [e for e in exporting["events"] if e["event_type"] == "member.invited" and e["details"]["number"] < 8]
    wait_for_rows(page, len(invited))
    panel = export_panel(page)
    expect(panel.locator("#export-scope")).to_have_text(
        "Exports the events matching the filters applied: Event type: Member invited; "
        "From: 25 Nov 2026; To: 25 Nov 2026."
    )
    expect(panel.get_by_label("CSV (for spreadsheets)")).to_be_checked()

    with page.expect_request(lambda request: request.method == "POST" and request.url.endswith("/exports")) as posted:
        panel.get_by_role("button", name="Export", exact=True).click()
    assert json.loads(posted.value.post_data or "") == {
        "format": "csv",
        "event_type": "member.invited",
        "since": "2026-11-24T18:30:00.000Z",  # the 25th from midnight in Kolkata
        "until": "2026-11-25T18:30:00.000Z",
    }
    expect(page.locator("#status")).to_contain_text("CSV export started", timeout=60_000)
    link = panel.get_by_role("link", name="Download CSV")
    expect(link).to_be_visible(timeout=EXPORT_WAIT_MS)
    expect(panel.locator("#export-progress")).to_have_text(f"CSV export succeeded: {len(invited)} events.")
    expect(page.locator("#status")).to_contain_text(f"CSV export ready, {len(invited)} events")
    expect(page.locator("[role=status], [role=alert], [aria-live]")).to_have_count(1)

    name, text = downloaded(page, link)
    assert name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert text.splitlines()[0] == CSV_HEADER
    assert {row["event_type"] for row in rows} == {"member.invited"}
    assert [row["event_id"] for row in rows] == newest_first(invited), "the day's invitations, newest first"

    listed = open_recent_exports(page)
    export_id = listed.get_attribute("data-export-id") or ""
    assert export_id.startswith("exp_")
    for shown in ("CSV", "Event type: Member invited; From: 25 Nov 2026; To: 25 Nov 2026", "Ada Lovelace"):
        expect(listed).to_contain_text(shown)
    expect(listed).to_contain_text("Succeeded")
    expect(listed).to_contain_text(f"{len(invited)} events")
    _, again = downloaded(page, listed.get_by_role("button", name=re.compile(r"^Download the CSV export of")))
    assert again == text, "the list's Download fetches fresh links to the same file"

    page.get_by_role("button", name="Clear", exact=True).click()
    recorded = page.locator("#log tbody tr").first
    expect(recorded.locator("code")).to_have_text("audit_log.exported")
    expect(recorded.locator(".event-label")).to_have_text("Audit Log exported")
    expect(recorded.locator(".actor-name")).to_have_text("Ada Lovelace")
    expect(recorded.locator(".target")).to_contain_text(export_id)
    recorded.locator("summary").click()
    assert '"format": "csv"' in recorded.locator("pre").inner_text()

    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "the Export section fits at 320 px"


def test_an_ndjson_export_comes_with_its_proof_and_both_verify(
    page: Any, local_api: LocalApi, exporting: dict[str, Any]
) -> None:
    """Keyboard only: the verifiable format, then Export. Both files download, and the
    client's verifier accepts them against the ledger's public key."""
    from audit_log_client.checkpoints import load_public_key
    from audit_log_client.exports import verify_export

    open_as(page, local_api, exporting["admin"], "?event_type=user.login")
    logins = [e for e in exporting["events"] if e["event_type"] == "user.login"]
    wait_for_rows(page, len(logins))
    panel = export_panel(page)
    expect(panel.locator("#export-scope")).to_have_text(
        "Exports the events matching the filters applied: Event type: Signed in."
    )
    panel.get_by_label("NDJSON (verifiable, with proof)").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(panel.get_by_role("button", name="Export", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#status")).to_contain_text("NDJSON export started", timeout=60_000)
    file_link = panel.get_by_role("link", name="Download NDJSON")
    proof_link = panel.get_by_role("link", name="Download proof")
    expect(file_link).to_be_visible(timeout=EXPORT_WAIT_MS)
    expect(proof_link).to_be_visible()
    expect(page.locator("#status")).to_contain_text(f"NDJSON export ready, {len(logins)} events")

    name, text = downloaded(page, file_link)
    assert name.endswith(".ndjson")
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["event_id"] for line in lines] == newest_first(logins)
    assert {line["event_type"] for line in lines} == {"user.login"}
    proof_name, proof_text = downloaded(page, proof_link)
    assert proof_name.endswith(".proof.json")
    export_file = local_stack.LOCAL / f"browser-{name}"
    export_file.write_text(text, encoding="utf-8")
    try:
        key = load_public_key(json.dumps(api_get(local_api, exporting, "/ledger/public-key")))
        verified = verify_export(export_file, json.loads(proof_text), key)
    finally:
        export_file.unlink()
    assert verified.events == len(logins)
    assert not verified.complete, "a filtered export proves its events are in the ledger, not that none is missing"

    listed = open_recent_exports(page)
    expect(listed).to_contain_text("NDJSON (verifiable)")
    expect(listed).to_contain_text("Event type: Signed in")
    for button in (r"^Download the NDJSON export of", r"^Download the proof of the NDJSON export of"):
        expect(listed.get_by_role("button", name=re.compile(button))).to_be_visible()


def test_a_download_link_past_its_expiry_is_presigned_again_when_clicked(
    page: Any, local_api: LocalApi, exporting: dict[str, Any]
) -> None:
    """Presigned links last ten minutes: here every answer says they lapsed a minute ago,
    so the Download link asks GET /exports/{id} for a fresh one instead of following it."""
    lookups = {"count": 0}

    def already_lapsed(route: Any) -> None:
        response = route.fetch()
        answer = response.json()
        if answer.get("download_expires_at"):
            lookups["count"] += 1
            answer["download_expires_at"] = iso(datetime.now(UTC) - timedelta(minutes=1))
        route.fulfill(response=response, json=answer)

    page.route(f"{local_api.admin_ui.gateway}/exports/exp_*", already_lapsed)
    open_as(page, local_api, exporting["admin"], "?actor_id=usr_grace")
    graces = [e for e in exporting["events"] if e["actor"]["id"] == "usr_grace"]
    wait_for_rows(page, len(graces))
    panel = export_panel(page)
    expect(panel.locator("#export-scope")).to_contain_text("User: Grace Hopper")
    panel.get_by_role("button", name="Export", exact=True).click()
    link = panel.get_by_role("link", name="Download CSV")
    expect(link).to_be_visible(timeout=EXPORT_WAIT_MS)
    assert lookups["count"] == 1, "the answer that said it succeeded"

    _, text = downloaded(page, link)
    assert lookups["count"] == 2, "the lapsed link was presigned again"
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["event_id"] for row in rows] == newest_first(graces)
    assert {row["actor_id"] for row in rows} == {"usr_grace"}


def test_an_export_the_service_refuses_is_explained_and_a_401_asks_to_sign_in(
    page: Any, local_api: LocalApi, exporting: dict[str, Any]
) -> None:
    answers = [(503, {"message": "Service Unavailable"}), (401, {"message": "Unauthorized"})]

    def refused(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        status, body = answers.pop(0)
        headers = {"Access-Control-Allow-Origin": local_api.admin_ui.page, "Content-Type": "application/json"}
        route.fulfill(status=status, headers=headers, body=json.dumps(body))

    page.route(f"{local_api.admin_ui.gateway}/exports", refused)
    open_as(page, local_api, exporting["admin"])
    expect(page.locator("#status")).to_contain_text("events shown", timeout=30_000)
    shown = page.locator("#log tbody tr").count()  # the seeded events and the exports so far
    panel = export_panel(page)
    expect(panel.locator("#export-scope")).to_have_text("Exports the whole log: no filters applied.")
    export = panel.get_by_role("button", name="Export", exact=True)

    export.click()
    expect(panel.locator("#export-progress")).to_have_text("The export could not be started: Service Unavailable")
    expect(page.locator("#status")).to_contain_text("Export not started: Service Unavailable")
    expect(export).not_to_have_attribute("aria-disabled", "true")
    expect(page.locator("#log tbody tr")).to_have_count(shown)  # the page goes on

    export.click()
    signing_in = page.get_by_role("region", name="Sign in to see the Audit Log")
    expect(signing_in).to_be_visible()
    expect(signing_in).to_contain_text("refused the access token")
    expect(panel).to_be_hidden()
    assert not answers


# --- streams --------------------------------------------------------------------------------

# What a hostile destination (or a stream's stored state) could hand the page: markup, which
# the page must show as the characters it is, never as elements.
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script><b>bold</b>"
# From a click to what the function containers answer: sam local starts a stream function's
# container on its first request, and delivery runs in the local poller's rhythm.
STREAM_WAIT_MS = 120_000


class Receiver:
    """A webhook destination on this machine, on Docker's bridge where the function
    containers reach it (under `make local` private addresses are allowed): it records every
    POST and answers each path what `answers` says (default 200 "ok")."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: dict[str, tuple[int, str]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append({"path": path, "headers": headers, "body": body})
                status, text = receiver.answers.get(path, (200, "ok"))
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.host = local_stack.bridge_gateway()
        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [message for message in list(self.received) if message["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver(local_api: LocalApi) -> Iterator[Receiver]:
    destination = Receiver()
    yield destination
    destination.close()


def signed_with(message: dict[str, Any], secret: str) -> bool:
    """Whether `message` carries a Standard Webhooks signature made with `secret`."""
    headers = message["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + message["body"]
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return f"v1,{expected}" in headers.get("webhook-signature", "").split()


@pytest.fixture
def streaming(local_api: LocalApi) -> Iterator[dict[str, Any]]:
    """An organisation of its own, with a few events, for one stream test (an organisation
    has at most five streams, and each change is recorded in its log); whatever streams
    the test leaves are deleted afterwards, so nothing goes on delivering."""
    org = f"org_stream_{secrets.token_hex(4)}"
    events = [
        {
            "org_id": org,
            "event_type": ["user.login", "member.invited", "api_key.rotated"][number],
            "actor": ACTORS[number % 2],
            "occurred_at": iso(datetime(2026, 11, 28, 8, number, tzinfo=UTC)),
            "context": {"ip_address": f"192.0.2.{number}", "user_agent": "Mozilla/5.0 (stream test)"},
            "details": {"number": number},
        }
        for number in range(3)
    ]
    status, body = local_api.call("POST", "/events/batch", {"events": events})
    assert status == 201, body
    admin = token(org, "admin", "usr_ada", name="Ada Lovelace", email="ada@example.com")
    auth = {"Authorization": f"Bearer {admin}"}
    # The panel offers the types recorded (GET /event-types), which the indexer derives
    # from the table's stream within seconds, longer on a loaded machine: wait for them.
    deadline = page_time.monotonic() + 120
    while True:
        status, types = local_api.call("GET", "/event-types", headers=auth)
        if status == 200 and len(types["event_types"]) == len(events):
            break
        assert page_time.monotonic() < deadline, f"the event types indexed within 120 s: {status} {types}"
        page_time.sleep(1)
    yield {"org": org, "events": events, "admin": admin, "auth": auth}
    status, listed = local_api.call("GET", "/streams", headers=auth)
    for stream in listed.get("streams", []) if status == 200 else []:
        local_api.call("DELETE", f"/streams/{stream['stream_id']}", headers=auth)


def add_stream(local_api: LocalApi, streaming: dict[str, Any], **fields: Any) -> dict[str, Any]:
    status, stream = local_api.call("POST", "/streams", fields, headers=streaming["auth"])
    assert status == 201, stream
    return dict(stream)


def listed_streams(local_api: LocalApi, streaming: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = local_api.call("GET", "/streams", headers=streaming["auth"])
    assert status == 200, body
    return list(body["streams"])


def stream_where(
    local_api: LocalApi, streaming: dict[str, Any], stream_id: str, done: Any, what: str
) -> dict[str, Any]:
    """The stream as GET /streams answers once `done(stream)` holds (polled: delivery runs
    in the background)."""
    deadline = page_time.monotonic() + STREAM_WAIT_MS / 1000
    while True:
        (stream,) = [s for s in listed_streams(local_api, streaming) if s["stream_id"] == stream_id]
        if done(stream):
            return stream
        assert page_time.monotonic() < deadline, f"not {what} within {STREAM_WAIT_MS // 1000} s: {stream}"
        page_time.sleep(1)


def streams_panel(page: Any) -> Any:
    return page.get_by_role("region", name="Streams", exact=True)


def open_streams(page: Any, local_api: LocalApi, streaming: dict[str, Any]) -> Any:
    """The page as the organisation's admin, once its Streams section has listed them."""
    open_as(page, local_api, streaming["admin"])
    panel = streams_panel(page)
    expect(panel.locator("#streams-note")).to_have_text(re.compile(r"^(No streams yet|\d+ streams?:)"), timeout=60_000)
    return panel


def stream_row(panel: Any, stream_id: str) -> Any:
    return panel.locator(f'#stream-list tbody tr[data-stream-id="{stream_id}"]')


def cell_of(row: Any, column: str) -> Any:
    """The row's cell under the column headed `column`."""
    columns = ["Stream", "State", "Delivered up to", "Lag", "Last delivery", "Actions"]
    return row.get_by_role("cell").nth(columns.index(column))


def live_region(page: Any) -> Any:
    live = page.locator("[role=status], [role=alert], [aria-live]")
    expect(live).to_have_count(1)
    return live


def local_time_of(iso_time: str) -> str:
    moment = datetime.fromisoformat(iso_time).astimezone(ZoneInfo(VIEWER_ZONE))
    return f"{moment.day} {moment:%b %Y, %H:%M:%S}"


def test_an_admin_adds_a_webhook_stream_sees_its_test_delivered_and_its_secret_once(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """A webhook to a private address (allowed locally): created, tested at once (the
    receiver's 200 and its "ok" shown), its signing secret shown once with a Copy button;
    the secret signs what the receiver got, and no later answer or visit shows it again."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=local_api.admin_ui.page)
    panel = open_streams(page, local_api, streaming)
    expect(panel.locator("#streams-note")).to_have_text("No streams yet: add one below (at most 5).")
    panel.locator("#stream-add > summary").click()
    expect(panel.get_by_role("radio", name="Webhook")).to_be_checked()
    url = receiver.url(f"/hook-{streaming['org']}")
    panel.get_by_label("Webhook URL").fill(url)
    panel.locator(".stream-type-choices > summary").click()  # the types recorded, as the filter offers them
    panel.get_by_role("checkbox", name="user.login").check()
    event_types = panel.get_by_label("Event types (optional)")
    expect(event_types).to_have_value("user.login")
    event_types.press("End")
    event_types.press_sequentially(", member.invited")
    expect(panel.get_by_role("checkbox", name="member.invited")).to_be_checked()

    with page.expect_request(lambda request: request.method == "POST" and request.url.endswith("/streams")) as posted:
        panel.get_by_role("button", name="Add stream").click()
    assert json.loads(posted.value.post_data or "") == {
        "type": "webhook",
        "url": url,
        "event_types": ["user.login", "member.invited"],
    }
    created = panel.locator("#stream-created")
    expect(created).to_contain_text(f"Webhook stream added to {url}.", timeout=STREAM_WAIT_MS)
    expect(created.locator(".stream-test")).to_have_text("✓ Test event delivered: HTTP 200.", timeout=STREAM_WAIT_MS)
    expect(created.locator(".stream-response")).to_have_text("ok")
    expect(created).to_be_focused()
    secret_field = created.get_by_role("textbox", name="Signing secret")
    secret = secret_field.input_value()
    assert secret.startswith("whsec_")
    expect(secret_field).to_have_attribute("readonly", "")
    expect(secret_field).to_have_accessible_description(re.compile(r"^Shown only this once: copy it now"))
    expect(live_region(page)).to_contain_text("Test event delivered: HTTP 200.")
    expect(panel.get_by_label("Webhook URL")).to_have_value("")  # the form is cleared for the next one

    created.get_by_role("button", name="Copy", exact=True).click()
    expect(live_region(page)).to_contain_text("Signing secret copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    (test_message,) = receiver.at(f"/hook-{streaming['org']}")
    assert signed_with(test_message, secret), "the secret shown is the one the stream signs with"

    (stream,) = listed_streams(local_api, streaming)
    assert "secret" not in stream and secret not in json.dumps(stream), "GET /streams never repeats the secret"
    row = stream_row(panel, stream["stream_id"])
    expect(cell_of(row, "Stream")).to_contain_text(f"Webhook{url}")
    expect(cell_of(row, "Stream")).to_contain_text("Event types: user.login, member.invited")
    expect(cell_of(row, "Stream")).to_contain_text(f"Added {local_time_of(stream['created_at'])} by Ada Lovelace")
    expect(cell_of(row, "State")).to_contain_text("Active")
    expect(panel.locator("#streams-note")).to_have_text("1 stream: 1 active.")

    page.reload()
    panel = streams_panel(page)
    expect(stream_row(panel, stream["stream_id"])).to_be_visible(timeout=60_000)
    expect(panel.locator("#stream-created")).to_be_hidden()
    assert secret not in page.content(), "shown once: not after a reload"
    recorded = page.locator("#log tbody tr").first
    expect(recorded.locator("code")).to_have_text("log_stream.created", timeout=30_000)
    expect(recorded.locator(".target")).to_contain_text(stream["stream_id"])


def test_a_stream_the_service_refuses_has_its_reasons_beside_the_fields(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """An empty required field is named before anything is sent; the service's 422 is
    shown beside the field it names (which takes the focus); its 409 at five streams
    under the button."""
    panel = open_streams(page, local_api, streaming)
    panel.locator("#stream-add > summary").click()
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    panel.get_by_role("button", name="Add stream").click()
    url_field = panel.get_by_label("Webhook URL")
    expect(url_field).to_have_attribute("aria-invalid", "true")
    expect(url_field).to_have_accessible_description(re.compile(r"Enter the URL events are sent to\.$"))
    expect(url_field).to_be_focused()
    assert not [url for url in posts if url.endswith("/streams")], "nothing is sent without a URL"

    panel.get_by_role("radio", name="Amazon S3").check()
    expect(url_field).to_be_hidden()
    panel.get_by_label("Bucket").fill("audit-log-archive")
    role_arn = panel.get_by_label("Role ARN")
    role_arn.fill("arn:aws:iam::not-an-account:role/x")
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith("/streams")
    ) as answered:
        panel.get_by_role("button", name="Add stream").click()
    answer = answered.value
    assert answer.status == 422, answer.text()
    (reason,) = [error["message"] for error in answer.json()["errors"] if "role_arn" in error["field"]]
    expect(role_arn).to_have_attribute("aria-invalid", "true")
    expect(panel.locator("#stream-s3-role-arn-error")).to_have_text(reason)
    expect(role_arn).to_have_accessible_description(re.compile(re.escape(reason) + "$"))
    expect(role_arn).to_be_focused()
    expect(panel.get_by_label("Bucket")).not_to_have_attribute("aria-invalid", "true")
    expect(panel.locator("#stream-form-error")).to_have_text("The stream was not added: correct the fields marked.")
    expect(live_region(page)).to_contain_text("Stream not added:")
    role_arn.fill("arn:aws:iam::123456789012:role/audit-log-writer")  # editing the field clears its error
    expect(role_arn).not_to_have_attribute("aria-invalid", "true")
    expect(panel.locator("#stream-s3-role-arn-error")).to_have_text("")

    for number in range(5):
        add_stream(local_api, streaming, type="webhook", url=receiver.url(f"/five-{number}"))
    panel.get_by_role("radio", name="Webhook").check()
    url_field.fill(receiver.url("/sixth"))
    panel.get_by_role("button", name="Add stream").click()
    expect(panel.locator("#stream-form-error")).to_have_text(
        "The stream was not added: At most 5 streams per organisation; delete one first", timeout=STREAM_WAIT_MS
    )
    expect(live_region(page)).to_contain_text("Stream not added: At most 5 streams per organisation")
    expect(url_field).to_have_value(receiver.url("/sixth"))  # what was typed is kept
    panel.get_by_role("button", name="Refresh").click()
    expect(panel.locator("#stream-list tbody tr")).to_have_count(5)
    expect(panel.locator("#streams-note")).to_have_text(
        "5 streams: 5 active. The limit is 5: delete one to add another."
    )


def test_the_stream_list_shows_state_lag_and_failures_in_words(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """A live stream replaying the log from leaf 0 catches up (leaf, lag 0, its last
    delivery); failing and paused ones (a paused one takes a day of failures, so it is
    handed to the page by a route) read as words, marked and coloured besides, with their
    lag, failures and last error; Refresh reads the list again."""
    stream = add_stream(
        local_api, streaming, type="webhook", url=receiver.url(f"/replay-{streaming['org']}"), start_leaf=0
    )
    caught_up = stream_where(
        local_api,
        streaming,
        stream["stream_id"],
        lambda s: s["last_delivery_at"] and s["lag_events"] == 0 and s["delivered_up_to"] >= len(streaming["events"]),
        "caught up",
    )
    panel = open_streams(page, local_api, streaming)
    row = stream_row(panel, stream["stream_id"])
    leaf = f"Leaf {caught_up['delivered_up_to']}"
    expect(cell_of(row, "Delivered up to")).to_have_text(re.compile(rf"{leaf}\s*from leaf 0"))
    expect(cell_of(row, "Lag")).to_have_text(re.compile(r"0 events behind\s*up to date"))
    expect(cell_of(row, "Last delivery")).to_have_text(local_time_of(caught_up["last_delivery_at"]))
    expect(cell_of(row, "State")).to_have_text(re.compile(r"✓ Active\s*Consecutive failures: 0"))
    expect(row.get_by_role("button", name=re.compile("^Resume"))).to_have_count(0)
    assert len(receiver.at(f"/replay-{streaming['org']}")) >= len(streaming["events"])

    failing = {
        **caught_up,
        "stream_id": "str_01KBFAILING000000000000000",
        "type": "splunk_hec",
        "url": "https://splunk.example.com:8088/services/collector/event",
        "state": "failing",
        "delivered_up_to": 2,
        "lag_events": 1234,
        "consecutive_failures": 3,
        "last_error": "HTTP 503 from the destination",
        "last_delivery_at": None,
    }
    paused = {
        **caught_up,
        "stream_id": "str_01KBPAUSED0000000000000000",
        "type": "s3",
        "bucket": "audit-archive",
        "prefix": "org/",
        "role_arn": "arn:aws:iam::123456789012:role/audit-log-writer",
        "state": "paused",
        "paused_at": "2026-11-29T18:45:00.000Z",
        "delivered_up_to": 1,
        "lag_events": 7,
        "consecutive_failures": 412,
        "last_error": "AccessDenied: not authorized to perform sts:AssumeRole",
    }
    paused.pop("url")  # an S3 stream has none

    def with_others(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        answer = response.json()
        route.fulfill(response=response, json={"streams": [paused, failing, *answer["streams"]]})

    page.route(f"{local_api.admin_ui.gateway}/streams", with_others)
    panel.get_by_role("button", name="Refresh").click()
    expect(panel.locator("#stream-list tbody tr")).to_have_count(3)
    expect(panel.locator("#streams-note")).to_have_text("3 streams: 1 paused, 1 failing, 1 active.")
    expect(live_region(page)).to_contain_text("Streams refreshed: 3 streams: 1 paused, 1 failing, 1 active.")

    failing_row = stream_row(panel, failing["stream_id"])
    expect(cell_of(failing_row, "Stream")).to_contain_text(f"Splunk HEC{failing['url']}")
    expect(cell_of(failing_row, "State")).to_have_text(
        re.compile(r"⚠ Failing\s*Consecutive failures: 3\s*Last error: HTTP 503 from the destination")
    )
    expect(cell_of(failing_row, "Delivered up to")).to_contain_text("Leaf 2")
    expect(cell_of(failing_row, "Lag")).to_have_text("1,234 events behind")
    expect(cell_of(failing_row, "Last delivery")).to_have_text("Never")
    paused_row = stream_row(panel, paused["stream_id"])
    expect(cell_of(paused_row, "Stream")).to_contain_text("Amazon S3s3://audit-archive/org/")
    expect(cell_of(paused_row, "Stream")).to_contain_text(f"Role: {paused['role_arn']}")
    expect(cell_of(paused_row, "State")).to_have_text(
        re.compile(
            r"‖ Paused\s*since 30 Nov 2026, 00:15:00\s*Consecutive failures: 412\s*"
            r"Last error: AccessDenied: not authorized to perform sts:AssumeRole"
        )
    )
    expect(cell_of(paused_row, "Lag")).to_have_text("7 events behind")
    for state_row, word in ((failing_row, "Failing"), (paused_row, "Paused"), (row, "Active")):
        state = cell_of(state_row, "State").locator(".stream-state")
        expect(state).to_have_text(re.compile(rf"{word}$"))  # said in words, not by colour alone
        expect(state.locator(".mark")).to_have_attribute("aria-hidden", "true")
    colours = {
        cell_of(r, "State").locator(".stream-state").evaluate("(s) => getComputedStyle(s).color")
        for r in (failing_row, paused_row, row)
    }
    assert len(colours) == 3, "and told apart by colour too"
    for state_row in (failing_row, paused_row):
        expect(state_row.get_by_role("button", name=re.compile("^Resume the"))).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "the Streams section fits at 320 px"
    label = cell_of(failing_row, "Lag").evaluate("(cell) => getComputedStyle(cell, '::before').content")
    assert label.startswith('"Lag: "'), f"the cards name their fields (not said: the header is): {label}"
    page.screenshot(path=str(SCREENSHOTS / "streams-320.png"), full_page=True)


def test_a_failing_stream_is_resumed_and_a_paused_one_too(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """A destination that answers 503 makes a live stream fail (its last error and
    failures shown); Resume makes it active at once, and once the destination answers
    again it catches up; the log records who resumed it. A paused stream (a day of
    failures, handed over by a route) is resumed the same way, through the same route."""
    path = f"/down-{streaming['org']}"
    receiver.answers[path] = (503, "down for maintenance")
    stream = add_stream(local_api, streaming, type="webhook", url=receiver.url(path), start_leaf=0)
    failing = stream_where(
        local_api, streaming, stream["stream_id"], lambda s: s["state"] == "failing" and s["last_error"], "failing"
    )
    panel = open_streams(page, local_api, streaming)
    row = stream_row(panel, stream["stream_id"])
    state = cell_of(row, "State")
    expect(state).to_contain_text("⚠ Failing")
    expect(state).to_contain_text(f"Last error: {failing['last_error']}")
    expect(state).to_contain_text("Consecutive failures: ")
    assert failing["delivered_up_to"] == 0 and failing["lag_events"] >= len(streaming["events"])
    expect(cell_of(row, "Lag")).to_contain_text(f"{failing['lag_events']} events behind")

    # Resumed while the destination still fails (its own retries would make it active
    # once the destination answers), then the destination answers again.
    resume = row.get_by_role("button", name=f"Resume the webhook stream to {receiver.url(path)}")
    resume.focus()
    page.keyboard.press("Enter")
    expect(row.locator(".stream-outcome")).to_have_text(
        re.compile(r"^Resumed: active, delivering from leaf 0\.$"), timeout=STREAM_WAIT_MS
    )
    expect(state).to_contain_text("✓ Active")
    expect(resume).to_have_count(0)
    expect(row.get_by_role("button", name=re.compile("^Send a test event to"))).to_be_focused()
    expect(live_region(page)).to_contain_text(f"The webhook stream to {receiver.url(path)} resumed.")
    receiver.answers.pop(path)
    caught_up = stream_where(
        local_api,
        streaming,
        stream["stream_id"],
        lambda s: s["state"] == "active" and s["lag_events"] == 0,
        "delivered",
    )
    assert caught_up["consecutive_failures"] == 0
    page.get_by_role("button", name="Refresh").click()
    expect(cell_of(row, "Lag")).to_have_text(re.compile(r"0 events behind\s*up to date"))

    # Paused: what a day of failures leaves; the service's answer to Resume, the same stream active.
    paused = {**caught_up, "state": "paused", "paused_at": iso(datetime.now(UTC)), "consecutive_failures": 288}
    paused["last_error"] = "HTTP 503 from the destination"
    resumed = {**caught_up, "state": "active", "consecutive_failures": 0}
    calls: list[str] = []

    def paused_stream(route: Any) -> None:
        calls.append(route.request.method)
        headers = {"Access-Control-Allow-Origin": local_api.admin_ui.page, "Content-Type": "application/json"}
        if route.request.method == "GET":
            route.fulfill(status=200, headers=headers, body=json.dumps({"streams": [paused]}))
        elif route.request.method == "POST" and route.request.url.endswith("/resume"):
            route.fulfill(status=200, headers=headers, body=json.dumps(resumed))
        else:
            route.continue_()

    page.route(f"{local_api.admin_ui.gateway}/streams**", paused_stream)
    panel.get_by_role("button", name="Refresh").click()
    expect(state).to_contain_text("‖ Paused")
    expect(state).to_contain_text("Consecutive failures: 288")
    row.get_by_role("button", name=re.compile("^Resume the")).click()
    expect(state).to_contain_text("✓ Active")
    expect(row.locator(".stream-outcome")).to_have_text(
        f"Resumed: active, delivering from leaf {caught_up['delivered_up_to']}."
    )
    assert calls == ["GET", "POST"]
    page.unroute(f"{local_api.admin_ui.gateway}/streams**")

    page.get_by_role("button", name="Clear", exact=True).click()
    recorded = page.locator("#log tbody tr").first
    expect(recorded.locator("code")).to_have_text("log_stream.resumed", timeout=30_000)
    expect(recorded.locator(".actor-name")).to_have_text("Ada Lovelace")
    expect(recorded.locator(".target")).to_contain_text(stream["stream_id"])


def test_resuming_a_stream_that_is_active_again_says_so_and_shows_it_active(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """The list said paused (a route) but the stream is active by now: the service's 409
    is said beside it, and the list is read again."""
    stream = add_stream(local_api, streaming, type="webhook", url=receiver.url(f"/active-{streaming['org']}"))
    as_paused = {"on": True}

    def stale(route: Any) -> None:
        if route.request.method != "GET" or not as_paused["on"]:
            route.continue_()
            return
        as_paused["on"] = False
        response = route.fetch()
        answer = response.json()
        shown = [{**s, "state": "paused", "paused_at": iso(datetime.now(UTC))} for s in answer["streams"]]
        route.fulfill(response=response, json={"streams": shown})

    page.route(f"{local_api.admin_ui.gateway}/streams", stale)
    panel = open_streams(page, local_api, streaming)
    row = stream_row(panel, stream["stream_id"])
    expect(cell_of(row, "State")).to_contain_text("Paused")
    row.get_by_role("button", name=re.compile("^Resume the")).click()
    expect(row.locator(".stream-outcome")).to_have_text(
        "Not resumed: The stream is active: there is nothing to resume", timeout=STREAM_WAIT_MS
    )
    expect(cell_of(row, "State")).to_contain_text("✓ Active")  # read again: what the service says now
    expect(row.get_by_role("button", name=re.compile("^Resume the"))).to_have_count(0)


def test_deleting_a_stream_asks_first_and_works_by_keyboard(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """Delete asks in the row (not a browser dialog); Escape or Cancel keeps the stream
    and gives the focus back; Delete stream deletes it, and the focus moves on to the
    next stream."""
    older = add_stream(local_api, streaming, type="webhook", url=receiver.url(f"/older-{streaming['org']}"))
    newer = add_stream(
        local_api, streaming, type="datadog", site="datadoghq.eu", api_key="0123456789abcdef0123456789abcdef"
    )
    dialogs: list[str] = []

    def no_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", no_dialog)
    panel = open_streams(page, local_api, streaming)
    expect(panel.locator("#stream-list tbody tr")).to_have_count(2)
    assert panel.locator("#stream-list tbody tr").first.get_attribute("data-stream-id") == newer["stream_id"]
    row = stream_row(panel, newer["stream_id"])
    expect(cell_of(row, "Stream")).to_contain_text("DatadogDatadog site datadoghq.eu")
    assert "0123456789abcdef" not in page.content(), "no secret of a destination is listed"
    delete = row.get_by_role("button", name="Delete the Datadog stream to Datadog site datadoghq.eu")

    delete.focus()
    page.keyboard.press("Enter")
    question = row.get_by_role("group", name=re.compile(r"^Delete the Datadog stream to Datadog site datadoghq\.eu\?"))
    expect(question).to_be_visible()
    expect(question.locator(".stream-confirm-question")).to_be_focused()
    expect(question).to_contain_text("It stops delivering at once, and this cannot be undone.")
    page.keyboard.press("Escape")
    expect(question).to_have_count(0)
    expect(delete).to_be_focused()
    assert len(listed_streams(local_api, streaming)) == 2, "Escape keeps it"

    page.keyboard.press("Enter")
    expect(question.locator(".stream-confirm-question")).to_be_focused()
    page.keyboard.press("Tab")
    expect(question.get_by_role("button", name="Delete stream")).to_be_focused()
    page.keyboard.press("Tab")
    expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(question).to_have_count(0)
    expect(delete).to_be_focused()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    with page.expect_response(lambda response: response.request.method == "DELETE") as deleted:
        page.keyboard.press("Enter")
    assert deleted.value.status == 204
    expect(row).to_have_count(0, timeout=STREAM_WAIT_MS)
    expect(panel.locator("#stream-list tbody tr")).to_have_count(1)
    older_row = stream_row(panel, older["stream_id"])
    expect(older_row.get_by_role("button", name=re.compile("^Send a test event to"))).to_be_focused()
    expect(panel.locator("#streams-note")).to_have_text("1 stream: 1 active.")
    expect(live_region(page)).to_contain_text("The Datadog stream to Datadog site datadoghq.eu deleted.")
    assert [s["stream_id"] for s in listed_streams(local_api, streaming)] == [older["stream_id"]]
    status, _ = local_api.call("GET", f"/streams/{newer['stream_id']}", headers=streaming["auth"])
    assert status == 404
    assert not dialogs, "no window.confirm"

    older_row.get_by_role("button", name=re.compile("^Delete the webhook")).click()
    older_row.get_by_role("button", name="Delete stream").click()
    expect(panel.locator("#stream-list tbody tr")).to_have_count(0, timeout=STREAM_WAIT_MS)
    expect(panel.locator("#streams-note")).to_have_text("No streams yet: add one below (at most 5).")
    expect(panel.locator("#streams-note")).to_be_focused()

    page.reload()
    recorded = page.locator("#log tbody tr").first
    expect(recorded.locator("code")).to_have_text("log_stream.deleted", timeout=30_000)
    expect(page.locator("#log tbody tr code").filter(has_text="log_stream.deleted")).to_have_count(2)


def test_what_a_destination_or_a_stream_says_is_shown_as_text_never_as_markup(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """A destination answering markup: to the test (its answer shown) and to a delivery
    (the stream's last error quotes it); then a stream whose URL, last error, creator and
    event types hold markup (handed over by a route). Each is shown as its characters,
    no element is made of it."""
    path = f"/hostile-{streaming['org']}"
    receiver.answers[path] = (500, HOSTILE)
    panel = open_streams(page, local_api, streaming)
    title = page.title()
    panel.locator("#stream-add > summary").click()
    panel.get_by_label("Webhook URL").fill(receiver.url(path))
    panel.get_by_role("button", name="Add stream").click()
    created = panel.locator("#stream-created")
    expect(created.locator(".stream-test")).to_have_text(
        "⚠ Test event not delivered: HTTP 500.", timeout=STREAM_WAIT_MS
    )
    expect(created.locator(".stream-response")).to_have_text(HOSTILE)

    (stream,) = listed_streams(local_api, streaming)
    later = {**streaming["events"][0], "occurred_at": iso(datetime.now(UTC))}
    status, body = local_api.call("POST", "/events", later)  # a new event, which the stream then delivers
    assert status == 201, body
    failing = stream_where(local_api, streaming, stream["stream_id"], lambda s: s["last_error"], "failing")
    assert HOSTILE in failing["last_error"], failing
    panel.get_by_role("button", name="Refresh").click()
    row = stream_row(panel, stream["stream_id"])
    expect(cell_of(row, "State")).to_contain_text(f"Last error: {failing['last_error']}")
    expect(panel.locator("img, script, b")).to_have_count(0)

    crafted = {
        **stream,
        "url": f"https://example.com/{HOSTILE}",
        "state": "failing",
        "last_error": HOSTILE,
        "consecutive_failures": 2,
        "event_types": [HOSTILE],
        "created_by": {"id": "usr_mallory", "name": HOSTILE, "email": "m@example.com"},
    }

    def hostile_state(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(response=response, json={"streams": [crafted]})

    page.route(f"{local_api.admin_ui.gateway}/streams", hostile_state)
    panel.get_by_role("button", name="Refresh").click()
    expect(cell_of(row, "State")).to_contain_text(f"Last error: {HOSTILE}")
    expect(cell_of(row, "Stream")).to_contain_text(f"https://example.com/{HOSTILE}")
    expect(cell_of(row, "Stream")).to_contain_text(f"Event types: {HOSTILE}")
    expect(cell_of(row, "Stream")).to_contain_text(f"by {HOSTILE}")
    expect(
        row.get_by_role("button", name=f"Delete the webhook stream to https://example.com/{HOSTILE}")
    ).to_be_visible()
    row.get_by_role("button", name=re.compile("^Send a test event to")).click()
    expect(row.locator(".stream-response")).to_have_text(HOSTILE, timeout=STREAM_WAIT_MS)
    expect(panel.locator("img, script, b")).to_have_count(0)
    assert page.title() == title == "Audit Log · Settings"


def test_a_401_from_the_streams_routes_asks_to_sign_in_again(
    page: Any, local_api: LocalApi, streaming: dict[str, Any], receiver: Receiver
) -> None:
    """As everywhere on the page: the token refused (API Gateway's 401), the sign-in panel,
    the Streams section hidden and emptied (a secret shown once with it)."""
    refusing = {"on": False}

    def refused(route: Any) -> None:
        if not refusing["on"]:
            route.continue_()
            return
        headers = {"Access-Control-Allow-Origin": local_api.admin_ui.page, "Content-Type": "application/json"}
        route.fulfill(status=401, headers=headers, body='{"message":"Unauthorized"}')

    page.route(f"{local_api.admin_ui.gateway}/streams**", refused)
    panel = open_streams(page, local_api, streaming)
    panel.locator("#stream-add > summary").click()
    panel.get_by_label("Webhook URL").fill(receiver.url(f"/signed-out-{streaming['org']}"))
    panel.get_by_role("button", name="Add stream").click()
    secret_field = panel.get_by_role("textbox", name="Signing secret")
    expect(secret_field).to_be_visible(timeout=STREAM_WAIT_MS)
    (stream,) = listed_streams(local_api, streaming)
    expect(stream_row(panel, stream["stream_id"])).to_be_visible()

    refusing["on"] = True
    stream_row(panel, stream["stream_id"]).get_by_role("button", name=re.compile("^Send a test event to")).click()
    signing_in = page.get_by_role("region", name="Sign in to see the Audit Log")
    expect(signing_in).to_be_visible()
    expect(signing_in).to_contain_text("refused the access token")
    expect(panel).to_be_hidden()
    expect(page.locator("#stream-secret")).to_have_count(0)
    expect(page.locator("#stream-list tbody tr")).to_have_count(0)
