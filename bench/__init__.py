"""`make bench`: what the service costs and how fast it answers.

Importing this package fixes the environment every section shares before any of them
imports the layer: Powertools reads its POWERTOOLS_* variables when the layer's logger,
tracer and metrics are created at import, and a botocore client only sees moto if moto
was imported before the client was made.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "common" / "python"

# `python bench/run.py` as well as `python -m bench.run`: the layer and the repository
# root (devtools) must be importable either way.
for _path in (str(ROOT), str(LAYER)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# Dummy credentials and a fixed region: nothing here ever reaches AWS.
BENCH_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "TABLE_NAME": "bench-events",
    "LEDGER_TABLE_NAME": "bench-ledger",
    "INVESTIGATION_TABLE_NAME": "bench-investigation",
    "EXPORTS_TABLE_NAME": "bench-exports",
    "EXPORT_BUCKET": "bench-exports",
    "STREAMS_TABLE_NAME": "bench-streams",
    "CURSOR_SECRET": "bench-cursor-secret-0123456789abcdef",
    "RETENTION_DAYS": "0",
    "POWERTOOLS_SERVICE_NAME": "audit-log",
    "POWERTOOLS_METRICS_NAMESPACE": "AuditLogBench",
    "POWERTOOLS_TRACE_DISABLED": "1",
}
os.environ.update(BENCH_ENV)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # in-process sections use moto, not a leftover endpoint
os.environ.pop("AWS_PROFILE", None)

import moto  # noqa: F401  (before any boto3 client exists; see the docstring)

from devtools import moto_transactions

# moto's transactions without a copy of every table they touch: what DynamoDB costs (the
# latency section compares handler and bare call on the same moto, so both gain alike).
moto_transactions.install()
