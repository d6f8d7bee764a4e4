"""How a function's module loads: what `app.py` does before its other imports (`start`)
and after its last module-level line (`done`), to keep the cold start to what the
function itself needs. make bench measures each part, with it undone.

The collector. Importing a function (Powertools, pydantic and its models, botocore, the
layer) allocates hundreds of thousands of objects, and all of them live as long as the
process. The cyclic collector does not know that: left on, it runs about 170 times during
a cold start of record_event, scanning them again and again for garbage that is not
there. `start()` turns it off; `done()` moves everything loaded so far into the permanent
generation (`gc.freeze`), which later collections skip too, and turns it back on for the
requests, where garbage is made. If the import fails, the collector stays off in a
process that is about to fail its init.

Packages that import everything. Two Powertools packages import every module they have
from their `__init__`, whichever one is wanted: `event_handler` all its resolvers
(AppSync, Bedrock, VPC Lattice, ...) to reach the REST one, `utilities.data_classes` some
thirty event classes (CodePipeline's brings tempfile, shutil, zipfile, bz2 and lzma) to
reach one. `start()` puts a lazy stand-in for each package in `sys.modules` before anything
imports it (PEP 562): it has the package's `__path__`, so its submodules import as usual,
and a module `__getattr__` that imports a name's module only when the name is first asked
for. Which module holds which name is read from the package's own `__init__.py`, so the
stand-in follows the installed version; a name it does not list (`__all__`, say) runs the
real `__init__` into the stand-in, which then is the whole package, as before; a
submodule's name imports the submodule.
"""

import ast
import gc
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

LAZY_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def start() -> None:
    gc.disable()
    for package in LAZY_PACKAGES:
        lazy_package(package)


def done() -> None:
    gc.freeze()
    gc.enable()


def _imported_names(package: str, init: Path) -> dict[str, str]:
    """Name → the submodule `init` imports it from (`from .x import A` or the absolute
    `from <package>.x import A`)."""
    found: dict[str, str] = {}
    for node in ast.parse(init.read_bytes()).body:
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        if node.level == 1:
            module = f"{package}.{node.module}"
        elif node.level == 0 and node.module.startswith(package + "."):
            module = node.module
        else:
            continue
        for alias in node.names:
            found[alias.asname or alias.name] = module
    return found


def lazy_package(package: str) -> None:
    """Put the lazy stand-in for `package` in sys.modules (see the module docstring);
    nothing if the package is imported already."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return  # not a package here: leave it to the import system
    names = _imported_names(package, Path(spec.origin))
    stand_in = importlib.util.module_from_spec(spec)
    loaded = False

    def __getattr__(name: str) -> Any:
        nonlocal loaded
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
            setattr(stand_in, name, value)
            return value
        if importlib.util.find_spec(f"{package}.{name}") is not None:  # a submodule: `from package import mod`
            return importlib.import_module(f"{package}.{name}")
        if loaded or (name.startswith("__") and name != "__all__"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = True
        assert spec.loader is not None
        spec.loader.exec_module(stand_in)  # the whole package after all
        return getattr(stand_in, name)

    vars(stand_in)["__getattr__"] = __getattr__
    sys.modules[package] = stand_in
    parent, _, child = package.rpartition(".")
    setattr(importlib.import_module(parent), child, stand_in)
