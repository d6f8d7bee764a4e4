"""The admin page under `make local` (and the browser tests): a static server for
`admin_ui/` at `/settings/audit-log`, and, in front of `sam local start-api`, the part of
API Gateway that sam local leaves out.

sam local applies the Api's `Cors` settings (it answers preflights and adds the headers
to the functions' answers) but not its `GatewayResponses`: the authorizer's 401 and 403
come back without `Access-Control-Allow-Origin`, so a browser page could not read them
(it could not tell "sign in" from "not an admin"). The gateway here forwards every
request to sam local unchanged and, to an answer that has no CORS headers of its own,
adds the headers template.yaml's `GatewayResponses` give it in API Gateway — read from
the template, not restated.

The page's `config.js` is served here too, pointing the page at that gateway.
"""

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from devtools.template import load_template

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "admin_ui"
# Paths of the platform's settings area this reference UI stands in for: the Audit Log
# page, and the settings page standing in for the Organisation section's other pages.
ROUTES = {
    "/settings/audit-log": "audit-log.html",
    "/settings": "settings.html",
    "/settings/members": "settings.html",
    "/settings/admin-overview": "settings.html",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
# Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer"}


def gateway_response_headers(origin: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """template.yaml's GatewayResponses as plain headers per response type
    (`{"DEFAULT_4XX": {"Access-Control-Allow-Origin": origin, ...}}`), with the
    AdminOrigin parameter set to `origin`."""
    api = next(
        definition
        for definition in (template or load_template())["Resources"].values()
        if definition["Type"] == "AWS::Serverless::Api"
    )
    responses: dict[str, dict[str, str]] = {}
    for response_type, response in api["Properties"].get("GatewayResponses", {}).items():
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        responses[response_type] = {name: _static_value(value, origin) for name, value in headers.items()}
    return responses


def _static_value(value: Any, origin: str) -> str:
    """A gateway response header value: a quoted literal, or `!Sub` of one naming
    ${AdminOrigin} (the only parameter these headers use)."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        value = str(value["Fn::Sub"]).replace("${AdminOrigin}", origin)
    if not (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == "'") or "${" in value:
        raise ValueError(f"cannot use gateway response header value {value!r} locally")
    return value[1:-1]


@dataclass(frozen=True)
class AdminUi:
    page: str  # the page's origin, e.g. http://127.0.0.1:8080
    gateway: str  # where the page sends its API calls

    @property
    def url(self) -> str:
        return f"{self.page}/settings/audit-log"


class _PageHandler(BaseHTTPRequestHandler):
    api_base = ""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        if path in ROUTES:
            self._send(200, CONTENT_TYPES[".html"], (PAGES / ROUTES[path]).read_bytes())
        elif path == "/admin_ui/config.js":
            config = f"export const API_BASE = {self.api_base!r};\n".replace("'", '"')
            self._send(200, CONTENT_TYPES[".js"], config.encode())
        elif path.startswith("/admin_ui/") and self._static(path.removeprefix("/admin_ui/")) is not None:
            file = self._static(path.removeprefix("/admin_ui/"))
            assert file is not None
            self._send(200, CONTENT_TYPES[file.suffix], file.read_bytes())
        else:
            self._send(404, "text/plain; charset=utf-8", b"Not found\n")

    @staticmethod
    def _static(name: str) -> Path | None:
        """A file of admin_ui/ by plain name (no directories, so no way out of it)."""
        file = PAGES / name
        if "/" in name or file.suffix not in CONTENT_TYPES or not file.is_file():
            return None
        return file

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        # The page talks to the API only; nothing else may load or frame it.
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; connect-src {self.api_base}; base-uri 'none'; frame-ancestors 'none'",
        )
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the API's own log has the requests that matter


class _GatewayHandler(BaseHTTPRequestHandler):
    upstream = ""  # host:port of sam local
    gateway_headers: ClassVar[dict[str, dict[str, str]]] = {}

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(self.upstream, timeout=120)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            answer_headers = [(n, v) for n, v in answer.getheaders() if n.lower() not in _HOP_BY_HOP]
        finally:
            connection.close()
        if answer.status >= 400 and not any(n.lower() == "access-control-allow-origin" for n, _ in answer_headers):
            added = self.gateway_headers.get("DEFAULT_4XX" if answer.status < 500 else "DEFAULT_5XX", {})
            answer_headers += list(added.items())
        self.send_response(answer.status)
        for name, value in answer_headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = do_PATCH = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(api: str, page_port: int, gateway_port: int) -> Iterator[AdminUi]:
    """The page on 127.0.0.1:`page_port` and the gateway to `api` on `gateway_port`,
    each in a thread of this process, until the block ends."""
    ui = AdminUi(page=f"http://127.0.0.1:{page_port}", gateway=f"http://127.0.0.1:{gateway_port}")
    page_handler = type("PageHandler", (_PageHandler,), {"api_base": ui.gateway})
    gateway_handler = type(
        "GatewayHandler",
        (_GatewayHandler,),
        {"upstream": urlsplit(api).netloc, "gateway_headers": gateway_response_headers(ui.page)},
    )
    servers = [
        ThreadingHTTPServer(("127.0.0.1", page_port), page_handler),
        ThreadingHTTPServer(("127.0.0.1", gateway_port), gateway_handler),
    ]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield ui
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
