"""The admin page at /settings/audit-log in a real browser (Debian's chromium, headless,
driven by Playwright) against the local stack: the API in sam local, the page and its
gateway from devtools.admin_ui, exactly what `make local` serves.

The browser runs in Asia/Kolkata (UTC+05:30), so a time shown in UTC would be caught.
"""

import base64
import hashlib
import json
import os
import secrets
import time as page_time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from devtools import local_stack
from devtools.dev_tokens import token
from tests.e2e.conftest import LocalApi

playwright_sync = pytest.importorskip("playwright.sync_api")

VIEWER_ZONE = "Asia/Kolkata"
SCREENSHOTS = local_stack.LOCAL / "screenshots"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACTORS = [
    {"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@example.com"},
    {"id": "usr_grace", "name": "Grace Hopper", "email": "grace@example.com"},
    {"id": "svc_keyrotator", "type": "system"},
]
TYPES = ["user.login", "member.invited", "api_key.rotated"]
# A minute apart from 09:00 UTC on 20 November (14:30 in Kolkata), then two around
# midnight in Kolkata: 23:50 on the 20th and 00:15 on the 21st (18:20 and 18:45 UTC).
TIMES = [START + timedelta(minutes=number) for number in range(55)] + [
    datetime(2026, 11, 20, 18, 20, tzinfo=UTC),
    datetime(2026, 11, 20, 18, 45, tzinfo=UTC),
]
EVENTS = len(TIMES)  # more than one page of 50


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture(scope="module")
def seeded(local_api: LocalApi) -> dict[str, Any]:
    """An organisation of its own with the events of TIMES, recorded through the API."""
    org = f"org_ui_{secrets.token_hex(4)}"
    events = [
        {
            "org_id": org,
            "event_type": TYPES[number % 3],
            "actor": ACTORS[number % len(ACTORS) if number % 5 else 1],
            "occurred_at": iso(TIMES[number]),
            "context": {"ip_address": f"203.0.113.{number}", "user_agent": "Mozilla/5.0 (test)"},
            "details": {"number": number},
        }
        for number in range(EVENTS)
    ]
    for start in range(0, EVENTS, 25):
        status, body = local_api.call("POST", "/events/batch", {"events": events[start : start + 25]})
        assert status == 201, body
    return {
        "org": org,
        "events": events,
        "admin": token(org, "admin", "usr_ada"),
        "member": token(org, "member", "usr_grace"),
    }


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
    playwright_sync.expect(page.locator("#log tbody tr")).to_have_count(count, timeout=30_000)


def test_an_admin_sees_the_events_newest_first_in_local_time(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    assert shown_times(page) == expected(seeded)[:50]
    newest = seeded["events"][-1]
    first = page.locator("#log tbody tr").first
    local = datetime.fromisoformat(newest["occurred_at"]).astimezone(ZoneInfo(VIEWER_ZONE))
    time = first.locator("time")
    assert local.strftime("%d %b %Y, %H:%M:%S") in time.inner_text()  # 18:45 UTC: 00:15 on the 21st there
    assert time.get_attribute("title") == newest["occurred_at"].replace("T", " ").replace("Z", " UTC")
    assert first.locator("code").inner_text() == newest["event_type"]
    actor = first.locator(".actor")
    assert actor.get_attribute("title", timeout=1000).startswith(f"User id: {newest['actor']['id']}")
    assert "#token=" not in page.url, "the token leaves the address bar"

    first.locator("summary").click()
    details = first.locator("dl")
    assert newest["context"]["ip_address"] in details.inner_text()
    assert f'"number": {EVENTS - 1}' in details.inner_text()
    assert newest["occurred_at"].replace("T", " ").replace("Z", " UTC") in details.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit-log.png"), full_page=False)


def test_filtering_by_event_type_narrows_the_rows_and_lives_in_the_url(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    page.get_by_label("Event type").fill("member.invited")
    page.get_by_role("button", name="Apply filters").click()
    invited = expected(seeded, lambda event: event["event_type"] == "member.invited")
    wait_for_rows(page, len(invited))

    assert shown_times(page) == invited
    assert set(page.locator("#log tbody code").all_inner_texts()) == {"member.invited"}
    assert "event_type=member.invited" in page.url
    page.reload()  # a shared link opens the same view
    wait_for_rows(page, len(invited))
    assert page.get_by_label("Event type").input_value() == "member.invited"


def test_type_and_user_together_in_a_shared_link(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"], "?event_type=user.login&actor_id=usr_ada")
    adas_logins = expected(
        seeded, lambda event: event["event_type"] == "user.login" and event["actor"]["id"] == "usr_ada"
    )
    wait_for_rows(page, len(adas_logins))

    assert shown_times(page) == adas_logins
    assert page.get_by_label("User").input_value() == "usr_ada"


def test_clicking_a_user_shows_only_that_users_events(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    page.locator(".actor", has_text="Grace Hopper").first.click()
    graces = expected(seeded, lambda event: event["actor"]["id"] == "usr_grace")
    wait_for_rows(page, len(graces))

    assert shown_times(page) == graces
    assert set(page.locator(".actor-name").all_inner_texts()) == {"Grace Hopper"}
    assert "actor_id=usr_grace" in page.url


def test_load_more_appends_the_next_page(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)

    page.get_by_role("button", name="Load more").focus()
    page.keyboard.press("Enter")  # keyboard, not only the mouse
    wait_for_rows(page, EVENTS)

    assert shown_times(page) == expected(seeded)
    assert page.get_by_role("button", name="Load more").is_hidden()


def test_dates_filter_whole_days_in_the_viewers_timezone(
    page: Any, local_api: LocalApi, seeded: dict[str, Any]
) -> None:
    """18:45 UTC on the 20th is already the 21st in Kolkata; 18:20 UTC is still the 20th."""
    open_as(page, local_api, seeded["admin"], "?from=2026-11-21")
    wait_for_rows(page, 1)
    assert shown_times(page) == ["2026-11-20T18:45:00.000Z"]

    page.get_by_label("From", exact=True).fill("2026-11-20")
    page.get_by_label("To", exact=True).fill("2026-11-20")
    page.get_by_role("button", name="Apply filters").click()
    wait_for_rows(page, 50)
    assert "from=2026-11-20&to=2026-11-20" in page.url
    assert shown_times(page) == expected(seeded, lambda event: event["occurred_at"] < "2026-11-20T18:30")[:50]

    page.get_by_label("From", exact=True).fill("2026-11-22")
    page.get_by_label("To", exact=True).fill("")
    page.get_by_role("button", name="Apply filters").click()
    page.locator("#empty").wait_for()
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


def test_a_request_the_api_refuses_offers_no_retry(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    open_as(page, local_api, seeded["admin"], "?event_type=Not-A-Type")  # the API answers 400

    page.get_by_role("heading", name="The Audit Log could not be loaded").wait_for()
    assert "event_type" in page.locator("#error-detail").inner_text()
    assert page.get_by_role("button", name="Try again").is_hidden()
    assert page.get_by_role("button", name="Sign in with another token").is_visible()


def test_the_page_is_readable_at_320_pixels(page: Any, local_api: LocalApi, seeded: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    open_as(page, local_api, seeded["admin"])
    wait_for_rows(page, 50)
    page.locator("#log tbody tr summary").first.click()  # the widest content: details open

    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling"
    region = page.evaluate(
        "(() => { const r = document.querySelector('.table-region'); return [r.scrollWidth, r.clientWidth]; })()"
    )
    assert region[0] <= region[1], f"the table fits its region at 320 px: {region}"
    page.screenshot(path=str(Path(SCREENSHOTS / "audit-log-320.png")))


# --- the ledger, verified in the browser -------------------------------------------------


def sealed_ledger(local_api: LocalApi, seeded: dict[str, Any]) -> dict[str, Any]:
    """The seeded organisation's latest checkpoint once every seeded event is in it."""
    deadline = datetime.now(UTC) + timedelta(minutes=2)
    while True:
        status, checkpoint = local_api.call(
            "GET", "/ledger/checkpoint", headers={"Authorization": f"Bearer {seeded['admin']}"}
        )
        assert status == 200, checkpoint
        if checkpoint["tree_size"] >= EVENTS or datetime.now(UTC) > deadline:
            assert checkpoint["tree_size"] == EVENTS, "the seeded events were sealed within two minutes"
            return dict(checkpoint)
        page_time.sleep(1)


def ledger_mark(page: Any) -> Any:
    mark = page.locator("#ledger")
    playwright_sync.expect(mark).not_to_have_text("", timeout=30_000)
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
    playwright_sync.expect(mark).to_contain_text(f"Verified: the signed ledger holds {EVENTS} events")
    assert "failed" not in (mark.get_attribute("class") or "")
    stored = page.evaluate(f"localStorage.getItem({json.dumps('audit-log-ledger-seen:' + checkpoint['origin'])})")
    assert json.loads(stored)["body"] == checkpoint["body"], "the browser keeps what it verified"

    first = page.locator("#log tbody tr").first
    first.locator("summary").click()
    first.get_by_role("button", name="Verify in the ledger").click()
    result = first.locator(".proof")
    playwright_sync.expect(result).to_contain_text("Verified: event", timeout=30_000)
    playwright_sync.expect(result).to_contain_text(f"of the {EVENTS} in the signed checkpoint")


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
    size = {"same size, other root": EVENTS, "smaller, other root": 10, "larger": EVENTS + 5}[seen]
    remember(page, checkpoint["origin"], other_body(checkpoint, size))
    open_as(page, local_api, seeded["admin"])
    mark = ledger_mark(page)
    playwright_sync.expect(mark).to_contain_text("Ledger verification failed")
    playwright_sync.expect(mark).to_contain_text(named)
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
    playwright_sync.expect(mark).to_contain_text("the checkpoint is signed by another key")
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
        playwright_sync.expect(result).to_contain_text("changed after it was recorded", timeout=30_000)
        assert "failed" in (result.get_attribute("class") or "")
    finally:
        dynamodb.put_item(TableName=local_stack.TABLE_NAME, Item=newest)
