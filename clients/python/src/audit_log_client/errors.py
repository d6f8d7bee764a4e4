"""The client's errors: one base, and one class per way a call can end badly, so the
command line maps each to its exit code and a library caller can tell "the evidence is
false" (VerificationFailed) from "the check could not be made" (ApiError, InputError),
and "send it again later" (Unavailable) from "this event will never be taken"
(InvalidEvent)."""

from dataclasses import dataclass


class AuditLogError(Exception):
    """Every error the client raises on purpose; `message` is the sentence shown to users."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VerificationFailed(AuditLogError):
    """The evidence does not prove what it claims: a bad signature, a leaf hash or root
    that does not match, a proof that does not verify, a malformed checkpoint or proof."""


class ForkDetected(VerificationFailed):
    """Two signed checkpoints of one tree size with different roots: the service showed
    different histories to different viewers (or rewrote its own)."""


class ApiError(AuditLogError):
    """The service could not be reached, answered with an HTTP error, or answered with
    something that is not the JSON the contract describes. `status` is the HTTP status
    when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InputError(AuditLogError):
    """A local file cannot be read, is not JSON, or is not a usable public key: the
    auditor's own input, not the evidence, is at fault."""


class NoCredentials(AuditLogError):
    """No AWS credentials (or no region) were found for signing: the standard chain
    (environment, shared files, SSO, container or instance role) came up empty."""


class Unavailable(ApiError):
    """The service did not answer in time, throttled, or failed (429 or 5xx) on every
    attempt. Whether the event was recorded is unknown; sending it again with the same
    idempotency key (the client keeps it, as a buffer does) records it at most once."""


class AccessDenied(ApiError):
    """401 or 403: the request's signature or token was refused, or its role may not
    call the route. Retrying the same request cannot help."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, as the service words it: `field` is a path such as
    `events[3].actor.id`, `message` what is wrong with it."""

    field: str
    message: str


class InvalidEvent(ApiError):
    """An event (or a batch) the service refuses: 400 or 422 from the service, or the
    same refusal found before sending by the service's own rules (`status` is None
    then, and nothing was sent). `errors` names each field."""

    def __init__(self, message: str, errors: tuple[FieldError, ...] = (), status: int | None = None) -> None:
        listed = "; ".join(f"{error.field} {error.message}" for error in errors[:5])
        super().__init__(f"{message}: {listed}" if listed else message, status=status)
        self.errors = errors


class BufferFull(AuditLogError):
    """The background recorder already holds as many events as it may, and none was
    sent within the time the caller may be held up: the service has been unreachable
    for a while. The event was not taken; the caller decides what to do with it."""
