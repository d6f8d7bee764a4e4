"""Which destinations a stream may reach: public HTTPS endpoints only.

A customer gives the URL, so it is hostile input that would have our functions call into
our own network (SSRF). Every address its host resolves to must be public — no loopback,
private, link-local (169.254.169.254, the metadata service), carrier-grade NAT,
multicast, reserved or unique-local (fd00::/8) address, and none of those hidden inside
IPv6 (IPv4-mapped, 6to4, NAT64, Teredo). An IPv4 address in any spelling but dotted
decimal (2130706433, 0177.0.0.1, 0x7f.1) is refused outright rather than interpreted.
The check answers the address it checked, and the caller connects to exactly that one
(see transport), so a name that resolves differently a moment later (DNS rebinding)
gains nothing.

`allow_private` (ALLOW_PRIVATE_DESTINATIONS, local development and tests only) lifts the
public-address and HTTPS rules.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from audit_log.errors import StreamRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, speak to `host` (TLS name, Host header)."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string; never empty
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def is_public(address: IPAddress) -> bool:
    """Whether `address` is one on the public internet (and nothing else is inside it)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None or address in _NAT64_LOCAL:
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


def _literal(host: str) -> IPAddress | None:
    """The address `host` spells, if it is one. Only canonical forms are accepted: the
    forms inet_aton would also take (decimal, octal, hex, short) are refused."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except OSError:
        return None
    raise StreamRefused("url", "an IPv4 address must be written as four decimal numbers (a.b.c.d)")


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (for TCP)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise StreamRefused("url", f"the host {host} does not resolve") from error
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise StreamRefused("url", f"the host {host} does not resolve")
    return found


def check_url(url: str, *, allow_private: bool, field: str = "url") -> Target:
    """The destination `url` names, resolved and checked; StreamRefused (naming
    `field`) for anything we must not or cannot call."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise StreamRefused(field, "is not a valid URL") from error
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise StreamRefused(field, "must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise StreamRefused(field, "must not carry a user name or password (use the stream's token)")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise StreamRefused(field, "must not contain spaces or control characters")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise StreamRefused(field, "must name a host")
    if port == 0:
        raise StreamRefused(field, "must not name port 0")
    port = port or (443 if scheme == "https" else 80)
    literal = _literal(host)
    if literal is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise StreamRefused(field, "has a host name that is not valid") from error
    addresses = [literal] if literal is not None else resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                spelt = f"{host} is" if literal is not None else f"{host} resolves to {address}, which is"
                raise StreamRefused(field, f"{spelt} not a public address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
