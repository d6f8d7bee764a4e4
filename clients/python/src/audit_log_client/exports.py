"""Exports: the offline verifier of an NDJSON export's proof, and the runner that starts
an export, waits for it and downloads its files.

An NDJSON export is one event per line exactly as `GET /events` shows it. Its proof
file says where each line sits in the ledger and hashes what is not in the file:

    {"format": "audit-log-export-proof/v1", "export_id": "exp_…", "events": <lines>,
     "checkpoint": {…the signed checkpoint, as GET /ledger/checkpoint answers it…},
     "leaf_indices": [<leaf index of line 1>, <of line 2>, …],
     "nodes": [{"level": l, "index": i, "hash": "<base64>"}, …],   sorted by start
     "complete": <true iff the file holds every leaf of the checkpoint's tree>}

A node is the RFC 9162 hash of the complete subtree over leaves [i·2^l, (i+1)·2^l).
The exported leaves and the nodes together must tile [0, tree size) exactly, without
overlap or gap; the root is then recomputed by the RFC's recursion, taking a node's
hash where a range is a node and a line's leaf hash where it is one leaf, and must be
the signed root. So each line is proven to be the recorded event at its leaf index,
and, for a complete export, nothing of the log up to that size is missing from it.

The verifier reads the file line by line and keeps 32 bytes per line (one bytearray),
never an object per event; beyond that it holds the proof's own lists (already in
memory as the caller parsed them) and one index per line to walk them in leaf order. A
million lines of a 1.2-million-leaf ledger took about a minute and 280 MB when
measured, most of the memory being the parsed proof and most of the time JSON decoding.
"""

import hmac
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

from audit_log_client._fields import b64, decode_hash, get_int, get_str, require_object
from audit_log_client.api import Client, download
from audit_log_client.checkpoints import PublicKey, verify_checkpoint
from audit_log_client.errors import ApiError, AuditLogError, InputError, VerificationFailed
from audit_log_client.ledger import (
    EMPTY_ROOT,
    ENTRY_FIELDS,
    HASH_SIZE,
    _fast_json,
    entry_bytes,
    leaf_hash,
    node_hash,
)

PROOF_FORMAT = "audit-log-export-proof/v1"
# A complete subtree inside a tree of at most 2^64-1 leaves has at most 2^63.
MAX_LEVEL = 63
# What a line may hold: the recorded fields, which the proof covers, and `signals`,
# derived after recording. Any other key would sit beside proven fields unproven.
LINE_FIELDS = frozenset((*ENTRY_FIELDS, "signals"))

FORMATS = ("csv", "ndjson")
FILTERS = ("event_type", "actor_id", "since", "until", "target_type", "target_id")
STATES = ("queued", "running", "succeeded", "failed")
FINAL_STATES = frozenset({"succeeded", "failed"})
# Polling: the first wait, the most any wait grows to, and the growth per poll. Module
# values (read at call time) so a test or a caller can make them shorter.
POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 5.0
POLL_BACKOFF = 1.5
DEFAULT_TIMEOUT = 3600.0
# An export id names the default files: it must be a plain file name, never a path.
_EXPORT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


# --- the proof -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExportVerification:
    """What a verified export proves: `events` lines are leaves of the checkpoint of
    `tree_size` leaves of ledger `origin`; `complete`: they are all of its leaves."""

    events: int
    tree_size: int
    complete: bool
    origin: str
    export_id: str

    @property
    def not_exported(self) -> int:
        """Leaves of the checkpoint's tree that are not in the file."""
        return self.tree_size - self.events


class _Node(NamedTuple):
    start: int
    end: int
    hash: bytes
    what: str


def verify_export(ndjson_path: str | Path, proof_document: object, key: PublicKey) -> ExportVerification:
    """That the NDJSON export at `ndjson_path` is what its proof (the parsed proof file)
    says: the checkpoint is signed by `key`, every line is the recorded event at its
    leaf index, and the lines and nodes hash to the signed root (see the module).
    VerificationFailed naming the first check that fails (with the line number where
    one line is at fault); InputError when the file cannot be read.

    The proof is checked whole before the file is read: a proof that cannot be right
    for any file fails without reading a byte of it."""
    proof = require_object(proof_document, "the export proof")
    if proof.get("format") != PROOF_FORMAT:
        raise VerificationFailed(f"the export proof's format is {proof.get('format')!r}, not {PROOF_FORMAT!r}")
    export_id = get_str(proof, "export_id", "the export proof")
    checkpoint = verify_checkpoint(proof.get("checkpoint"), key, "the export proof's checkpoint")
    size = checkpoint.head.size
    events = get_int(proof, "events", "the export proof")
    indices = proof.get("leaf_indices")
    if not isinstance(indices, list):
        raise VerificationFailed("the export proof has no leaf_indices list")
    if len(indices) != events:
        raise VerificationFailed(
            f"the export proof lists {len(indices)} leaf indices for {events} events: one per line is needed"
        )
    complete = proof.get("complete")
    if type(complete) is not bool:
        raise VerificationFailed("the export proof has no boolean complete")
    _check_indices(indices, size)
    nodes = _read_nodes(proof.get("nodes"), size)
    order = sorted(range(events), key=indices.__getitem__)  # lines by leaf index (the file is newest first)
    _check_distinct(indices, order)
    _check_tiling(indices, order, nodes, size)
    every_leaf = events == size  # the tiling is exact: then there is no node either
    if complete != every_leaf:
        raise VerificationFailed(
            "the export proof says complete: true, but "
            f"{size - events} of the checkpoint's {size} events are not in the file"
            if complete
            else f"the export proof says complete: false, but the file holds every leaf of the tree of size {size}"
        )
    path = Path(ndjson_path)
    root = _root(size, indices, order, _read_leaves(path, events, fast=True), nodes)
    if not hmac.compare_digest(root, checkpoint.head.root_hash):
        # The fast serialisation differs from RFC 8785 for a few values (some floats,
        # keys beyond U+FFFF): only the reference decides that the file is not the log.
        root = _root(size, indices, order, _read_leaves(path, events, fast=False), nodes)
        if not hmac.compare_digest(root, checkpoint.head.root_hash):
            hashed = f"the file's {events} events at the proof's leaf indices"
            if nodes:
                hashed += f" and the proof's {len(nodes)} nodes"
            raise VerificationFailed(
                f"root mismatch: {hashed} hash to {b64(root)}, not to the signed root "
                f"{b64(checkpoint.head.root_hash)} of size {size}: a line was changed, moved or replaced, "
                "or the proof is for another file"
            )
    return ExportVerification(events, size, every_leaf, checkpoint.head.origin, export_id)


def _check_indices(indices: Sequence[object], size: int) -> None:
    for line, index in enumerate(indices, 1):
        if type(index) is not int:  # not true, not 7.0, not "7": one index has one form
            raise VerificationFailed(f"leaf_indices[{line - 1}] (line {line}) is {index!r}, not an integer")
        if not 0 <= index < size:
            raise VerificationFailed(
                f"leaf_indices[{line - 1}] (line {line}) is {index}, not a leaf of the checkpoint's tree of size {size}"
            )


def _read_nodes(value: object, size: int) -> list[_Node]:
    """The proof's nodes, each a complete subtree inside the tree, sorted by start and
    not overlapping one another."""
    if not isinstance(value, list):
        raise VerificationFailed("the export proof has no nodes list")
    nodes: list[_Node] = []
    for position, item in enumerate(value):
        what = f"node {position}"
        node = require_object(item, f"{what} of the export proof")
        level = get_int(node, "level", what)
        index = get_int(node, "index", what)
        if not 0 <= level <= MAX_LEVEL or index < 0:
            raise VerificationFailed(f"{what} has level {level} and index {index}: not a subtree of any tree")
        start, end = index << level, (index + 1) << level
        what = f"node {position} (level {level}, index {index}: leaves {start}..{end - 1})"
        if end > size:
            raise VerificationFailed(f"{what} is not a complete subtree of the checkpoint's tree of size {size}")
        if nodes and start < nodes[-1].end:
            raise VerificationFailed(
                f"{what} overlaps {nodes[-1].what}"
                if start >= nodes[-1].start
                else f"{what} comes after {nodes[-1].what}: the nodes are not sorted by start"
            )
        nodes.append(_Node(start, end, decode_hash(node.get("hash"), f"the hash of {what}"), what))
    return nodes


def _check_distinct(indices: Sequence[int], order: Sequence[int]) -> None:
    """No leaf index twice. Checked before the tiling, which would otherwise name the
    gap a duplicate leaves behind rather than the duplicate itself."""
    for first, second in pairwise(order):
        if indices[first] == indices[second]:
            raise VerificationFailed(
                f"leaf {indices[first]} is exported twice, by lines {first + 1} and {second + 1}: "
                "a leaf index may appear once"
            )


def _check_tiling(indices: Sequence[int], order: Sequence[int], nodes: Sequence[_Node], size: int) -> None:
    """That the exported leaves (distinct) and the nodes (sorted, apart) cover [0, size)
    exactly once each: what is left is a node over an exported leaf, or a gap."""
    position, last = 0, "the start of the tree"
    for start, end, what in _tiles(indices, order, nodes):
        if start < position:
            raise VerificationFailed(
                f"{what} is also covered by {last}: a node may only cover leaves that are not in the file"
            )
        if start > position:
            raise VerificationFailed(_gap(position, start))
        position, last = end, what
    if position < size:
        raise VerificationFailed(_gap(position, size))


def _gap(start: int, end: int) -> str:
    leaves = f"leaf {start} is" if end - start == 1 else f"leaves {start}..{end - 1} are"
    return f"{leaves} neither in the file nor covered by a node of the export proof: a gap"


def _tiles(indices: Sequence[int], order: Sequence[int], nodes: Sequence[_Node]) -> Iterator[tuple[int, int, str]]:
    """The exported leaves and the nodes as (start, end, description), by start; a node
    before a leaf of the same start, so that an overlap is named as the leaf's."""
    next_node = 0
    for line in order:
        leaf = indices[line]
        while next_node < len(nodes) and nodes[next_node].start <= leaf:
            node = nodes[next_node]
            yield node.start, node.end, node.what
            next_node += 1
        yield leaf, leaf + 1, f"leaf {leaf} (line {line + 1})"
    for node in nodes[next_node:]:
        yield node.start, node.end, node.what


def _read_leaves(path: Path, events: int, *, fast: bool) -> bytearray:
    """The leaf hash of each line of `path`, 32 bytes per line in file order.

    `fast`: serialise with the standard library's encoder, which writes the RFC 8785
    bytes for every event seen in practice at a tenth of rfc8785's cost; the caller
    falls back to `fast=False` (rfc8785 alone) when the root does not match."""
    leaves = bytearray(events * HASH_SIZE)
    count = 0
    try:
        with path.open("rb") as handle:
            for count, raw in enumerate(handle, 1):
                if count > events:
                    raise VerificationFailed(
                        f"the file has more lines than the {events} events of its proof (line {count} is one too "
                        "many): a line was added, or the proof is for another file"
                    )
                offset = (count - 1) * HASH_SIZE
                leaves[offset : offset + HASH_SIZE] = _line_leaf(raw, count, fast)
    except OSError as exc:
        raise InputError(f"cannot read the export {path}: {exc}") from exc
    if count < events:
        raise VerificationFailed(
            f"the file has {count} lines, its proof is for {events} events: a line was dropped, "
            "or the proof is for another file"
        )
    return leaves


def _line_leaf(raw: bytes, line: int, fast: bool) -> bytes:
    if not raw.endswith(b"\n"):
        raise VerificationFailed(f"line {line} does not end with a newline: the file is cut short")
    try:
        event = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise VerificationFailed(f"line {line} is not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise VerificationFailed(f"line {line} is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise VerificationFailed(f"line {line} is not a JSON object")
    if event.keys() == LINE_FIELDS:  # every line the service writes: the entry is the event less its signals
        del event["signals"]
        recorded = event
    else:
        if not LINE_FIELDS.issuperset(event):
            extra = ", ".join(sorted(str(key) for key in event if key not in LINE_FIELDS))
            raise VerificationFailed(
                f"line {line} has key(s) the service does not write, which nothing proves: {extra}"
            )
        missing = [field for field in ENTRY_FIELDS if field not in event]
        if missing:
            raise VerificationFailed(f"line {line} lacks the recorded field(s) {', '.join(missing)}")
        recorded = {field: event[field] for field in ENTRY_FIELDS}
    if fast:
        try:
            return leaf_hash(_fast_json(recorded).encode())
        except (TypeError, ValueError, RecursionError):  # NaN, a lone surrogate: the reference decides
            pass
    try:
        return leaf_hash(entry_bytes(recorded))
    except VerificationFailed as failure:
        raise VerificationFailed(f"line {line}: {failure.message}") from failure


def _root(size: int, indices: Sequence[int], order: Sequence[int], leaves: bytearray, nodes: Sequence[_Node]) -> bytes:
    """MTH(0, size) by RFC 9162's recursion over a tiling already checked: a range that
    is the next node takes its hash, a range of one leaf the next line's leaf hash, any
    other splits at its largest power of two. Leaves and nodes are consumed in order, so
    the recursion visits about twice as many ranges as there are lines and nodes, and
    goes at most 64 deep."""
    if size == 0:
        return EMPTY_ROOT
    view = memoryview(leaves)
    next_leaf = next_node = 0

    def mth(lo: int, hi: int) -> bytes:
        nonlocal next_leaf, next_node
        if next_node < len(nodes) and nodes[next_node].start == lo and nodes[next_node].end == hi:
            next_node += 1
            return nodes[next_node - 1].hash
        if hi - lo == 1:
            line = order[next_leaf] if next_leaf < len(order) else -1
            if line < 0 or indices[line] != lo:
                raise VerificationFailed(_gap(lo, hi))  # the tiling check makes this unreachable
            next_leaf += 1
            return bytes(view[line * HASH_SIZE : (line + 1) * HASH_SIZE])
        split = lo + (1 << ((hi - lo - 1).bit_length() - 1))
        left = mth(lo, split)
        return node_hash(left, mth(split, hi))

    return mth(0, size)


# --- the runner ----------------------------------------------------------------------


class ExportFailed(AuditLogError):
    """The service reports that the export failed: there is nothing to download or
    check. `export` is the export object, `error` the service's reason."""

    def __init__(self, export: Mapping[str, Any]) -> None:
        error = export.get("error")
        self.error = error if isinstance(error, str) and error else "the service gave no reason"
        super().__init__(f"the export {export.get('export_id')} failed: {self.error}")
        self.export = export


class ExportTimedOut(AuditLogError):
    """The export had not finished when the caller's time ran out; it may still finish,
    and `GET /exports/{export_id}` will then have its files."""

    def __init__(self, export: Mapping[str, Any], timeout: float) -> None:
        export_id = export.get("export_id")
        super().__init__(
            f"the export {export_id} was still {export.get('state')} after {timeout:g} s; "
            f"it may still finish: see GET /exports/{export_id}"
        )
        self.export = export


@dataclass(frozen=True)
class DownloadedExport:
    """An export's files on disk; `proof_path` for an NDJSON export only."""

    export_id: str
    format: str
    events: int | None
    path: Path
    proof_path: Path | None


def check_export(document: object, what: str) -> dict[str, Any]:
    """`document` as an export object, once the fields the runner relies on are what the
    contract says; ApiError otherwise, since it is the service's answer that is wrong.
    The export id must be a plain name: it names the default files."""
    if not isinstance(document, dict):
        raise ApiError(f"{what} did not answer an export object")
    export_id = document.get("export_id")
    if not isinstance(export_id, str) or not _EXPORT_ID.fullmatch(export_id):
        raise ApiError(f"{what} answered an export without a usable export_id")
    if document.get("format") not in FORMATS:
        raise ApiError(f"{what} answered an export of format {document.get('format')!r}, not one of {FORMATS}")
    if document.get("state") not in STATES:
        raise ApiError(f"{what} answered an export in state {document.get('state')!r}, not one of {STATES}")
    events = document.get("events")
    if events is not None and (type(events) is not int or events < 0):
        raise ApiError(f"{what} answered an export whose events is not a count")
    if document["state"] == "succeeded":
        urls = ("download_url", "proof_url") if document["format"] == "ndjson" else ("download_url",)
        for name in urls:
            if not isinstance(document.get(name), str):
                raise ApiError(f"{what} answered a succeeded export without its {name}")
    return document


def export_body(export_format: str, filters: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The body of POST /exports: the format and only the filters given. InputError for
    an unknown format or filter, or a target type without a target id (or the reverse),
    which the service would refuse anyway, after a round trip."""
    if export_format not in FORMATS:
        raise InputError(f"the export format is {export_format!r}, not one of {', '.join(FORMATS)}")
    body = {"format": export_format}
    for name, value in (filters or {}).items():
        if name not in FILTERS:
            raise InputError(f"{name} is not an export filter (the filters are {', '.join(FILTERS)})")
        if value is not None:
            body[name] = value
    if ("target_type" in body) != ("target_id" in body):
        raise InputError("a target type and a target id go together: give both or neither")
    return body


def start_export(client: Client, export_format: str, filters: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """Start an export (POST /exports) of the events matching `filters` (those of
    GET /events: event_type, actor_id, since, until, target_type with target_id); the
    export object the service answered, usually queued."""
    answer = client.post_json("/exports", export_body(export_format, filters))
    return check_export(answer.body, "POST /exports")


def wait_for_export(
    client: Client,
    export_id: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_update: Callable[[Mapping[str, Any]], None] | None = None,
    interval: float | None = None,
    max_interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll GET /exports/{export_id} until the export succeeded or failed; its last
    object (a failed export is returned, not raised: the caller decides). The wait
    starts at `interval` and grows to `max_interval` (by default POLL_INTERVAL and
    MAX_POLL_INTERVAL): a small export is seen done within a second, a long one costs
    a request every few seconds. 429 and 503 are retried after their Retry-After by the
    client. `on_update` sees every object polled. ExportTimedOut after `timeout` s."""
    delay = POLL_INTERVAL if interval is None else interval
    ceiling = MAX_POLL_INTERVAL if max_interval is None else max_interval
    deadline = clock() + timeout
    what = f"GET /exports/{export_id}"
    while True:
        export = check_export(client.export(export_id), what)
        if export["export_id"] != export_id:
            raise ApiError(f"{what} answered export {export['export_id']}")
        if on_update is not None:
            on_update(export)
        if export["state"] in FINAL_STATES:
            return export
        remaining = deadline - clock()
        if remaining <= 0:
            raise ExportTimedOut(export, timeout)
        sleep(min(delay, remaining))
        delay = min(delay * POLL_BACKOFF, max(ceiling, delay))


def default_paths(export: Mapping[str, Any]) -> tuple[Path, Path | None]:
    """`<export_id>.csv` or `<export_id>.ndjson`, and `<export_id>.proof.json` for NDJSON."""
    export_id, export_format = export["export_id"], export["format"]
    proof = Path(f"{export_id}.proof.json") if export_format == "ndjson" else None
    return Path(f"{export_id}.{export_format}"), proof


def download_export(
    export: Mapping[str, Any],
    output: str | Path | None = None,
    proof_output: str | Path | None = None,
    *,
    on_progress: Callable[[Path, int, int | None], None] | None = None,
    timeout: float = 60.0,
) -> DownloadedExport:
    """Download a succeeded export's file to `output` and, for NDJSON, its proof to
    `proof_output` (defaults: `default_paths`), each whole or not at all (see
    `api.download`). The presigned URLs are fetched without the token. The proof goes
    first: it is small, and both URLs are valid only minutes after the export object
    was fetched, however long the file takes. ExportFailed for a failed export."""
    checked = check_export(dict(export), "the export")
    if checked["state"] == "failed":
        raise ExportFailed(checked)
    if checked["state"] != "succeeded":
        raise InputError(f"the export {checked['export_id']} is {checked['state']}: there is nothing to download yet")
    default_output, default_proof = default_paths(checked)
    path = Path(output) if output is not None else default_output
    proof_path: Path | None = None
    if checked["format"] == "ndjson":
        proof_path = Path(proof_output) if proof_output is not None else default_proof
    downloads = [(checked["download_url"], path)]
    if proof_path is not None:
        downloads.insert(0, (checked["proof_url"], proof_path))
    for url, target in downloads:
        progress = None if on_progress is None else _progress_for(on_progress, target)
        download(url, target, timeout=timeout, on_progress=progress)
    return DownloadedExport(checked["export_id"], checked["format"], checked.get("events"), path, proof_path)


def _progress_for(
    on_progress: Callable[[Path, int, int | None], None], target: Path
) -> Callable[[int, int | None], None]:
    def report(received: int, total: int | None) -> None:
        on_progress(target, received, total)

    return report


def run_export(
    client: Client,
    export_format: str,
    filters: Mapping[str, str | None] | None = None,
    *,
    output: str | Path | None = None,
    proof_output: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    on_update: Callable[[Mapping[str, Any]], None] | None = None,
    on_progress: Callable[[Path, int, int | None], None] | None = None,
) -> DownloadedExport:
    """Start an export, wait for it and download its files: what `audit-log export`
    does before any verification. ExportFailed when the service reports a failure,
    ExportTimedOut when `timeout` s pass first."""
    started = start_export(client, export_format, filters)
    if on_update is not None:
        on_update(started)
    final = wait_for_export(client, started["export_id"], timeout=timeout, on_update=on_update)
    if final["state"] == "failed":
        raise ExportFailed(final)
    return download_export(final, output, proof_output, on_progress=on_progress)
