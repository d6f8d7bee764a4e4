"""devtools.admin_ui: the page's files at the platform's paths, and the gateway that gives
sam local's answers the headers template.yaml's GatewayResponses give them in API Gateway."""

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from devtools.admin_ui import AdminUi, gateway_response_headers, serving
from devtools.local_stack import free_port


class _FakeApi(BaseHTTPRequestHandler):
    """Answers like sam local: 200 with the Api's CORS header, 403 (the authorizer's
    Deny) and 502 without any."""

    def do_GET(self) -> None:
        status = {"/events": 200, "/events/denied": 403, "/events/broken": 502}[self.path.split("?")[0]]
        self.send_response(status)
        if status == 200:
            self.send_header("Access-Control-Allow-Origin", "http://from-the-function")
        self.send_header("Content-Type", "application/json")
        body = b'{"message": "x"}'
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def ui() -> Iterator[AdminUi]:
    api = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    with serving(f"http://127.0.0.1:{api.server_address[1]}", free_port(), free_port()) as served:
        yield served
    api.shutdown()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # loopback only
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_page_is_served_at_the_settings_path_with_its_api_address(ui: AdminUi) -> None:
    status, headers, body = fetch(ui.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"<h1>Audit Log</h1>" in body
    assert f"connect-src {ui.gateway}" in headers["Content-Security-Policy"]

    status, _, config = fetch(f"{ui.page}/admin_ui/config.js")
    assert (status, config.decode()) == (200, f'export const API_BASE = "{ui.gateway}";\n')
    assert fetch(f"{ui.page}/settings")[0] == 200


@pytest.mark.parametrize("path", ["/admin_ui/../template.yaml", "/admin_ui/%2e%2e/README.md", "/admin_ui/x.py", "/"])
def test_nothing_else_is_served(ui: AdminUi, path: str) -> None:
    assert fetch(f"{ui.page}{path}")[0] == 404


def test_the_gateway_adds_the_gateway_response_headers_only_where_sam_local_left_them_out(ui: AdminUi) -> None:
    status, headers, _ = fetch(f"{ui.gateway}/events/denied")
    assert status == 403
    assert headers["Access-Control-Allow-Origin"] == ui.page

    status, headers, _ = fetch(f"{ui.gateway}/events/broken")
    assert status == 502
    assert headers["Access-Control-Allow-Origin"] == ui.page

    status, headers, _ = fetch(f"{ui.gateway}/events?limit=1")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://from-the-function", "the answer's own headers stay"


def test_gateway_headers_come_from_the_template_with_the_pages_origin() -> None:
    headers = gateway_response_headers("http://127.0.0.1:9999")
    assert headers["DEFAULT_4XX"]["Access-Control-Allow-Origin"] == "http://127.0.0.1:9999"
    assert headers["DEFAULT_5XX"]["Access-Control-Allow-Origin"] == "http://127.0.0.1:9999"
