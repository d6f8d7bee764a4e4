"""Audit Log client: verify an organisation's ledger offline (checkpoints, inclusion and
consistency proofs) and audit it whole against the API.

The package depends on nothing of the service's code: it reimplements the public
contract (RFC 9162 hashing, RFC 8785 entries, C2SP checkpoints, ECDSA P-256 signatures)
so that whoever runs it trusts only the published key.
"""

__version__ = "0.1.0"
