"""Cold start: each function's import and init in a fresh process, against a baseline
process that only imports boto3 and creates a DynamoDB client.

A Lambda cold start pays the interpreter, then the handler module's import and whatever
it sets up at module level. The interpreter is the same for every function, so each child
process times only the part that is ours: importing the function's `app.py` as `sam build`
built it, the way the Lambda runtime does (by file, the function's directory first on the
path, with only what the runtime itself has loaded imported before), and creating what
the first request would otherwise create — the DynamoDB client for every function that
reads or writes a table (made lazily by `events_table.dynamodb_client()`), the signing keys
for the authorizer (`audit_log.tokens.signing_keys`, from JWKS_JSON), the KMS client for
the key output. Every child runs the same small prelude before its clock starts, so the
baseline gets the same head start. record_event's and query_log's children then time
their first request too (one refused by validation, needing no DynamoDB), so that work
moved from init into the first request shows.

Children import what a deployed function can import, not what the development venv
holds: Python's site-packages are switched off (`-S`) and the path is the layer exactly
as `sam build` built it, plus boto3 and the libraries the Lambda runtime ships beside it.
The venv also has awscrt and pyOpenSSL (for aws-sam-cli), which botocore imports whenever
they are installed; Lambda's runtime has neither, and counting them would add the same
~100 ms to every process and flatter every ratio. Bytecode is cached in a scratch
directory (warmed by the first, discarded round), as for the runtime's own boto3.

Children also get the environment Lambda gives a function with `Tracing: Active`
(template.yaml's Globals, LAMBDA_TASK_ROOT set, tracing not disabled): Powertools' Tracer then patches botocore at
import, as in the deployed functions. The goals are judged on that. The two functions
using the Tracer are also measured with tracing off, to show what instrumentation costs.

The *layer without bytecode* rows import a copy of the built layer with its bytecode
removed: what every cold start would pay if the layer shipped none (as it did before
layers/common/Makefile compiled it), since nothing can be written to /opt.

Beside the functions: the *floor* rows (the baseline plus only what every HTTP function
must load: pydantic and Powertools' Logger, Metrics and Tracer), and for each saving in
CHANGES the functions with that one saving undone, so each run measures what each still
gains. The runtime's one-file modules (six) get their bytecode beside the link, where
the import system looks; a link to the venv's file alone would leave them compiled in
every child.

The runs are interleaved (one process of each per round, the order rotating) so a burst
of load on this shared machine hits all of them alike. Even so, two runs' medians can
differ by a tenth of the baseline, more than most single changes gain; so each target
is also run once under callgrind (`instruction_ratios`), whose instruction counts do not
depend on the load, and each change's gain is given in both. Peak memory is each child's own
`ru_maxrss`. Linux carries the resident size of a forked parent into its child's
ru_maxrss across exec, so the children are started by a small launcher process rather
than by this (large) one.
"""

import compileall
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.package_size import BUILD_DIR
from bench.progress import progress
from devtools.dev_tokens import jwks as dev_jwks
from devtools.functions import api_event
from devtools.template import load_template

BASELINE = "baseline: boto3 + DynamoDB client"
TRACING_OFF = " (tracing off)"
NO_LAYER_BYTECODE = " (layer without bytecode)"
UNDONE = " (undone: "

# What the Lambda runtime ships beside its boto3 (and botocore needs): the children's
# only third-party packages besides the layer.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
# Run in every child before the clock starts: what the Lambda runtime itself has loaded
# (its bootstrap imports json, time and importlib to load the handler) and a loader.
_PRELUDE = """import importlib.util, json, resource, sys, time
def load_function(name):
    spec = importlib.util.spec_from_file_location("app", FUNCTIONS[name])
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
"""
_REPORT = (
    "elapsed = time.perf_counter() - started\n"
    "first = None\n"
    "if FIRST_REQUEST is not None:\n"
    "    class Context:\n"
    "        function_name, memory_limit_in_mb, aws_request_id = 'bench', 512, '00000000-0000-4000-8000-000000000000'\n"
    "        invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:bench'\n"
    "        def get_remaining_time_in_millis(self): return 25_000\n"
    "    started = time.perf_counter()\n"
    "    answer = sys.modules['app'].lambda_handler(FIRST_REQUEST, Context())\n"
    "    first = time.perf_counter() - started\n"
    "    assert answer['statusCode'] in (400, 422), answer\n"
    "print(json.dumps({'seconds': elapsed, 'first_request_seconds': first,"
    " 'max_rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
)
# The first request of the two busiest functions, timed after their init: one refused by
# validation (422 for a body, 400 for a query), so that it builds everything a request needs on the Python side (the
# route's validators, the body or query models, the error answer) without needing DynamoDB.
# A change that only moved work from init to the first request shows up here.
_ADMIN = {"userId": "usr_admin", "role": "admin", "email": "admin@example.com", "name": "Org Admin", "orgId": "org_a"}
FIRST_REQUESTS = {
    "record_event": api_event("POST", "/events", {"org_id": "org_a"}),
    "query_log": api_event("GET", "/events", query={"limit": "0"}, authorizer=_ADMIN),
}
# The least a function can cost that uses what every HTTP function here must: pydantic
# (Powertools validates with it) and Powertools' logger, metrics and tracer (tracing on),
# loaded as the functions load (audit_log.loading: the collector paused, then frozen).
_PYDANTIC = "import pydantic\npydantic.create_model('Floor', x=(int, ...))\n"
_POWERTOOLS = (
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "Logger()\nMetrics()\nTracer(patch_modules=('botocore',))\n"
)
_LOADED = "from audit_log import loading\nloading.start()\n{}loading.done()\n"
FLOORS = {
    "floor: baseline + pydantic (its import, one model)": _LOADED.format(_PYDANTIC),
    "floor: baseline + Powertools' Logger, Metrics, Tracer": _LOADED.format(_POWERTOOLS),
    "floor: baseline + pydantic + Powertools' Logger, Metrics, Tracer": _LOADED.format(_PYDANTIC + _POWERTOOLS),
}
_LAYER_CLIENT = "from audit_log import events_table\nevents_table.dynamodb_client()\n"
# What each function's first request would make if init did not: the signing keys for
# the authorizer, the KMS client for the deploy-time key output, the DynamoDB client for
# every other function (each reads or writes a table first thing).
_SPECIAL_INITS = {
    "authorizer": (
        "from audit_log.tokens import AuthorizerSettings, signing_keys\n"
        "signing_keys(AuthorizerSettings.from_environ())\n"
    ),
    "ledger_key_output": "from audit_log import aws_clients\naws_clients.kms()\n",
}
# Goal: import-and-init time as a multiple of the baseline's. The authorizer runs on
# every uncached admin request, so it is held to half; every other function to 1.4x.
AUTHORIZER_GOAL = 0.5
FUNCTION_GOAL = 1.4


@dataclass(frozen=True)
class Change:
    """A saving made to the cold start, and how a child undoes it, so that every run
    measures what each one still gains, side by side with the functions as they are."""

    name: str  # what was done, for the report
    undone_by: str  # how a child undoes it, for the report
    functions: tuple[str, ...]  # measured with it undone
    before: str = ""  # run before the clock starts
    during: str = ""  # run inside the clock, after the function's init


CHANGES = (
    Change(
        "the collector paused while a function loads (`audit_log.loading`)",
        "the collector left on (`gc.disable` made a no-op)",
        ("authorizer", "record_event", "query_log"),
        before="import gc\ngc.disable = lambda: None\n",  # loading.start() then leaves it on
    ),
    Change(
        "Powertools' `event_handler` and `data_classes` packages loaded name by name (`audit_log.loading`)",
        "both packages' `__init__` run whole",
        ("authorizer", "record_event", "query_log"),
        # asking a stand-in for __all__ runs the package's own __init__: every module in it
        during=(
            "from aws_lambda_powertools.event_handler import __all__\n"
            "from aws_lambda_powertools.utilities.data_classes import __all__\n"
        ),
    ),
    Change(
        "answer and settings models built on first use (`defer_build`)",
        "every model of every `models` and `settings` module built at init",
        ("record_event", "query_log"),
        during=(
            "import pydantic\nfrom audit_log import models\n"
            "from audit_log.models import events, investigation, ledger\n"
            "from audit_log.settings import exports, index, ledger_read, query, record, seal, streams\n"
            "for module in (models, events, investigation, ledger,"
            " exports, index, ledger_read, query, record, seal, streams):\n"
            "    for value in vars(module).values():\n"
            "        if isinstance(value, type) and issubclass(value, pydantic.BaseModel)"
            " and value.__module__ == module.__name__:\n"
            "            value.model_rebuild()\n"  # builds a deferred model; a built one is left
        ),
    ),
    Change(
        "pydantic's plugin search off (PYDANTIC_DISABLE_PLUGINS)",
        "the variable unset",
        ("record_event", "query_log"),
        before="import os\nos.environ.pop('PYDANTIC_DISABLE_PLUGINS', None)\n",
    ),
    Change(
        "botocore's clients, not boto3's (`aws_clients`, `attribute_values`)",
        "`import boto3` (the import alone)",
        ("record_event", "query_log"),
        during="import boto3\n",  # what boto3 added: its import (its client is botocore's)
    ),
    Change(
        "wrapt 1.x for X-Ray (`layers/common/requirements.txt`)",
        "`import asyncio` after init (what wrapt 2.x's import adds first)",
        ("record_event", "query_log"),
        during="import asyncio\n",
    ),
    Change(
        "the model loader told which services are used (`aws_clients.ServicesLoader`)",
        "botocore's listing of every service, for models and for endpoint rules, after init",
        ("record_event", "query_log"),
        during=(
            "from botocore.loaders import Loader\nfrom audit_log import aws_clients\n"
            "for kind in ('service-2', 'endpoint-rule-set-1'):\n"
            "    Loader.list_available_services(aws_clients.session().get_component('data_loader'), kind)\n"
        ),
    ),
    Change(
        "X-Ray patches botocore only (`observability`)",
        "X-Ray's `patch_all()` (Tracer's default) after init",
        ("record_event", "query_log"),
        during="from aws_xray_sdk.core import patch_all\npatch_all()\n",  # Tracer's default
    ),
)


@dataclass(frozen=True)
class Target:
    """One kind of child process: which function (None: the baseline) and how it runs."""

    function: str | None
    tracing: bool = True
    layer_bytecode: bool = True  # False: a copy of the layer without its bytecode
    undone: Change | None = None
    floor: str = ""  # the baseline's, then this (FLOORS)
    nothing: bool = False  # no init at all: the interpreter and the prelude (instruction counts)

    @property
    def first_request(self) -> bool:
        """Whether its first request is timed too: the functions as deployed and each
        change undone, not the other variants."""
        return self.tracing and self.layer_bytecode

    @property
    def init(self) -> str:
        if self.nothing:
            return ""
        if self.function is None:
            return "import boto3\nboto3.client('dynamodb')\n" + self.floor
        code = f"load_function({self.function!r})\n" + _SPECIAL_INITS.get(self.function, _LAYER_CLIENT)
        return code + (self.undone.during if self.undone else "")

    @property
    def before(self) -> str:
        return self.undone.before if self.undone else ""

    @property
    def goal(self) -> float | None:
        if self.function is None or not (self.tracing and self.layer_bytecode) or self.undone:
            return None
        return AUTHORIZER_GOAL if self.function == "authorizer" else FUNCTION_GOAL


def targets(functions: list[str]) -> dict[str, Target]:
    """Every function as deployed, the baseline, and the variants: tracing off for the two
    busiest, no layer bytecode for the three the goals began with, each change undone."""
    found = {name: Target(name) for name in sorted(functions)}
    found[BASELINE] = Target(None)
    for name, code in FLOORS.items():
        found[name] = Target(None, floor=code)
    for name in ("record_event", "query_log"):
        found[name + TRACING_OFF] = Target(name, tracing=False)
    for name in ("authorizer", "record_event", "query_log"):
        found[name + NO_LAYER_BYTECODE] = Target(name, layer_bytecode=False)
    for change in CHANGES:
        for name in change.functions:
            found[f"{name}{UNDONE}{change.name})"] = Target(name, undone=change)
    return found


RUNS = 12  # rounds measured (at least 10, for a stable median), after one warm-up round

# Runs a round's children one after another and prints their outputs as one JSON list; it
# imports nothing big, so the children's ru_maxrss is their own (see the module docstring).
_LAUNCHER = """
import json, subprocess, sys
outputs = []
for argv, env in json.load(sys.stdin):
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr)
    outputs.append(done.stdout.strip().splitlines()[-1])
print(json.dumps(outputs))
"""


@dataclass(frozen=True)
class ColdStartRow:
    name: str
    median_ms: float
    min_ms: float
    max_ms: float
    median_peak_rss_mib: float
    first_request_ms: float | None  # median time of the first request after init, where timed
    ratio: float  # median / the baseline's median
    goal: float | None
    instruction_ratio: float | None = None  # its init's instructions / the baseline's (callgrind)

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.ratio <= self.goal


@dataclass(frozen=True)
class ColdStartResult:
    runs: int
    rows: list[ColdStartRow]
    # target → [(top-level package, milliseconds of import self time)], biggest first
    imports: dict[str, list[tuple[str, float]]]
    instructions_missing: str = ""  # why there are no instruction counts, if there are none


@dataclass(frozen=True)
class Sandbox:
    """Where the children import from (see the module docstring)."""

    layer: Path  # the built layer, with its bytecode
    layer_without_bytecode: Path  # a copy of it without
    runtime: Path  # the runtime's packages, linked from this venv
    functions: dict[str, Path]  # each function's built app.py
    targets: dict[str, Target]

    def argv(self, name: str, *flags: str, before: str = "", first_request: bool = True) -> list[str]:
        target = self.targets[name]
        layer = self.layer if target.layer_bytecode else self.layer_without_bytecode
        task_root = [str(self.functions[target.function].parent)] if target.function else []
        path = [*task_root, str(layer), str(self.runtime)]
        functions = {function: str(app) for function, app in self.functions.items()}
        first = FIRST_REQUESTS.get(target.function or "") if first_request and target.first_request else None
        code = f"import sys\nsys.path[:] = {path!r} + sys.path\nFUNCTIONS = {functions!r}\n" + _PRELUDE
        code += f"FIRST_REQUEST = {first!r}\n"
        code += before + target.before + "started = time.perf_counter()\n" + target.init + _REPORT
        return [sys.executable, "-S", "-B", *flags, "-c", code]


def built_layer() -> Path:
    """The layer's `python/` directory as `sam build` left it (bench.package_size ran it)."""
    layers = [
        str(logical_id)
        for logical_id, definition in load_template()["Resources"].items()
        if definition["Type"] == "AWS::Serverless::LayerVersion"
    ]
    path = BUILD_DIR / layers[0] / "python"
    if not path.is_dir():
        raise RuntimeError(f"no built layer at {path}: run `sam build` first")
    return path


def built_functions() -> dict[str, Path]:
    """Each function's `app.py` as `sam build` left it, by name (functions/<name>/)."""
    functions = {}
    for logical_id, definition in load_template()["Resources"].items():
        if definition["Type"] == "AWS::Serverless::Function":
            name = Path(str(definition["Properties"]["CodeUri"])).name
            functions[name] = BUILD_DIR / str(logical_id) / "app.py"
    missing = [str(path) for path in functions.values() if not path.is_file()]
    if missing:
        raise RuntimeError(f"not built: {', '.join(missing)}; run `sam build` first")
    return functions


def sandbox(scratch: Path) -> Sandbox:
    """Link the runtime's packages from this venv into `scratch`, beside a copy of the
    built layer without its bytecode."""
    runtime = scratch / "runtime"
    runtime.mkdir()
    for package in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None, f"{package} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        link = runtime / source.name
        link.symlink_to(source, target_is_directory=source.is_dir())
        # The children write no bytecode: make sure the runtime's own is there, as on Lambda.
        # A package's is inside the linked directory; a one-file module's (six) belongs in
        # runtime/__pycache__, beside the link, where the import system looks for it.
        compileall.compile_dir(source, quiet=2) if source.is_dir() else compileall.compile_file(link, quiet=2)
    layer = built_layer()
    if not any(layer.glob(f"audit_log/__pycache__/*.{sys.implementation.cache_tag}.pyc")):
        raise RuntimeError(f"the built layer at {layer} has no {sys.implementation.cache_tag} bytecode")
    without = scratch / "layer-without-bytecode"
    shutil.copytree(layer, without, ignore=shutil.ignore_patterns("__pycache__"))
    functions = built_functions()
    return Sandbox(
        layer=layer,
        layer_without_bytecode=without,
        runtime=runtime,
        functions=functions,
        targets=targets(list(functions)),
    )


def child_env(box: Sandbox, name: str, jwks_json: str) -> dict[str, str]:
    """A deployed function's environment (see the module docstring), with the development
    JWKS inline for the authorizer, as `make local` configures it."""
    target = box.targets[name]
    unwanted = {"POWERTOOLS_TRACE_DISABLED", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key not in unwanted}
    env.update(template_globals())
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(box.functions[target.function].parent if target.function else ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": f"bench-{target.function or 'baseline'}",
            "JWKS_JSON": jwks_json,
            "JWT_ISSUER": "audit-log-dev",
            "JWT_AUDIENCE": "audit-log",
        }
    )
    if not target.tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "1"
    return env


def template_globals() -> dict[str, str]:
    """The environment template.yaml gives every function (its Globals), as far as it is
    plain text; the endpoint stays out (empty: the real one, which no child calls)."""
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    return {key: value for key, value in variables.items() if isinstance(value, str) and value}


def run_round(box: Sandbox, names: list[str], jwks_json: str) -> list[dict[str, Any]]:
    """One child per name, in that order, through the launcher; their measurements."""
    jobs = [(box.argv(name), child_env(box, name, jwks_json)) for name in names]
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER], input=json.dumps(jobs), cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"a cold-start child failed: {done.stderr.strip()}")
    return [json.loads(line) for line in json.loads(done.stdout)]


def import_breakdown(box: Sandbox, name: str, jwks_json: str) -> list[tuple[str, float]]:
    """Where one target's import time goes: Python's own `-X importtime` report of one
    extra child, its self times summed by top-level package, biggest first. One run, and
    the report itself slows imports, so the shares are what to read, not the totals. The
    collector is off in that child: a collection lands in whichever import happens to be
    running, and would be counted as that package's own time."""
    done = subprocess.run(
        box.argv(
            name, "-X", "importtime", before="import gc\ngc.disable()\ngc.enable = lambda: None\n", first_request=False
        ),
        env=child_env(box, name, jwks_json),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, _, module = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if not self_us.isdigit():
            continue  # the header line
        package = module.split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(self_us) / 1000
    return sorted(totals.items(), key=lambda entry: entry[1], reverse=True)


_COLLECTED = re.compile(r"Collected : (\d+)")


def instruction_ratios(box: Sandbox, jwks_json: str) -> tuple[dict[str, float], str]:
    """Each target's init in instructions, as a multiple of the baseline's: one run of
    each under callgrind, which counts the instructions a process executes in user space,
    the same on every run whatever else the machine is doing. The interpreter's start and
    the prelude are taken off: a process that runs them alone is counted too. Not counted:
    time in the kernel (reading files, listing directories, mapping libraries) and waiting
    for memory, which the timings include. Empty, with the reason, without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {}, "valgrind is not installed (Debian's `valgrind` package)"
    progress(f"cold start: instructions of each of {len(box.targets)} targets (callgrind)")
    nothing = BASELINE + " (nothing: the interpreter and the prelude)"
    counted = replace(box, targets={**box.targets, nothing: Target(None, nothing=True)})

    def count(name: str) -> tuple[str, int]:
        done = subprocess.run(
            [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *counted.argv(name, first_request=False)],
            env=child_env(counted, name, jwks_json),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        found = _COLLECTED.search(done.stderr)
        if found is None:
            raise RuntimeError(f"callgrind reported no count for {name}: {done.stderr[-500:]}")
        return name, int(found.group(1))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = dict(pool.map(count, counted.targets))
    base = counts.pop(nothing)
    return {name: (total - base) / (counts[BASELINE] - base) for name, total in counts.items()}, ""


def measure(runs: int = RUNS, only: list[str] | None = None) -> ColdStartResult:
    """Every target (or `only` these and the baseline), `runs` interleaved rounds, in a
    scratch sandbox removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as scratch:
        box = sandbox(Path(scratch))
        if only is not None:
            box = replace(box, targets={name: box.targets[name] for name in box.targets if name in {*only, BASELINE}})
        return measure_in(box, runs)


def measure_in(box: Sandbox, runs: int) -> ColdStartResult:
    jwks_json = json.dumps(dev_jwks())
    seconds: dict[str, list[float]] = {name: [] for name in box.targets}
    first: dict[str, list[float]] = {name: [] for name in box.targets}
    rss: dict[str, list[int]] = {name: [] for name in box.targets}
    names = list(box.targets)
    for round_number in range(runs + 1):
        progress(f"cold start: round {round_number}/{runs}" + (" (warm-up, discarded)" if round_number == 0 else ""))
        # Rotate who goes first, so no target always runs right after the same neighbour.
        shift = round_number % len(names)
        order = names[shift:] + names[:shift]
        for name, sample in zip(order, run_round(box, order, jwks_json), strict=True):
            if round_number > 0:
                seconds[name].append(float(sample["seconds"]))
                if sample["first_request_seconds"] is not None:
                    first[name].append(float(sample["first_request_seconds"]))
                rss[name].append(int(sample["max_rss_kib"]))
    baseline = statistics.median(seconds[BASELINE])
    counted, missing = instruction_ratios(box, jwks_json)
    rows = [
        ColdStartRow(
            name=name,
            median_ms=statistics.median(values) * 1000,
            min_ms=min(values) * 1000,
            max_ms=max(values) * 1000,
            median_peak_rss_mib=statistics.median(rss[name]) / 1024,
            first_request_ms=statistics.median(first[name]) * 1000 if first[name] else None,
            ratio=statistics.median(values) / baseline,
            goal=box.targets[name].goal,
            instruction_ratio=counted.get(name),
        )
        for name, values in seconds.items()
    ]
    progress("cold start: import time by package (-X importtime, collector off)")
    broken_down = [name for name in ("authorizer", "record_event", "query_log") if name in box.targets]
    imports = {name: import_breakdown(box, name, jwks_json) for name in (*broken_down, BASELINE)}
    return ColdStartResult(runs=runs, rows=rows, imports=imports, instructions_missing=missing)


if __name__ == "__main__":  # the cold-start section alone: python -m bench.cold_start [--runs N] [target ...]
    import argparse

    from bench import report

    parser = argparse.ArgumentParser(description="Cold start only (sam build first), printed as in results.md")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("only", nargs="*", help="these targets and the baseline (default: every target)")
    options = parser.parse_args()
    print("\n".join(report.cold_section(measure(options.runs, options.only or None))))
