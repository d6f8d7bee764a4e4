"""Import a function's handler module (`functions/<name>/app.py`) outside Lambda: for the
tests, the OpenAPI generator and the benchmarks. Every function's module is `app.py`, so
each is imported under a name of its own."""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_function(name: str, container: str = "") -> ModuleType:
    """functions/<name>/app.py as module `<name>_app<container>`, imported once.

    A distinct `container` gives a separate copy, as each concurrent Lambda container has
    its own: one handler serves one invocation at a time, so threads must not share one.
    """
    module_name = f"{name}_app{container}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class LambdaContext:
    """What Powertools reads of the Lambda context object, for calling a handler outside
    Lambda (tests, benchmarks)."""

    function_name: str = "audit-log-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:audit-log-local"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000
