"""Package size: what `sam build` produces for each function and the layer, unzipped (the
sum of the file sizes, what counts against Lambda's 250 MB for a function and its layers)
and zipped (ZIP_DEFLATED, as `sam deploy` uploads it).

`sam build` runs every time: samconfig.toml turns its cache on, so an unchanged tree
rebuilds in seconds and a changed one is never measured stale. If it fails, the bench
stops: an older build would be measured as if it were this tree.
"""

import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT
from bench.progress import progress
from devtools.template import load_template

BUILD_DIR = ROOT / ".aws-sam" / "build"
SAM = Path(sys.executable).parent / "sam"  # this venv's
# Lambda's quotas: a function and all its layers unzipped; a zip uploaded directly.
UNZIPPED_QUOTA = 250 * 1024 * 1024
ZIPPED_QUOTA = 50 * 1024 * 1024


@dataclass(frozen=True)
class Artifact:
    logical_id: str
    kind: str  # "function" or "layer"
    files: int
    unzipped: int
    zipped: int


@dataclass(frozen=True)
class PackageResult:
    artifacts: list[Artifact]
    build_note: str

    @property
    def layer_unzipped(self) -> int:
        return sum(artifact.unzipped for artifact in self.artifacts if artifact.kind == "layer")

    def with_layers(self, artifact: Artifact) -> int:
        """A function's unzipped size with the layer it is deployed with."""
        return artifact.unzipped + self.layer_unzipped


def build() -> str:
    """Run `sam build` (the cold-start section measures its output too); a note on it."""
    progress("package size: sam build")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    env.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    done = subprocess.run(
        [str(SAM), "build"], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{done.stdout}\n{done.stderr}")
    return "built by `sam build` in this run"


def measure_dir(path: Path) -> tuple[int, int, int]:
    """(files, bytes unzipped, bytes zipped) of one build directory."""
    files = sorted(p for p in path.rglob("*") if p.is_file())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(path).as_posix())
    return len(files), sum(file.stat().st_size for file in files), len(buffer.getvalue())


def measure() -> PackageResult:
    note = build()
    resources = load_template()["Resources"]
    kinds = {"AWS::Serverless::Function": "function", "AWS::Serverless::LayerVersion": "layer"}
    artifacts = []
    for logical_id, definition in resources.items():
        kind = kinds.get(definition["Type"])
        if kind is None:
            continue
        files, unzipped, zipped = measure_dir(BUILD_DIR / logical_id)
        artifacts.append(Artifact(str(logical_id), kind, files, unzipped, zipped))
    return PackageResult(artifacts=artifacts, build_note=note)
