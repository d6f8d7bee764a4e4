"""Import a function's handler module (`functions/<name>/app.py`) outside Lambda: for the
tests, the OpenAPI generator and the benchmarks. Every function's module is `app.py`, so
each is imported under a name of its own."""

import importlib.util
import sys
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
