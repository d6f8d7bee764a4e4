"""The client's errors: one base, and one class per way a command can end badly, so the
command line maps each to its exit code and a library caller can tell "the evidence is
false" (VerificationFailed) from "the check could not be made" (ApiError, InputError)."""


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
