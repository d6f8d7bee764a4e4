"""bench/results.md and bench/latency.png from one run's measurements.

Every number in the report comes from the result objects the sections return; the only
fixed text is what the goals are and how each figure is obtained.
"""

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from audit_log.events_table import FILTERED_READ_BUDGET
from bench.client import BLOCK, ClientResult
from bench.cold_start import BASELINE, CHANGES, NO_LAYER_BYTECODE, TRACING_OFF, UNDONE, ColdStartResult
from bench.exports import MEMORY_GOAL_MB, PROOF_GOAL_BYTES, ExportResult
from bench.investigation import BATCH as INDEX_BATCH
from bench.investigation import LIMIT as HISTORY_LIMIT
from bench.investigation import InvestigationResult
from bench.latency import LatencyResult
from bench.ledger import RATE_GOAL, READ_GOAL, WRITE_GOAL, LedgerResult
from bench.package_size import UNZIPPED_QUOTA, ZIPPED_QUOTA, PackageResult
from bench.reads import ACTOR, EVENT_TYPE, LIMIT, ORG, SINCE, UNTIL, ReadResult
from bench.streams import INVOCATIONS_PER_BATCH_GOAL, StreamResult
from bench.writes import WriteResult


@dataclass(frozen=True)
class Run:
    """One `make bench` run: when, where, how long, and every section's results."""

    started: datetime
    seconds: float
    cpus: int
    cold: ColdStartResult
    reads: ReadResult
    writes: WriteResult
    latency: LatencyResult
    package: PackageResult
    ledger: LedgerResult
    investigation: InvestigationResult
    exports: ExportResult
    streams: StreamResult | None = None
    client: ClientResult | None = None
    quick: bool = False


def yes_no(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB" if size >= 100 * 1024 else f"{size / 1024:.1f} KiB"


def goal_rows(run: Run) -> list[str]:
    """The summary: one line per figure that has a goal."""
    rows = [
        f"| 1 | cold start of `{cold.name}` ÷ baseline | {cold.ratio:.2f}x | ≤ {cold.goal}x | {yes_no(cold.met)} |"
        for cold in run.cold.rows
        if cold.goal is not None
    ]
    singles = [read for read in run.reads.rows if read.has_goal]
    worst_read = max(singles, key=lambda read: read.read_per_returned)
    worst_calls = max(singles, key=lambda read: read.calls_per_page)
    rows.append(
        f"| 2 | items read per item returned, worst single-filter shape ({worst_read.shape}) "
        f"| {worst_read.read_per_returned:.2f} | 1.00 | {yes_no(worst_read.scanned == worst_read.returned)} |"
    )
    rows.append(
        f"| 2 | Query calls per page, worst single-filter shape ({worst_calls.shape}) "
        f"| {worst_calls.calls_per_page:.2f} | 1 | {yes_no(worst_calls.calls_per_page <= 1)} |"
    )
    for write in run.writes.rows:
        key = "with" if write.with_key else "without"
        rows.append(
            f"| 3 | write units per event, {write.request} {key} idempotency key "
            f"| {write.units_per_event:g} | ≤ {write.goal} | {yes_no(write.met)} |"
        )
    ledger = run.ledger
    for cost in ledger.writes:
        if cost.met is not None:
            rows.append(
                f"| 6 | ledger write units per event, stream batches of {cost.batch} "
                f"| {cost.per_event:.3f} | ≤ {WRITE_GOAL} | {yes_no(cost.met)} |"
            )
    for proof in ledger.proofs:
        if proof.met is not None:
            reads = max(proof.inclusion_reads, proof.consistency_reads)
            rows.append(
                f"| 6 | DynamoDB reads per proof at {proof.leaves:,} leaves (worse of inclusion, consistency) "
                f"| {reads} | ≤ {READ_GOAL} | {yes_no(proof.met)} |"
            )
    rows.append(
        f"| 6 | `audit-log audit` recomputation, entries already fetched | {ledger.recomputed_per_second:,.0f}/s "
        f"| ≥ {RATE_GOAL:,}/s | {yes_no(ledger.rate_met)} |"
    )
    history = run.investigation.reads
    rows.append(
        f"| 7 | items read per item returned, one resource's history | {history.read_per_returned:.2f} | 1.00 "
        f"| {yes_no(history.scanned == history.returned and history.calls == history.pages)} |"
    )
    exports = run.exports
    for used in exports.memory:
        if used.events == max(m.events for m in exports.memory):
            rows.append(
                f"| 8 | export worker's peak memory, {used.events:,} events, {used.file_format} "
                f"| {used.peak_mb:.0f} MB | < {MEMORY_GOAL_MB} MB | {yes_no(used.met)} |"
            )
    per_event = exports.proof_per_event()
    if per_event is not None:
        rows.append(
            f"| 8 | proof file bytes per event, whole-log NDJSON export of {max(m.events for m in exports.memory):,} "
            f"| {per_event:.1f} | ≤ {PROOF_GOAL_BYTES} | {yes_no(per_event <= PROOF_GOAL_BYTES)} |"
        )
    for read in exports.reads:
        if read.shape in ("type", "actor", "whole log"):
            rows.append(
                f"| 8 | events-table items read per exported event, {read.shape} | {read.per_event:.2f} | 1.00 "
                f"| {yes_no(read.queried == read.events)} |"
            )
    if run.streams is not None:
        trickle = run.streams.trickle
        per_batch = trickle.invocations_per_batch
        rows.append(
            f"| 9 | delivery invocations per batch of up to 100 events per stream (trickle of {trickle.rounds} "
            f"batches) | {per_batch:.2f} | ≤ {INVOCATIONS_PER_BATCH_GOAL:.0f} "
            f"| {yes_no(per_batch <= INVOCATIONS_PER_BATCH_GOAL)} |"
        )
        for rate in run.streams.throughput:
            batches = -(-rate.events // 100)
            rows.append(
                f"| 9 | delivery invocations per batch of 100, a backlog of {rate.events:,} to {rate.destination} "
                f"| {rate.invocations / batches:.2f} | ≤ {INVOCATIONS_PER_BATCH_GOAL:.0f} "
                f"| {yes_no(rate.invocations / batches <= INVOCATIONS_PER_BATCH_GOAL)} |"
            )
    return rows


def cold_section(result: ColdStartResult) -> list[str]:
    lines = [
        "## 1. Cold start",
        "",
        f"Import and init of each function's handler module in a fresh process, median of {result.runs} "
        "interleaved rounds (one process of each per round, after one discarded warm-up round), beside a "
        "process that only imports boto3 and creates a DynamoDB client. Init: what the first request would "
        "otherwise make: the signing keys (`tokens.signing_keys`, JWKS_JSON) for the authorizer, the KMS "
        "client for ledger_key_output, the DynamoDB client (`events_table.dynamodb_client()`) for every "
        "other function. The processes import only what a deployed "
        "function can: the layer exactly as `sam build` built it, and boto3 with the libraries Lambda's "
        "runtime ships beside it (site-packages off, so the venv's awscrt and pyOpenSSL, which botocore "
        "would load and Lambda does not have, stay out), and each function's `app.py` from its `sam build` "
        "directory. They write no bytecode (`-B`), as on Lambda's read-only /opt: they use the bytecode the "
        "layer ships (layers/common/Makefile compiles it) and the runtime's own. They get a deployed "
        "function's environment (template.yaml's Globals, LAMBDA_TASK_ROOT set, tracing on), so Powertools' "
        "Tracer patches botocore "
        "at import as with `Tracing: Active`; the goals are judged on that, and the *tracing off* rows show "
        "what the instrumentation costs. The *layer without bytecode* rows import a copy of the layer with "
        "its bytecode removed: what every cold start would pay if the layer shipped none, since nothing can "
        "be written to /opt. The *floor* rows are the baseline plus what every HTTP function here must import "
        "and set up: pydantic (Powertools validates with it; its import and its first model) and Powertools' "
        "Logger, Metrics and Tracer, loaded as the functions load (`audit_log.loading`): what a function "
        "using them costs if it adds nothing to a bare boto3 process. The functions can start faster than "
        "that: they import botocore without boto3 and make their clients without botocore's listing of every "
        "service it has models for (`audit_log.aws_clients`). *Then the first request*: "
        "record_event's and query_log's first request after init, timed in the same process (one refused "
        "by validation, so that it needs no DynamoDB but builds everything a request needs on the "
        "Python side), so that work moved from init to the first request would show. Peak memory is each "
        "process's own `ru_maxrss` (interpreter included), median over the runs. " + instructions_note(result),
        "",
        "| process | median | min - max | ÷ baseline | goal | met | then the first request | peak memory "
        "| instructions ÷ baseline's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        if UNDONE in row.name:
            continue
        goal = "—" if row.goal is None else f"≤ {row.goal}x"
        function, _, variant = row.name.partition(" (")
        plain = row.name == BASELINE or row.name.startswith("floor:")
        name = row.name if plain else f"`{function}`" + (f" ({variant}" if variant else "")
        first = "—" if row.first_request_ms is None else f"{row.first_request_ms:.1f} ms"
        lines.append(
            f"| {name} | {row.median_ms:.0f} ms | {row.min_ms:.0f} - {row.max_ms:.0f} ms | {row.ratio:.2f}x "
            f"| {goal} | {yes_no(row.met)} | {first} | {row.median_peak_rss_mib:.1f} MiB "
            f"| {instructions(row.instruction_ratio)} |"
        )
    lines += changes_table(result)
    targets = list(result.imports)
    by_target = {target: dict(entries) for target, entries in result.imports.items()}
    packages: list[str] = []
    for target in targets[:-1]:  # the functions' biggest, in order; the baseline only for comparison
        packages += [package for package, _ in result.imports[target][:6] if package not in packages]
    lines += [
        "",
        "Where the import time goes: one extra process per target under `python -X importtime`, self time "
        "summed by top-level package, with the collector off in that process (a collection would be counted "
        "in whichever import it interrupted). The report slows imports down, so read the shares, not the "
        "totals; creating the client or loading keys is not an import and is not in it; and a module that "
        "several packages import is counted once, for whichever imported it first:",
        "",
        "| package | " + " | ".join(targets) + " |",
        "|---|" + "---|" * len(targets),
    ]
    for package in packages:
        cells = " | ".join(f"{by_target[target].get(package, 0.0):.0f} ms" for target in targets)
        lines.append(f"| `{package}` | {cells} |")
    totals = " | ".join(f"{sum(by_target[target].values()):.0f} ms" for target in targets)
    lines.append(f"| all imports | {totals} |")
    missed = [row for row in result.rows if row.met is False]
    variants = {other.name: other for other in result.rows}
    floor = max((row for row in result.rows if row.name.startswith("floor:")), key=lambda row: row.ratio, default=None)
    if missed:
        baseline = by_target[BASELINE]
        lines += ["", "**Goals missed, and why** (this is what the code as it is costs):", ""]
        for row in missed:
            why = ""
            if row.name in by_target:
                extra = sorted(
                    ((package, spent - baseline.get(package, 0.0)) for package, spent in by_target[row.name].items()),
                    key=lambda entry: entry[1],
                    reverse=True,
                )
                listed = ", ".join(f"`{package}` {spent:.0f} ms" for package, spent in extra[:6] if spent >= 1)
                why = f" Import self time it spends beyond the baseline's, by package: {listed}."
            off = variants.get(row.name + TRACING_OFF)
            if off:
                why += f" With tracing off it is {off.ratio:.2f}x."
            uncompiled = variants.get(row.name + NO_LAYER_BYTECODE)
            if uncompiled:
                why += f" Without the layer's bytecode it would be {uncompiled.ratio:.2f}x."
            if floor is not None and row.name != "authorizer":
                why += f" The floor for any function with pydantic and Powertools' three is {floor.ratio:.2f}x."
            lines.append(f"- `{row.name}`: {row.ratio:.2f}x the baseline (goal ≤ {row.goal}x).{why}")
    return lines


def instructions_note(result: ColdStartResult) -> str:
    if result.instructions_missing:
        return f"*Instructions*: not counted in this run: {result.instructions_missing}."
    return (
        "*Instructions ÷ baseline's*: each process's init once more under callgrind, in instructions "
        "executed (the interpreter's start and the prelude taken off), as a multiple of the baseline's: "
        "the same on every run, whatever else this shared machine is doing, so it shows a change of a few "
        "percent that the timings' spread hides. It leaves out time in the kernel (reading and listing "
        "files, mapping libraries) and waiting for memory, which the timings include; the goals are "
        "judged on the timings."
    )


def instructions(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.3f}x"


def changes_table(result: ColdStartResult) -> list[str]:
    """Each cold-start saving, measured in this same run: the function as it is beside the
    same function with that one change undone."""
    rows = {row.name: row for row in result.rows}
    lines = [
        "",
        "What each change made to the cold start gains, in this run: the function as it is beside the same "
        "function with only that change undone in its process (*undone by*), medians of the same rounds. "
        "Gains are not additive: a module two changes both avoid is counted by each. *First request's gain*: "
        "how much longer the first request took with the change undone (negative: the change made the first "
        "request slower, by what it moved there). *Gain in instructions*: the same difference in "
        "instructions ÷ baseline's, which is the figure to read for a change this small: the timings' "
        "medians move by more than that between runs.",
        "",
        "| change | undone by | function | as it is | undone | gain | gain ÷ baseline | first request's gain "
        "| gain in instructions ÷ baseline's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for change in CHANGES:
        for function in change.functions:
            undone = rows.get(f"{function}{UNDONE}{change.name})")
            current = rows.get(function)
            if undone is None or current is None:
                continue
            gain = undone.median_ms - current.median_ms
            first = ""
            if current.first_request_ms is not None and undone.first_request_ms is not None:
                first = f" | {undone.first_request_ms - current.first_request_ms:+.1f} ms"
            counted = "—"
            if current.instruction_ratio is not None and undone.instruction_ratio is not None:
                counted = f"{undone.instruction_ratio - current.instruction_ratio:+.3f}x"
            lines.append(
                f"| {change.name} | {change.undone_by} | `{function}` | {current.median_ms:.0f} ms "
                f"| {undone.median_ms:.0f} ms | {gain:+.0f} ms | {undone.ratio - current.ratio:+.2f}x"
                + (first or " | —")
                + f" | {counted} |"
            )
    return lines


def reads_section(result: ReadResult) -> list[str]:
    lines = [
        "## 2. Read amplification",
        "",
        f"{result.events:,} events seeded (3 organisations, 50 actors each, 12 event types, 90 days, Zipf-skewed "
        f"types and actors); every page of `{ORG}`'s log ({result.org_events:,} events) walked with limit {LIMIT} "
        "through `audit_log.querying.read_page`, following `next_cursor`. Filters: "
        f"type `{EVENT_TYPE}`, actor `{ACTOR}`, time range `{SINCE}` to `{UNTIL}`. "
        "Counts are DynamoDB's own (`ScannedCount`, `Count` of every Query response). "
        "Goal: 1.00 items read per item returned and one Query call per page for every single-filter shape.",
        "",
        "| filter shape | events served | pages | events per page | Query calls | calls per page | items read "
        "| items returned | read per returned | read per served | goal | met | baseline calls per page "
        "| baseline read per returned |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        goal = "1.00, 1 call per page" if row.has_goal else "— (combination)"
        if row.baseline_calls_per_page is None or row.baseline_read_per_returned is None:
            baseline = "same Query as ours | same"
        else:
            baseline = f"{row.baseline_calls_per_page:.2f} | {row.baseline_read_per_returned:.3f}"
        lines.append(
            f"| {row.shape} | {row.served:,} | {row.pages} | {row.events_per_page:.1f} | {row.calls} "
            f"| {row.calls_per_page:.2f} "
            f"| {row.scanned:,} | {row.returned:,} | {row.read_per_returned:.3f} | {row.read_per_served:.3f} "
            f"| {goal} | {yes_no(row.met)} | {baseline} |"
        )
    lines += [
        "",
        "*Items returned* counts what DynamoDB returned, including the one look-ahead item each non-final "
        f"page asks for ({LIMIT + 1} for a page of {LIMIT}) so that the last page says it is the last; "
        "*read per served* divides by the events handed to the caller instead, so it carries that look-ahead "
        f"(about 1/{LIMIT}). *Baseline*: the organisation's partition, the time range as a key condition, type "
        f"and actor as a FilterExpression, Limit {LIMIT} per call; it serves the same events (checked), its "
        f"calls per page are per {LIMIT} events served. Without a type or actor it would send our very Query, so "
        "it is not run for those shapes.",
    ]
    filtered = [row for row in result.rows if row.scanned > row.returned]
    if filtered:
        lines += [
            "",
            "Shapes that read items they do not return ("
            + ", ".join(f"{row.shape}: {row.read_per_served:.2f} read per event served" for row in filtered)
            + "): no index has both keys, so the query reads the actor's index and a FilterExpression drops the "
            "actor's other event types; a page stops after "
            f"{FILTERED_READ_BUDGET:,} items read, with a cursor, so a rare type of a very active actor cannot make "
            "one request read the actor's whole history.",
        ]
    return lines


def writes_section(result: WriteResult) -> list[str]:
    index_names = ", ".join(f"`{index.name}` ({index.projection})" for index in result.indexes)
    lines = [
        "## 3. Write cost",
        "",
        "Events recorded through `audit_log.recording.record_events` against moto; every request its client "
        "sent is captured and costed by DynamoDB's rules: 1 write unit per KB (rounded up) per item written, "
        "2 per KB inside a transaction, plus one standard write per index whose keys the item carries, sized "
        f"by what the index projects. Indexes (from template.yaml): {index_names}. "
        "Goal: ≤ 3 write units per ≤ 1 KiB event without an idempotency key, ≤ 5 with one. Every request also "
        "asked for the engine's own count (`ReturnConsumedCapacity: INDEXES`); *engine reported* is what came "
        "back. moto does not bill: it answers a fixed 1.0 per PutItem, whatever the item or its indexes, and "
        "nothing for a transaction, so the derived units are the figures here; DynamoDB itself would report "
        "what it bills.",
        "",
        "| request | idempotency key | events | DynamoDB calls | calls per event | operation | event item size "
        "| units per event: event + marker + indexes | write units per event (derived) | engine reported "
        "| goal | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        per = row.per_event
        reported = "none" if row.reported_per_event is None else f"{row.reported_per_event:g} per event"
        lines.append(
            f"| {row.request} | {'yes' if row.with_key else 'no'} | {row.events} | {row.calls} "
            f"| {row.calls_per_event:.2f} | {row.operations} | {row.min_item_bytes}-{row.max_item_bytes} B "
            f"| {per[0]:g} + {per[1]:g} + {per[2]:g} | **{row.units_per_event:g}** | {reported} | ≤ {row.goal} "
            f"| {yes_no(row.met)} |"
        )
    lines += [
        "",
        "Every request here succeeds: a write whose condition fails (a retry with a used key) also consumes "
        "units for the item it tried to write, but writes no index entry.",
    ]
    missed = [row for row in result.rows if row.met is False]
    if missed:
        lines += ["", "**Goals missed, and why** (from the rows above):", ""]
        for row in missed:
            event, marker, indexes = row.per_event
            transactional = "TransactWriteItems" in row.operations
            parts = [
                f"the event's own write {event:g} ({'2 per KB inside a transaction' if transactional else '1 per KB'})",
                *([f"its marker {marker:g}"] if marker else []),
                f"{len(result.indexes)} index entries {indexes:g}",
            ]
            why = (
                " A batch is one transaction so that it is stored whole or not at all: a client that retries a "
                "failed batch cannot store half of it twice."
                if transactional and row.events > 1
                else ""
            )
            key = "with" if row.with_key else "without"
            lines.append(
                f"- {row.request} {key} a key: {row.units_per_event:g} units (goal ≤ {row.goal}) = "
                + ", ".join(parts)
                + "."
                + why
            )
    return lines


def latency_section(result: LatencyResult) -> list[str]:
    lines = [
        "## 4. Warm latency",
        "",
        f"In-process against a moto server on 127.0.0.1; {result.iterations} timed iterations after "
        f"{result.warm_up} warm-up ones (the query, far slower than a record in moto, on every other one: "
        "*samples* says how many each figure has). Each operation goes through its function's `lambda_handler` (API "
        "Gateway events built from `events/`), side by side with the bare boto3 call the function makes for "
        "it, on the same client and server, alternating in random order. The ratio is our code's overhead "
        "(validation, Powertools, logging, metrics, ids, the item mapping) over the DynamoDB call; absolute "
        "times are moto's, not DynamoDB's. A p99 is one of the last few samples, so a single pause of this "
        "shared machine (or of Python's garbage collector) on either side moves it: read p50 and p95 first. "
        "No goal is set for these figures.",
        "",
        "![Warm latency: handler vs bare boto3 call](latency.png)",
        "",
        "| operation | samples | through the handler p50 / p95 / p99 | bare call | bare p50 / p95 / p99 "
        "| ratio p50 / p95 / p99 | added at p50 | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result.rows:
        ours, bare = row.ours, row.bare
        lines.append(
            f"| {row.operation} | {row.samples} | {ours.p50:.1f} / {ours.p95:.1f} / {ours.p99:.1f} ms "
            f"| {row.bare_call} "
            f"| {bare.p50:.1f} / {bare.p95:.1f} / {bare.p99:.1f} ms "
            f"| {row.ratio('p50'):.2f}x / {row.ratio('p95'):.2f}x / {row.ratio('p99'):.2f}x "
            f"| {row.added_p50:+.1f} ms | — (none set) |"
        )
    return lines


def package_section(result: PackageResult) -> list[str]:
    lines = [
        "## 5. Package size",
        "",
        f"The `sam build` artifacts ({result.build_note}): unzipped is the sum of file sizes, zipped is a "
        "ZIP_DEFLATED archive of the directory. No goal is set; beside each, Lambda's quotas: 250 MB unzipped "
        "for a function with its layers, 50 MB zipped for a direct upload.",
        "",
        "| artifact | files | unzipped | zipped | unzipped with the layer | within Lambda's quotas |",
        "|---|---|---|---|---|---|",
    ]
    for artifact in result.artifacts:
        total = result.with_layers(artifact) if artifact.kind == "function" else artifact.unzipped
        within = total <= UNZIPPED_QUOTA and artifact.zipped <= ZIPPED_QUOTA
        with_layer = mib(total) if artifact.kind == "function" else "—"
        lines.append(
            f"| {artifact.logical_id} ({artifact.kind}) | {artifact.files:,} | {mib(artifact.unzipped)} "
            f"| {mib(artifact.zipped)} | {with_layer} | {yes_no(within)} |"
        )
    return lines


def ledger_section(result: LedgerResult) -> list[str]:
    lines = [
        "## 6. The ledger",
        "",
        "Write units the ledger adds per event: one organisation's events sealed by `audit_log.ledger.sealing` "
        "and published after every batch (interval 0, the most publishing can cost), every request to the "
        "ledger table captured and costed as in §3 (2 per KB in a transaction). Segments and their markers are "
        "written in one transaction; lookups are single puts; checkpoints one put each.",
        "",
        "| stream batch | events | requests | segments | markers | lookups | nodes | checkpoints | units per event "
        "| goal | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cost in result.writes:
        units = cost.units
        parts = " | ".join(f"{units.get(kind, 0):g}" for kind in ("leaves", "first", "event", "nodes", "checkpoints"))
        goal = f"≤ {WRITE_GOAL}" if cost.met is not None else "—"
        lines.append(
            f"| {cost.batch} | {cost.events} | {cost.calls} | {parts} | **{cost.per_event:.3f}** | {goal} "
            f"| {yes_no(cost.met)} |"
        )
    lines += [
        "",
        "Reads per proof: trees built directly in moto (random leaves), a checkpoint with its compact range at "
        "the full size; an inclusion proof of leaf size/3 and a consistency proof from size/2 + 37, each "
        "counting every DynamoDB call (the latest checkpoint's Query included; the route's own lookup of the "
        "event's leaf is one GetItem more).",
        "",
        "| leaves | inclusion: reads | inclusion: bytes of hashes | consistency: reads | consistency: bytes "
        "| goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for proof in result.proofs:
        goal = f"≤ {READ_GOAL}" if proof.met is not None else "—"
        lines.append(
            f"| {proof.leaves:,} | {proof.inclusion_reads} | {proof.inclusion_bytes} | {proof.consistency_reads} "
            f"| {proof.consistency_bytes} | {goal} | {yes_no(proof.met)} |"
        )
    ratio = result.sealed_per_second / result.hashed_per_second
    hundred = next(cost for cost in result.writes if cost.batch == 100)
    lines += [
        "",
        f"Sealing in-process on moto, batches of 100: **{result.sealed_per_second:,.0f} events/s**, against "
        f"{result.hashed_per_second:,.0f} events/s for computing the same events' leaf hashes alone "
        f"({ratio:.3f}x): sealing is bound by its DynamoDB requests ({hundred.calls / hundred.events:.2f} writes "
        "an event at batches of 100, nearly all of them the lookups), whose cost here is moto's, not DynamoDB's.",
        "",
        f"`audit-log audit`'s own check of entries already fetched (order, leaf hash of each event, the root): "
        f"**{result.recomputed_per_second:,.0f} entries/s** (goal ≥ {RATE_GOAL:,}).",
        "",
        "Seal lag, recorded → in a published checkpoint, events recorded one by one at 10 a second through the "
        "local pipeline (record_event, the events stream read as `make local`'s poller reads it, seal_log; in "
        "one process on moto):",
        "",
        "| CHECKPOINT_INTERVAL_SECONDS | events | p50 | p99 | worst |",
        "|---|---|---|---|---|",
    ]
    for lag in result.lags:
        lines.append(f"| {lag.interval} | {lag.events} | {lag.p50:.2f} s | {lag.p99:.2f} s | {lag.worst:.2f} s |")
    return lines


def investigation_section(result: InvestigationResult) -> list[str]:
    writes, reads = result.writes, result.reads
    kinds = ("target copy", "actor", "actor term", "event type", "first login", "signal")
    return [
        "## 7. Investigation helpers",
        "",
        f"Write units indexing adds per event recorded (index_events, off the record path): {writes.events:,} "
        f"events of the reads' dataset in stream batches of {INDEX_BATCH}, every request to the investigation "
        "table captured; a put costs its item's KB, an update the KB of the item it leaves (a failed "
        "conditional update too), an actor's update 2 more for its moved `by_recency` entry.",
        "",
        f"| events | (event, target) pairs | requests | {' | '.join(kinds)} | units per event | units per target |",
        "|---|---|---|" + "---|" * len(kinds) + "---|---|",
        f"| {writes.events:,} | {writes.targets:,} | {writes.requests:,} | "
        + " | ".join(f"{writes.units.get(kind, 0):g}" for kind in kinds)
        + f" | **{writes.per_event:.2f}** | **{writes.per_target:.2f}** |",
        "",
        f"One resource's history (`target_type` + `target_id`, the busiest target: {reads.target}), every page "
        f"walked at limit {HISTORY_LIMIT}: {reads.served} events in {reads.pages} pages, {reads.calls} Query "
        f"calls, {reads.scanned} items read for {reads.returned} returned "
        f"(**{reads.read_per_returned:.2f}** per item). The hand-rolled alternative, the organisation's "
        f"partition read and the target picked out, read {reads.baseline_scanned:,} items in "
        f"{reads.baseline_calls} calls for the same events.",
    ]


def exports_section(result: ExportResult) -> list[str]:
    rate = result.throughput
    lines = [
        "## 8. Exports",
        "",
        f"Throughput, moto in-process, {rate.events:,} events of one organisation with a ledger over them, one "
        "after the other: walking `GET /events`'s read path (`read_page`, limit 100) "
        f"**{rate.bare_rate:,.0f} events/s**; a CSV export through the worker **{rate.csv_rate:,.0f} events/s** "
        f"(**{rate.csv_rate / rate.bare_rate:.2f}x** the bare read); NDJSON with its proof "
        f"**{rate.ndjson_rate:,.0f} events/s** (**{rate.ndjson_rate / rate.bare_rate:.2f}x**). moto's Query, not the "
        "worker, sets these rates; the ratios are what compares.",
        "",
        "DynamoDB reads per exported event (NDJSON exports, so each event's leaf index is read too): events-table "
        "items read by Query (ScannedCount) and items returned by BatchGetItem (leaf lookups in the ledger table, "
        "and the signals of logins).",
        "",
        "| filter | events exported | Query calls | events-table items read | per event | BatchGetItem items |",
        "|---|---|---|---|---|---|",
    ]
    for cost in result.reads:
        lines.append(
            f"| {cost.shape} | {cost.events:,} | {cost.queries} | {cost.queried:,} | **{cost.per_event:.2f}** "
            f"| {cost.looked_up:,} |"
        )
    lines += [
        "",
        "Peak memory of the export worker (VmHWM of a process holding what its Lambda container holds: the "
        "function's imports, then one export), against a moto server in another process; the events generated "
        "in that process in place of the DynamoDB read (moto cannot serve 10^6 items' Queries), parts of 8 MiB.",
        "",
        "| events | format | peak memory | after imports | file | parts | proof file | proof bytes per event | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for used in result.memory:
        proof = f"{used.proof_bytes / used.events:.1f}" if used.proof_bytes else "—"
        lines.append(
            f"| {used.events:,} | {used.file_format} | **{used.peak_mb:.0f} MB** | {used.baseline_mb:.0f} MB "
            f"| {mib(used.file_bytes)} | {used.parts} | {mib(used.proof_bytes) if used.proof_bytes else '—'} "
            f"| {proof} | {used.seconds:.1f} |"
        )
    return lines


def streams_section(result: StreamResult) -> list[str]:
    trickle = result.trickle
    lines = [
        "## 9. Log streams",
        "",
        "Delivery throughput per stream, moto in-process and an HTTP receiver on 127.0.0.1: a backlog of sealed "
        "events, one stream from leaf 0, until caught up; beside it a bare loop doing the same job (the same reads, "
        "100 leaves at a time, the same bodies and requests over one kept-alive connection) without delivery's "
        "bookkeeping. moto's BatchGetItem sets both rates; the ratio is what compares.",
        "",
        "| destination | events | delivery | bare loop | ratio | invocations | queue messages | DynamoDB calls "
        "per 100 events |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rate in result.throughput:
        lines.append(
            f"| {rate.destination} | {rate.events:,} | **{rate.rate:,.0f} events/s** | {rate.bare_rate:,.0f} events/s "
            f"| **{rate.rate / rate.bare_rate:.2f}x** | {rate.invocations} | {rate.messages} "
            f"| {rate.dynamodb_calls * 100 / rate.events:.1f} |"
        )
    lines += [
        "",
        f"A trickle: {trickle.rounds} batches of 10 events, each recorded, then sealed, dispatched and delivered "
        "(one pass of each event source, as Lambda's would make): end-to-end lag, recorded → at the receiver, "
        f"**p50 {trickle.lag_p50_ms:,.0f} ms, p99 {trickle.lag_p99_ms:,.0f} ms** over {trickle.events} events "
        "(moto's calls, not waiting: this pipeline has no polling delays; on AWS each event source adds its "
        "batching window, 1 s for the sealer's and the dispatcher's streams, and SQS's long poll). Cost: "
        f"{trickle.invocations} delivery invocations ({trickle.invocations_per_batch:.2f} per batch, "
        f"{trickle.invocations / max(trickle.events, 1):.2f} per event), {trickle.messages} queue messages "
        f"({trickle.messages / max(trickle.events, 1):.2f} per event), {trickle.dispatcher_invocations} dispatcher "
        "invocations.",
    ]
    return lines


def client_section(result: ClientResult) -> list[str]:
    over, rate, held = result.overhead, result.throughput, result.memory
    return [
        "## 10. The client for platform backends",
        "",
        f"`AuditLog.record` beside a bare signed request (botocore's SigV4Auth on a body built once, then httpx), "
        f"both to a local server answering 201 at once, {over.calls:,} calls each, alternating in blocks of "
        f"{BLOCK}: **{over.ours_us:,.0f} µs** a call against {over.bare_us:,.0f} µs, "
        f"**{over.ours_us / over.bare_us:.2f}x**; building and checking the event by the service's rules alone "
        f"takes {over.check_us:,.0f} µs of it.",
        "",
        f"Through the background recorder into the record handler on a moto server (behind the SigV4-checking "
        f"gateway): **{rate.buffered_rate:,.0f} events/s** for {rate.events:,} events in {rate.calls} calls "
        f"({rate.events / rate.calls:.1f} events a call), against {rate.single_rate:,.0f} events/s sending "
        f"{rate.single_events} events one `record` call each: **{rate.buffered_rate / rate.single_rate:.1f}x**. "
        "moto's transaction sets both; on AWS a batch call costs about what one event's does, so the ratio is "
        "the one to expect.",
        "",
        f"A full buffer ({held.events:,} logins waiting, the service unreachable): **{mib(held.total_bytes)}**, "
        f"{held.per_event:,.0f} bytes an event (tracemalloc).",
    ]


def markdown(run: Run) -> str:
    started = run.started.strftime("%Y-%m-%d %H:%M UTC")
    python = f"{platform.python_implementation()} {platform.python_version()}"
    header = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {started}, on a machine with {run.cpus} CPUs ({platform.system()} "
        f"{platform.machine()}), {python}; the run took {run.seconds:.0f} s. Do not edit by hand: run `make bench`.",
        "",
    ]
    if run.quick:
        header += ["**A quick run with reduced sizes: not the committed figures.**", ""]
    header += [
        "This machine is shared and noisy, so times are only compared side by side within one run (ratios); "
        "counts and sizes do not depend on the machine.",
        "",
        "## Goals",
        "",
        "| § | figure | measured | goal | met |",
        "|---|---|---|---|---|",
        *goal_rows(run),
        "",
    ]
    sections = [
        cold_section(run.cold),
        reads_section(run.reads),
        writes_section(run.writes),
        latency_section(run.latency),
        package_section(run.package),
        ledger_section(run.ledger),
        investigation_section(run.investigation),
        exports_section(run.exports),
        *([streams_section(run.streams)] if run.streams is not None else []),
        *([client_section(run.client)] if run.client is not None else []),
    ]
    body = [line for section in sections for line in [*section, ""]]
    return "\n".join(header + body)


def chart(result: LatencyResult, path: Path) -> None:
    """Grouped bars: p50/p95/p99 through the handler and for the bare call, per operation,
    each handler bar labelled with its ratio to the bare call."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(result.rows), figsize=(4.4 * len(result.rows), 4.6))
    width = 0.38
    for axis, row in zip(axes, result.rows, strict=True):
        positions = range(3)
        ours = [row.ours.p50, row.ours.p95, row.ours.p99]
        bare = [row.bare.p50, row.bare.p95, row.bare.p99]
        axis.bar([p - width / 2 for p in positions], ours, width, label="through the handler", color="#3b6ea5")
        axis.bar([p + width / 2 for p in positions], bare, width, label="bare boto3 call", color="#b0b7bf")
        for position, (mine, theirs) in enumerate(zip(ours, bare, strict=True)):
            axis.annotate(f"{mine / theirs:.2f}x", (position - width / 2, mine), ha="center", va="bottom", fontsize=8)
        axis.set_ylim(0, max(ours + bare) * 1.15)
        axis.set_xticks(list(positions), ["p50", "p95", "p99"])
        axis.set_title(f"{row.operation}\nvs {row.bare_call}", fontsize=10)
        axis.set_ylabel("ms")
        axis.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.suptitle(
        "Warm latency against a moto server (labels: handler ÷ bare call)",
        fontsize=10,
    )
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


def write(run: Run, directory: Path) -> Path:
    results = directory / "results.md"
    results.write_text(markdown(run))
    chart(run.latency, directory / "latency.png")
    return results


def now() -> datetime:
    return datetime.now(UTC)
