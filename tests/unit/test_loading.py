"""How a function's module loads (audit_log.loading), each case in a fresh interpreter:
the test process itself has every package imported already, so nothing would be lazy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.template import load_template
from tests.conftest import ROOT, TEST_ENV

LAYER = ROOT / "layers" / "common" / "python"
FUNCTIONS = sorted(
    Path(str(definition["Properties"]["CodeUri"])).name
    for definition in load_template()["Resources"].values()
    if definition["Type"] == "AWS::Serverless::Function"
)
# Imported only by the eager package __init__ files that the stand-ins replace.
EAGER_ONLY = (
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
)


def fresh(code: str) -> dict[str, object]:
    """Run `code` in a new interpreter with the layer on its path; the JSON it prints last."""
    env = {**TEST_ENV, "PYTHONPATH": str(LAYER), "PATH": "/usr/bin:/bin", "JWKS_JSON": '{"keys": []}'}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_loads_with_the_collector_back_on_and_no_eager_package(function: str) -> None:
    app = ROOT / "functions" / function / "app.py"
    found = fresh(
        "import gc, importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
        "module = importlib.util.module_from_spec(spec); sys.modules['app'] = module\n"
        "spec.loader.exec_module(module)\n"
        f"print(json.dumps({{'handler': callable(module.lambda_handler), 'collector': gc.isenabled(),"
        f" 'frozen': gc.get_freeze_count(), 'eager': [m for m in {EAGER_ONLY!r} if m in sys.modules]}}))\n"
    )

    assert found["handler"] is True
    assert found["collector"] is True
    assert isinstance(found["frozen"], int) and found["frozen"] > 10_000  # what the import made is frozen
    assert found["eager"] == []


@pytest.mark.parametrize(
    "package", ["aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes"]
)
def test_a_stand_in_gives_every_name_of_the_real_package(package: str) -> None:
    """Each name of the package's __all__, asked for one at a time before anything loads
    the whole package, is the very object the real package gives."""
    found = fresh(
        "import json, sys\n"
        "from audit_log import loading\n"
        "loading.start()\n"
        f"stand_in = sys.modules[{package!r}]\n"
        "import ast, pathlib\n"
        "tree = ast.parse(pathlib.Path(stand_in.__file__).read_text())\n"
        "wanted = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)"
        " and getattr(node.targets[0], 'id', '') == '__all__'][0]\n"
        "lazily = {name: getattr(stand_in, name) for name in wanted}\n"
        "everything = stand_in.__all__  # runs the real __init__\n"
        "same = all(getattr(stand_in, name) is value for name, value in lazily.items())\n"
        "print(json.dumps({'wanted': wanted, 'everything': list(everything), 'same': same}))\n"
    )

    assert found["everything"] == found["wanted"]
    assert found["same"] is True


def test_a_submodule_named_in_a_from_import_is_imported() -> None:
    found = fresh(
        "import json, sys\n"
        "from audit_log import loading\n"
        "loading.start()\n"
        "from aws_lambda_powertools.event_handler import content_types\n"
        "print(json.dumps({'json': content_types.APPLICATION_JSON,"
        " 'appsync': 'aws_lambda_powertools.event_handler.appsync' in sys.modules}))\n"
    )

    assert found == {"json": "application/json", "appsync": False}


def test_an_unknown_name_is_an_attribute_error_after_the_whole_package_loaded() -> None:
    found = fresh(
        "import json, sys\n"
        "from audit_log import loading\n"
        "loading.start()\n"
        "import aws_lambda_powertools.event_handler as package\n"
        "try:\n"
        "    package.NoSuchResolver\n"
        "except AttributeError as error:\n"
        "    message = str(error)\n"
        "print(json.dumps({'message': message,"
        " 'whole': 'aws_lambda_powertools.event_handler.appsync' in sys.modules}))\n"
    )

    assert "NoSuchResolver" in str(found["message"])
    assert found["whole"] is True
