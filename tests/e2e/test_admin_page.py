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
import io
import json
import os
import re
import secrets
import time as page_time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
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
