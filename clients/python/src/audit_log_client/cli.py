"""`audit-log`: the auditor's command line.

    audit-log verify checkpoint CHECKPOINT.json --public-key KEY
    audit-log verify event PROOF.json --event EVENT.json --public-key KEY
    audit-log verify consistency --old OLD.json --new NEW.json --proof PROOF.json --public-key KEY
    audit-log audit --api URL --token TOKEN --public-key KEY [--since KEPT.json] [--save LATEST.json]

Exit codes, so a scheduled audit can alert on them: 0 verified; 1 the evidence does not
verify (the first failure is printed to stderr as "FAILED: …"); 2 the check could not
be made (unreadable file, unusable key, network or HTTP error, bad usage).
"""

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audit_log_client import __version__
from audit_log_client._fields import b64, load_json_file
from audit_log_client.api import Client
from audit_log_client.audit import AuditReport, audit
from audit_log_client.checkpoints import read_public_key, verify_checkpoint
from audit_log_client.errors import AuditLogError, InputError, VerificationFailed
from audit_log_client.verify import verify_checkpoints_consistent, verify_event_proof

OK, FAILED, ERROR = 0, 1, 2
TOKEN_VARIABLE = "AUDIT_LOG_TOKEN"  # noqa: S105  (the name of a variable, not a secret)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit-log",
        description="Verify an Audit Log ledger: offline with its public key, or whole against the API.",
        epilog="Exit codes: 0 verified, 1 verification failed, 2 the check could not be made.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    key_help = "the ledger's public key: a PEM file, or the JSON of GET /ledger/public-key"
    verify = commands.add_parser("verify", help="verify a checkpoint, an event's proof or a consistency proof offline")
    kinds = verify.add_subparsers(dest="kind", required=True, metavar="WHAT")

    checkpoint = kinds.add_parser("checkpoint", help="a checkpoint's signature and fields")
    checkpoint.add_argument("checkpoint", metavar="CHECKPOINT.json")
    checkpoint.add_argument("--public-key", required=True, metavar="KEY", help=key_help)

    event = kinds.add_parser("event", help="that an event is in the ledger (GET /events/{id}/proof)")
    event.add_argument("proof", metavar="PROOF.json")
    event.add_argument("--event", required=True, metavar="EVENT.json", help="the event as GET /events shows it")
    event.add_argument("--public-key", required=True, metavar="KEY", help=key_help)

    consistency = kinds.add_parser("consistency", help="that a newer checkpoint extends an older one")
    consistency.add_argument("--old", required=True, metavar="OLD_CHECKPOINT.json")
    consistency.add_argument("--new", required=True, metavar="NEW_CHECKPOINT.json")
    consistency.add_argument("--proof", required=True, metavar="CONSISTENCY.json", help="GET /ledger/consistency")
    consistency.add_argument("--public-key", required=True, metavar="KEY", help=key_help)

    whole = commands.add_parser("audit", help="recompute the whole ledger from the API and check it")
    whole.add_argument("--api", required=True, metavar="URL", help="the API's base URL, stage included (…/v1)")
    whole.add_argument("--token", metavar="TOKEN", help=f"an ORG Admin bearer token (default: ${TOKEN_VARIABLE})")
    whole.add_argument("--public-key", required=True, metavar="KEY", help=key_help)
    whole.add_argument("--since", metavar="KEPT_CHECKPOINT.json", help="a checkpoint kept from an earlier audit")
    whole.add_argument("--save", metavar="LATEST.json", help="where to keep the latest checkpoint once it verified")
    whole.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    whole.add_argument("--retries", type=int, default=3, help="retries of a failed request (default 3)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        lines = _audit(args) if args.command == "audit" else [_verify(args)]
    except VerificationFailed as failure:
        print(f"FAILED: {printable(failure.message)}", file=sys.stderr)
        return FAILED
    except AuditLogError as error:
        print(f"error: {printable(error.message)}", file=sys.stderr)
        return ERROR
    for line in lines:
        print(printable(line))
    return OK


def printable(text: str) -> str:
    """`text` with every non-printable character escaped. Messages quote what the
    service or a file said (an event id, an error message): a carriage return or an
    escape sequence in them must not rewrite the auditor's terminal, e.g. paint a FAILED
    line over with a fake OK, nor split one message into several lines."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _verify(args: argparse.Namespace) -> str:
    key = read_public_key(args.public_key)
    if args.kind == "checkpoint":
        head = verify_checkpoint(load_json_file(args.checkpoint, "the checkpoint"), key).head
        return f"OK: {head.describe()}"
    if args.kind == "event":
        proof = load_json_file(args.proof, "the proof")
        included = verify_event_proof(proof, load_json_file(args.event, "the event"), key)
        return f"OK: event {included.event_id} is leaf {included.leaf_index} of {included.checkpoint.head.describe()}"
    old, new = verify_checkpoints_consistent(
        load_json_file(args.old, "the old checkpoint"),
        load_json_file(args.new, "the new checkpoint"),
        load_json_file(args.proof, "the consistency proof"),
        key,
    )
    return (
        f"OK: {new.head.origin} size {new.head.size} root {b64(new.head.root_hash)} at {new.head.timestamp} "
        f"extends size {old.head.size} root {b64(old.head.root_hash)} at {old.head.timestamp}"
    )


def _audit(args: argparse.Namespace) -> list[str]:
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise InputError(f"a token is needed: --token, or ${TOKEN_VARIABLE}")
    key = read_public_key(args.public_key)
    kept = load_json_file(args.since, "the kept checkpoint") if args.since else None
    client = Client(args.api, token, timeout=args.timeout, retries=args.retries)
    report = audit(client, key, kept)
    if args.save:
        _save(Path(args.save), report.latest_document)
    return _summary(report, args.save)


def _summary(report: AuditReport, saved: str | None) -> list[str]:
    head, count = report.latest.head, report.count
    rate = head.size / report.seconds if report.seconds > 0 else 0.0
    lines = [
        f"OK: {head.describe()}",
        f"  tree size {head.size}: {count.events} events match their leaf hashes, "
        f"{count.removed} entries removed by retention (their leaf hashes kept)",
        f"  root {b64(head.root_hash)} recomputed and signed by key {report.latest.key_id[:16]}",
    ]
    if report.kept is not None:
        kept = report.kept.head
        lines.append(
            f"  the kept checkpoint of size {kept.size} (at {kept.timestamp}) is a prefix of it, "
            "and the consistency proof verifies"
        )
    lines.append(f"  checkpoint time {head.timestamp}; audited in {report.seconds:.2f} s ({rate:,.0f} entries/s)")
    if saved:
        lines.append(f"  latest checkpoint saved to {saved}: pass it as --since next time")
    return lines


def _save(path: Path, document: Any) -> None:
    """Write the checkpoint beside its destination, then rename: a kept checkpoint is
    either the old one or the new one, never half of one."""
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            json.dump(document, handle, indent=2)
            handle.write("\n")
        temporary.replace(path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise InputError(f"cannot save the latest checkpoint to {path}: {exc}") from exc


if __name__ == "__main__":
    sys.exit(main())
