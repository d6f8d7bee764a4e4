"""`audit-log`: the auditor's command line.

    audit-log verify checkpoint CHECKPOINT.json --public-key KEY
    audit-log verify event PROOF.json --event EVENT.json --public-key KEY
    audit-log verify consistency --old OLD.json --new NEW.json --proof PROOF.json --public-key KEY
    audit-log verify export EXPORT.ndjson --proof EXPORT.proof.json --public-key KEY [--require-complete]
    audit-log audit --api URL --token TOKEN --public-key KEY [--since KEPT.json] [--save LATEST.json]
    audit-log export --api URL --token TOKEN --format csv|ndjson [filters] [--output FILE]
                     [--proof-output FILE] [--public-key KEY] [--timeout SECONDS]

Exit codes, so a scheduled audit can alert on them: 0 verified (or, for an export
without a key, done); 1 the evidence does not verify (the first failure is printed to
stderr as "FAILED: …"); 2 the check could not be made (unreadable file, unusable key,
network or HTTP error, an export that failed or did not finish in time, bad usage).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from audit_log_client import __version__
from audit_log_client._fields import b64, load_json_file
from audit_log_client.api import Client
from audit_log_client.audit import AuditReport, audit
from audit_log_client.checkpoints import read_public_key, verify_checkpoint
from audit_log_client.errors import AuditLogError, InputError, VerificationFailed
from audit_log_client.exports import (
    DEFAULT_TIMEOUT,
    FINAL_STATES,
    FORMATS,
    DownloadedExport,
    ExportVerification,
    run_export,
    verify_export,
)
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
    verify = commands.add_parser(
        "verify", help="verify a checkpoint, an event's proof, a consistency proof or an export offline"
    )
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

    exported = kinds.add_parser("export", help="that an NDJSON export is in the ledger (and, if complete, all of it)")
    exported.add_argument("export", metavar="EXPORT.ndjson")
    exported.add_argument("--proof", required=True, metavar="PROOF.json", help="the export's proof file")
    exported.add_argument("--public-key", required=True, metavar="KEY", help=key_help)
    exported.add_argument(
        "--require-complete",
        action="store_true",
        help="fail (exit 1) unless the export holds every event of the log up to its checkpoint",
    )

    whole = commands.add_parser("audit", help="recompute the whole ledger from the API and check it")
    whole.add_argument("--api", required=True, metavar="URL", help="the API's base URL, stage included (…/v1)")
    whole.add_argument("--token", metavar="TOKEN", help=f"an ORG Admin bearer token (default: ${TOKEN_VARIABLE})")
    whole.add_argument("--public-key", required=True, metavar="KEY", help=key_help)
    whole.add_argument("--since", metavar="KEPT_CHECKPOINT.json", help="a checkpoint kept from an earlier audit")
    whole.add_argument("--save", metavar="LATEST.json", help="where to keep the latest checkpoint once it verified")
    whole.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    whole.add_argument("--retries", type=int, default=3, help="retries of a failed request (default 3)")

    run = commands.add_parser("export", help="start an export, wait for it, download it (and verify an NDJSON one)")
    run.add_argument("--api", required=True, metavar="URL", help="the API's base URL, stage included (…/v1)")
    run.add_argument("--token", metavar="TOKEN", help=f"an ORG Admin bearer token (default: ${TOKEN_VARIABLE})")
    run.add_argument("--format", required=True, choices=FORMATS, help="csv, or ndjson (which comes with a proof)")
    run.add_argument("--event-type", metavar="TYPE", help="only events of this exact type")
    run.add_argument("--actor-id", metavar="ID", help="only events of this actor")
    run.add_argument("--since", metavar="RFC3339", help="only events that occurred at or after this time")
    run.add_argument("--until", metavar="RFC3339", help="only events that occurred before this time")
    run.add_argument("--target-type", metavar="TYPE", help="with --target-id: only events naming that target")
    run.add_argument("--target-id", metavar="ID", help="with --target-type")
    run.add_argument("--output", metavar="FILE", help="where to write the file (default: EXPORT_ID.csv or .ndjson)")
    run.add_argument(
        "--proof-output", metavar="FILE", help="where to write an NDJSON export's proof (default: EXPORT_ID.proof.json)"
    )
    run.add_argument("--public-key", metavar="KEY", help=f"{key_help}: verify the NDJSON export once downloaded")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the export to finish (default {DEFAULT_TIMEOUT:g})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], list[str]]] = {
        "audit": _audit,
        "export": _export,
        "verify": lambda parsed: [_verify(parsed)],
    }
    try:
        lines = commands[args.command](args)
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
    if args.kind == "export":
        verified = verify_export(args.export, load_json_file(args.proof, "the export proof"), key)
        if args.require_complete and not verified.complete:
            raise VerificationFailed(
                f"the export is not complete: {_events(verified.not_exported)} of the checkpoint's "
                f"{verified.tree_size} are not in it (--require-complete)"
            )
        return _proven(verified)
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


def _proven(verified: ExportVerification) -> str:
    scope = (
        "complete: every event of the log up to that size"
        if verified.complete
        else f"{_events(verified.not_exported)} of the checkpoint are not in this export"
    )
    return (
        f"OK: {_events(verified.events)} of {verified.origin} proven in the checkpoint "
        f"of tree size {verified.tree_size} ({scope})"
    )


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _token(args: argparse.Namespace) -> str:
    token: str | None = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise InputError(f"a token is needed: --token, or ${TOKEN_VARIABLE}")
    return token


def _audit(args: argparse.Namespace) -> list[str]:
    token = _token(args)
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


def _export(args: argparse.Namespace) -> list[str]:
    """Start, wait, download and, with a key, verify. Everything that can be refused
    locally (token, key, filters) is, before the export is started: a bad key must not
    cost a million-event export."""
    token = _token(args)
    if args.public_key and args.format != "ndjson":
        raise InputError("--public-key verifies an NDJSON export; a CSV export has no proof")
    key = read_public_key(args.public_key) if args.public_key else None
    filters = {name: getattr(args, name) for name in ("event_type", "actor_id", "since", "until")}
    filters.update(target_type=args.target_type, target_id=args.target_id)
    client = Client(args.api, token)
    progress = Progress(sys.stderr)
    try:
        downloaded = run_export(
            client,
            args.format,
            filters,
            output=args.output,
            proof_output=args.proof_output,
            timeout=args.timeout,
            on_update=progress.export,
            on_progress=progress.download,
        )
    finally:
        progress.close()
    lines = [_written(downloaded)]
    if key is not None and downloaded.proof_path is not None:
        lines.append(_proven(verify_export(downloaded.path, load_json_file(downloaded.proof_path, "the proof"), key)))
    return lines


def _written(downloaded: DownloadedExport) -> str:
    events = "" if downloaded.events is None else f" ({_events(downloaded.events)})"
    proof = "" if downloaded.proof_path is None else f", its proof to {downloaded.proof_path}"
    return f"export {downloaded.export_id}{events} written to {downloaded.path}{proof}"


class Progress:
    """What `audit-log export` shows on stderr while it waits and downloads.

    On a terminal, one line redrawn in place: the export's state, its events so far and
    the time elapsed (the total is unknown until it is done), then a bar per file being
    downloaded. Elsewhere (a log, a CI job) a line per state change and per file only, so
    a log is not flooded with redraws. Every text from the service is shown escaped."""

    BAR = 30

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.clock = clock
        self.started = clock()
        self._state: str | None = None
        self._open = False  # a line is drawn in place, its newline not written yet
        self._drawn: tuple[Path, int] | None = None  # the file and percentage last drawn

    def export(self, export: Mapping[str, Any]) -> None:
        state, events = export.get("state"), export.get("events")
        name = f"export {printable(str(export.get('export_id')))}: {state}"
        counted = f", {events:,} events" if isinstance(events, int) else ""
        if self.tty:
            self._draw(f"{name}{counted}, {_elapsed(self.clock() - self.started)} elapsed")
            if state in FINAL_STATES:
                self.close()
        elif state != self._state:
            self._line(f"{name}{counted if state in FINAL_STATES else ''}")
        self._state = state if isinstance(state, str) else None

    def download(self, path: Path, received: int, total: int | None) -> None:
        name = printable(str(path))
        if not self.tty:
            if received == 0:
                self._line(f"downloading {name}" + ("" if total is None else f" ({_size(total)})"))
            return
        if total is None or total == 0:
            self._draw(f"{name}: {_size(received)}")
            return
        percent = received * 100 // total
        if self._drawn == (path, percent) and received < total:
            return  # redraw when the bar moves, not per chunk
        self._drawn = (path, percent)
        filled = received * self.BAR // total
        bar = "#" * filled + "." * (self.BAR - filled)
        self._draw(f"{name}: [{bar}] {percent:3d}% {_size(received)} / {_size(total)}")
        if received == total:
            self.close()

    def close(self) -> None:
        """End a line drawn in place, so that what follows starts on its own line."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def _draw(self, text: str) -> None:
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self._open = True

    def _line(self, text: str) -> None:
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()


def _elapsed(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _size(count: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


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
