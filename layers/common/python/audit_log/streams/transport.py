"""HTTP(S) to a checked destination: the connection goes to the address that was
checked (TLS still verifies the certificate for the host name, sent as SNI and Host),
redirects are never followed, everything is over in 5 seconds, and at most 64 KiB of an
answer is read (a destination cannot make us buffer a gigabyte)."""

from dataclasses import dataclass

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import HTTPError

from audit_log.streams.addresses import Target

TIMEOUT_SECONDS = 5.0
MAX_READ = 64 * 1024
SHOWN = 1024  # of an answer, in errors and test results
USER_AGENT = "audit-log-streams/1"


class DeliveryFailed(Exception):
    """The destination could not be reached or did not accept what was sent; the message
    says why, in words fit for `last_error` (never a secret: no request is quoted)."""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str  # the first SHOWN characters of the body, decoded leniently


class Connection:
    """Requests to one checked target, over one kept-alive connection to its address."""

    def __init__(self, target: Target) -> None:
        self.target = target
        timeout = Timeout(total=TIMEOUT_SECONDS)
        if target.scheme == "https":
            self.pool: HTTPConnectionPool = HTTPSConnectionPool(
                target.address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        else:  # only with ALLOW_PRIVATE_DESTINATIONS
            self.pool = HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)

    def post(self, body: bytes, headers: dict[str, str], path: str | None = None) -> Answer:
        """POST `body`; the answer whatever its status (DeliveryFailed only when there is none)."""
        sent = {"Host": self.target.host_header, "User-Agent": USER_AGENT, **headers}
        try:
            response = self.pool.urlopen(
                "POST",
                path or self.target.path,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                data = response.read(MAX_READ, decode_content=False)
            finally:
                response.release_conn()
        except HTTPError as error:
            raise DeliveryFailed(f"{self.target.host}: {_reason(error)}") from error
        return Answer(status=response.status, text=data[:SHOWN].decode("utf-8", "replace"))

    def close(self) -> None:
        self.pool.close()


def _reason(error: HTTPError) -> str:
    """A short reason, without urllib3's repr of the pool (which names the address)."""
    text = str(getattr(error, "reason", None) or error)
    return text.split(": ", 1)[-1][:300] if "Pool(" in text else text[:300]


def accepted(answer: Answer, host: str) -> None:
    """DeliveryFailed unless `answer` is a 2xx (a 3xx is refused: redirects are not followed)."""
    if 200 <= answer.status < 300:
        return
    if 300 <= answer.status < 400:
        raise DeliveryFailed(f"{host} answered {answer.status}, a redirect, which is not followed")
    raise DeliveryFailed(f"{host} answered {answer.status}: {answer.text[:200]}")
