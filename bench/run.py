"""`make bench`: measure what the service costs and how fast it answers, and
write bench/results.md and bench/latency.png.

1. Cold start per function vs a boto3-client-only process (bench/cold_start.py).
2. Read amplification per filter shape on 20,000 seeded events (bench/reads.py).
3. Write units and DynamoDB calls per event (bench/writes.py).
4. Warm latency through the handlers vs the bare boto3 calls, moto server (bench/latency.py).
5. Package size of the `sam build` artifacts (bench/package_size.py).
6. The ledger: write units, reads per proof, throughput, recomputation, seal lag
   (bench/ledger.py).
7. Investigation helpers: write units indexing adds per event and per target, reads of
   one resource's history (bench/investigation.py).
8. Exports: throughput beside the bare paged read, reads per exported event, the
   worker's peak memory at 10^4 to 10^6 events, proof bytes per event (bench/exports.py).
9. Log streams: delivery throughput per stream beside a bare sender, end-to-end lag,
   invocations and queue messages per delivered event (bench/streams.py).
10. The client for platform backends: `record` beside a bare signed request, batch
   throughput through the background recorder, memory with a full buffer (bench/client.py).

Sections run one after another in this process (cold start in child processes), the
heaviest in memory last, so the 20,000-item dataset of the reads never weighs on the
latency figures. `--quick` shrinks every size for trying the bench out; its report says
so and must not be committed.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench import (
    ROOT,
    client,
    cold_start,
    exports,
    investigation,
    latency,
    ledger,
    package_size,
    reads,
    report,
    streams,
    writes,
)
from bench.progress import progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying the bench out")
    parser.add_argument(
        "--out",
        type=Path,
        help="where results.md and latency.png go (default: bench/; a temporary directory with --quick)",
    )
    options = parser.parse_args()
    if options.out is None:  # a quick run must not overwrite the committed results
        options.out = Path(tempfile.mkdtemp(prefix="bench-quick-")) if options.quick else ROOT / "bench"

    started, clock = report.now(), time.perf_counter()
    package = package_size.measure()
    cold = cold_start.measure(runs=3 if options.quick else cold_start.RUNS)
    progress("latency: starting")
    warm = latency.measure(*((20, 5) if options.quick else (latency.ITERATIONS, latency.WARM_UP)))
    written = writes.measure()
    read = reads.measure(events=2_000 if options.quick else reads.EVENTS)
    ledger_result = ledger.measure(quick=options.quick)
    indexed = investigation.measure(events=500 if options.quick else investigation.EVENTS)
    exported = exports.measure(quick=options.quick)
    streamed = streams.measure(quick=options.quick)
    recorded = client.measure(quick=options.quick)
    run = report.Run(
        started=started,
        seconds=time.perf_counter() - clock,
        cpus=os.cpu_count() or 1,
        cold=cold,
        reads=read,
        writes=written,
        latency=warm,
        package=package,
        ledger=ledger_result,
        investigation=indexed,
        exports=exported,
        streams=streamed,
        client=recorded,
        quick=options.quick,
    )
    options.out.mkdir(parents=True, exist_ok=True)
    path = report.write(run, options.out)
    progress(f"done in {run.seconds:.0f} s: {path}")
    print(path.read_text())


if __name__ == "__main__":
    main()
