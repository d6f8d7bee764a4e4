"""The local stack: a Docker engine, a Lambda Python 3.11 image, moto server as DynamoDB
with the template's table and demo data, and `sam local start-api` in front of the real
functions. `make local` runs `up`; the e2e tests and `.ci/run` use the pieces.

    python -m devtools.local_stack up        # make local
    python -m devtools.local_stack engine    # CI: start an engine (detached), build the image

Every process this starts is stopped on Ctrl-C (SIGINT) or SIGTERM, and nothing else is.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local"
BIN = Path(sys.executable).parent
AWS_IMAGE = "public.ecr.aws/lambda/python:3.11"
OFFLINE_IMAGE = "local/lambda-python:3.11"
TABLE_NAME = "audit-log-events"
LEDGER_TABLE_NAME = "audit-log-ledger"
INVESTIGATION_TABLE_NAME = "audit-log-investigation"
EXPORTS_TABLE_NAME = "audit-log-exports"
STREAMS_TABLE_NAME = "audit-log-streams"
# Logical id -> name of every table the local stack runs.
TABLES = {
    "EventsTable": TABLE_NAME,
    "LedgerTable": LEDGER_TABLE_NAME,
    "InvestigationTable": INVESTIGATION_TABLE_NAME,
    "ExportsTable": EXPORTS_TABLE_NAME,
    "StreamsTable": STREAMS_TABLE_NAME,
}
EXPORT_BUCKET = "audit-log-exports"
EXPORT_QUEUE = "audit-log-export-steps"
STREAM_QUEUE = "audit-log-stream-deliveries"
# A bucket standing in for a customer's own, for trying an S3 stream locally (moto's STS
# lets delivery assume any role).
CUSTOMER_BUCKET = "acme-siem-archive"
CUSTOMER_ROLE = "arn:aws:iam::123456789012:role/audit-log-delivery"
WEBHOOK_PORT = 8765
CHECKPOINT_BUCKET = "audit-log-checkpoints"
CHECKPOINT_QUEUE = "audit-log-checkpoint-calls"
LEDGER_ORIGIN = "audit-log.local/audit-log"
REGION = "us-east-1"
# moto accepts any credentials; these only keep boto3 from looking for real ones.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}


class StackError(RuntimeError):
    """Something the local stack needs is missing; the message says how to get it."""


def say(message: str) -> None:
    print(f"[local] {message}", file=sys.stderr, flush=True)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=True, text=True, **kwargs)


def quiet(command: list[str], **kwargs: Any) -> None:
    """Run a chatty command, showing its output only if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise StackError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(check: Any, what: str, timeout: float, process: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            raise StackError(f"{what}: the process exited with code {process.returncode}")
        time.sleep(0.5)
    raise StackError(f"{what}: not ready after {timeout:.0f} s")


def spawn(command: list[str], log_name: str, **kwargs: Any) -> subprocess.Popen[Any]:
    """A child in a session of its own, so a Ctrl-C reaches only this script, which then
    stops the children in order; SIGINT is reset to its default in the child, since a
    shell may have started us with it ignored."""
    LOCAL.mkdir(exist_ok=True)
    log = (LOCAL / log_name).open("ab")
    return subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )


def stop(process: subprocess.Popen[Any], name: str, grace: float = 20) -> None:
    """SIGINT first (sam and dockerd shut their containers down on it), then SIGKILL."""
    if process.poll() is not None:
        return
    say(f"stopping {name}")
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_together(processes: list[tuple[subprocess.Popen[Any], str]], grace: float = 20) -> None:
    """`stop` for several at once: each gets its SIGINT now and all share one grace period,
    so a stack's shutdown waits for its slowest process, not for the sum of them."""
    running = [(process, name) for process, name in processes if process.poll() is None]
    for process, name in running:
        say(f"stopping {name}")
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for process, _ in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def function_containers() -> set[str]:
    listed = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=sam.cli.container.type=lambda"], capture_output=True, text=True
    )
    return set(listed.stdout.split())


def remove_containers(ids: set[str]) -> None:
    """Function containers sam left behind (it may be killed before it cleans up)."""
    if ids:
        subprocess.run(["docker", "rm", "-f", *sorted(ids)], capture_output=True)


# --- Docker engine -----------------------------------------------------------------


def engine_running() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def can_install_engine() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install_engine() -> None:
    """Debian's docker.io (dockerd, containerd, runc); about a minute."""
    if shutil.which("dockerd") is not None:
        return
    say("installing a Docker engine: apt-get install docker.io (about 1 minute)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet(["apt-get", "update", "-qq"], env=env)
    quiet(["apt-get", "install", "-y", "-qq", "docker.io"], env=env)


CHROMIUM = Path("/usr/bin/chromium")


def install_browser() -> None:
    """Debian's chromium for the admin page's browser tests (Playwright drives it; no
    `playwright install` download); about a minute."""
    if CHROMIUM.exists():
        return
    if not can_install_engine():
        raise StackError(f"no {CHROMIUM}: install Debian's chromium package (apt-get install chromium)")
    say("installing Debian's chromium for the browser tests (about 1 minute)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet(["apt-get", "update", "-qq"], env=env)
    quiet(["apt-get", "install", "-y", "-qq", "chromium"], env=env)


def start_engine(detached: bool = False) -> subprocess.Popen[Any] | None:
    """Make a Docker engine reachable; returns the dockerd this started, if any.

    vfs is the storage driver that works on these machines (no overlayfs); the default
    bridge stays, because sam publishes each container's port on 127.0.0.1.
    """
    if engine_running():
        return None
    if not can_install_engine():
        raise StackError(
            "no Docker engine is reachable (`docker info` fails). Start one (Docker Desktop, "
            "`sudo systemctl start docker`, or `sudo dockerd`), or run as root on Debian/Ubuntu "
            "so this can install and start docker.io itself."
        )
    install_engine()
    say("starting dockerd --storage-driver=vfs --iptables=false (log: .local/dockerd.log)")
    dockerd = spawn(["dockerd", "--storage-driver=vfs", "--iptables=false"], "dockerd.log")
    wait_until(engine_running, "dockerd", timeout=120, process=dockerd)
    return None if detached else dockerd


# --- the Lambda image --------------------------------------------------------------


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def lambda_image_args() -> list[str]:
    """`sam local` arguments for a Lambda Python 3.11 image: AWS's own when it can be
    pulled, else the equivalent built offline once and reused."""
    if image_exists(AWS_IMAGE):
        return []
    if not image_exists(OFFLINE_IMAGE):
        say(f"trying to pull {AWS_IMAGE} (60 s at most)")
        try:
            pulled = subprocess.run(["docker", "pull", AWS_IMAGE], capture_output=True, timeout=60).returncode == 0
        except subprocess.TimeoutExpired:
            pulled = False
        if pulled:
            return []
        build_offline_image()
    return ["--invoke-image", OFFLINE_IMAGE, "--skip-pull-image"]


def build_offline_image() -> None:
    """Debian bookworm (whose python3 is 3.11) + awslambdaric + boto3 under /var/runtime,
    as AWS's image has them; about 2 minutes, once per machine."""
    if shutil.which("debootstrap") is None:
        if not can_install_engine():
            raise StackError(f"{AWS_IMAGE} cannot be pulled and debootstrap is missing to build {OFFLINE_IMAGE}")
        say("installing debootstrap")
        quiet(
            ["apt-get", "install", "-y", "-qq", "debootstrap"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lambda-image-") as scratch:
        root = Path(scratch) / "root"
        say(f"building {OFFLINE_IMAGE}: debootstrap bookworm with python3 (about 45 s)")
        run(
            ["debootstrap", "--variant=minbase", "--include=python3,ca-certificates", "bookworm", str(root)],
            stdout=subprocess.DEVNULL,
        )
        say("installing the runtime interface client and boto3 into /var/runtime")
        image_dir = ROOT / "devtools" / "lambda_image"
        run(
            [
                str(BIN / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--no-deps",
                "--target",
                str(root / "var/runtime"),
                "-r",
                str(image_dir / "requirements.txt"),
            ]
        )
        shutil.copy(image_dir / "bootstrap", root / "var/runtime/bootstrap")
        (root / "var/runtime/bootstrap").chmod(0o755)
        (root / "var/task").mkdir(parents=True, exist_ok=True)
        (root / "opt").mkdir(exist_ok=True)
        say(f"importing {OFFLINE_IMAGE} into Docker (about 30 s)")
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        run(
            ["docker", "import", "-c", "ENV LANG=C.UTF-8", "-c", "WORKDIR /var/task", "-", OFFLINE_IMAGE],
            stdin=tar.stdout,
            stdout=subprocess.DEVNULL,
        )
        tar.wait()
    say(f"{OFFLINE_IMAGE} built in {time.monotonic() - started:.0f} s; later runs reuse it")


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge, where containers reach moto."""
    out = run(
        ["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"],
        capture_output=True,
    ).stdout.strip()
    return out or "172.17.0.1"


# --- moto server, tables, demo data ------------------------------------------------


def start_moto(port: int) -> subprocess.Popen[Any]:
    """moto server on every interface of this machine, so function containers on the
    bridge reach it; the traffic stays on the machine."""
    # moto server with transactions that do not copy whole tables (devtools.moto_transactions).
    command = [str(BIN / "python"), "-m", "devtools.moto_transactions", "-H", "0.0.0.0", "-p", str(port)]  # noqa: S104
    moto = spawn(command, "moto.log", cwd=ROOT)
    wait_until(lambda: http_status(f"http://127.0.0.1:{port}/moto-api/") is not None, "moto server", 60, moto)
    return moto


def http_status(url: str, headers: dict[str, str] | None = None) -> int | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def _client(service: str, endpoint: str) -> Any:
    import boto3  # here, not at import: `engine` and the e2e skip check need no boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_resources(endpoint: str) -> dict[str, str]:
    """The template's tables, checkpoint signing key, buckets and queues on moto server;
    the key's ARN and the queues' URLs (as moto server's own clients see them)."""
    from devtools import template

    declared = template.load_template()
    template.create_tables(_client("dynamodb", endpoint), TABLES, declared)
    template.create_checkpoint_bucket(_client("s3", endpoint), CHECKPOINT_BUCKET, declared)
    key_arn = template.create_signing_key(_client("kms", endpoint), declared)
    queue_url = template.create_queue(_client("sqs", endpoint), "CheckpointQueue", CHECKPOINT_QUEUE, declared)
    template.create_exports_bucket(_client("s3", endpoint), _client("kms", endpoint), EXPORT_BUCKET, declared)
    export_queue_url = template.create_queue(_client("sqs", endpoint), "ExportQueue", EXPORT_QUEUE, declared)
    streams_key = template.create_streams_key(_client("kms", endpoint), declared)
    stream_queue_url = template.create_queue(_client("sqs", endpoint), "StreamDeliveryQueue", STREAM_QUEUE, declared)
    _client("s3", endpoint).create_bucket(Bucket=CUSTOMER_BUCKET)
    return {
        "signing_key": key_arn,
        "queue_url": queue_url,
        "export_queue_url": export_queue_url,
        "streams_key": streams_key,
        "stream_queue_url": stream_queue_url,
    }


def recreate_tables(endpoint: str) -> None:
    """The template's tables again, empty (the key, bucket and queue stay, so the running
    functions' settings still hold)."""
    from devtools import template

    client = _client("dynamodb", endpoint)
    for name in TABLES.values():
        client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)
    template.create_tables(client, TABLES)


def seed_demo_data(endpoint: str) -> None:
    """Run devtools.demo_data against moto server, in a process of its own: the layer's
    boto3 client reads AWS_ENDPOINT_URL_DYNAMODB once, at import."""
    env = {
        **os.environ,
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "PYTHONPATH": f"{ROOT / 'layers/common/python'}:{ROOT}",
    }
    run([str(BIN / "python"), "-m", "devtools.demo_data", TABLE_NAME], env=env, cwd=ROOT)


# --- sam ---------------------------------------------------------------------------


def local_secret() -> str:
    """A cursor-signing key for this checkout's local stack, made once."""
    path = LOCAL / "cursor-secret"
    if not path.exists():
        LOCAL.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def write_env_vars(path: Path, dynamodb_endpoint: str, resources: dict[str, str]) -> None:
    """The `--env-vars` file: every function at moto server, the authorizer at the
    development JWKS. Only variables the template declares can be set this way."""
    from devtools.dev_tokens import jwks, template_default

    # Credentials are not among them: sam hands every container its own (see sam_env).
    shared = {"AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint}
    ledger = {
        **shared,
        "AWS_ENDPOINT_URL_KMS": dynamodb_endpoint,  # moto server answers every service on one port
        "TABLE_NAME": TABLE_NAME,
        "LEDGER_TABLE_NAME": LEDGER_TABLE_NAME,
        "SIGNING_KEY_ID": resources["signing_key"],
        "LEDGER_ORIGIN": LEDGER_ORIGIN,
    }
    # The queue's URL names moto server as this machine reaches it; containers reach it
    # through the bridge, and moto routes by the URL's path.
    container_queue_url = dynamodb_endpoint + "/" + resources["queue_url"].split("/", 3)[3]
    container_export_queue_url = dynamodb_endpoint + "/" + resources["export_queue_url"].split("/", 3)[3]
    # Log streams: delivery may reach this machine (the webhook receiver) through the bridge.
    streams = {
        **shared,
        "AWS_ENDPOINT_URL_SQS": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_KMS": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_STS": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_S3": dynamodb_endpoint,
        "TABLE_NAME": TABLE_NAME,
        "RETENTION_DAYS": "0",
        "LEDGER_TABLE_NAME": LEDGER_TABLE_NAME,
        "STREAMS_TABLE_NAME": STREAMS_TABLE_NAME,
        "STREAM_QUEUE_URL": dynamodb_endpoint + "/" + resources["stream_queue_url"].split("/", 3)[3],
        "ALLOW_PRIVATE_DESTINATIONS": "true",
    }
    # Presigned download links name this endpoint too: the bridge's address is this
    # machine's own, so a browser here opens them.
    exports = {
        **shared,
        "AWS_ENDPOINT_URL_S3": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_SQS": dynamodb_endpoint,
        "TABLE_NAME": TABLE_NAME,
        "EXPORTS_TABLE_NAME": EXPORTS_TABLE_NAME,
        "EXPORT_BUCKET": EXPORT_BUCKET,
        "EXPORT_QUEUE_URL": container_export_queue_url,
    }
    env_vars = {
        "RecordEventFunction": {**shared, "TABLE_NAME": TABLE_NAME, "RETENTION_DAYS": "0"},
        "QueryLogFunction": {
            **shared,
            "TABLE_NAME": TABLE_NAME,
            "INVESTIGATION_TABLE_NAME": INVESTIGATION_TABLE_NAME,
            "CURSOR_SECRET": local_secret(),
        },
        "IndexEventsFunction": {**shared, "INVESTIGATION_TABLE_NAME": INVESTIGATION_TABLE_NAME},
        "ExportsFunction": {
            **exports,
            "RETENTION_DAYS": "0",
            "EXPORT_RETENTION_DAYS": str(template_default("ExportRetentionDays")),
            "CURSOR_SECRET": local_secret(),
        },
        "ExportWorkerFunction": {
            **exports,
            "INVESTIGATION_TABLE_NAME": INVESTIGATION_TABLE_NAME,
            "LEDGER_TABLE_NAME": LEDGER_TABLE_NAME,
        },
        "StreamsFunction": {**streams, "STREAMS_KEY_ID": resources["streams_key"]},
        "StreamDispatchFunction": {
            **shared,
            "AWS_ENDPOINT_URL_SQS": dynamodb_endpoint,
            "STREAMS_TABLE_NAME": STREAMS_TABLE_NAME,
            "STREAM_QUEUE_URL": streams["STREAM_QUEUE_URL"],
        },
        "StreamDeliveryFunction": streams,
        "SealLogFunction": {
            **ledger,
            "AWS_ENDPOINT_URL_S3": dynamodb_endpoint,
            "AWS_ENDPOINT_URL_SQS": dynamodb_endpoint,
            "CHECKPOINT_BUCKET": CHECKPOINT_BUCKET,
            "CHECKPOINT_QUEUE_URL": container_queue_url,
            "CHECKPOINT_INTERVAL_SECONDS": str(template_default("CheckpointIntervalSeconds")),
        },
        "ReadLedgerFunction": {
            **ledger,
            "INVESTIGATION_TABLE_NAME": INVESTIGATION_TABLE_NAME,
            "CURSOR_SECRET": local_secret(),
        },
        "AuthorizerFunction": {
            **shared,
            "JWKS_URL": "",
            "JWKS_JSON": json.dumps(jwks(), separators=(",", ":")),
            "JWT_ISSUER": template_default("JwtIssuer"),
            "JWT_AUDIENCE": template_default("JwtAudience"),
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(env_vars, indent=2))


def sam_env() -> dict[str, str]:
    return {**os.environ, **DUMMY_CREDENTIALS, "SAM_CLI_TELEMETRY": "0"}


def sam_build() -> None:
    say("sam build (the layer's dependencies; about 15 s, cached afterwards)")
    built = subprocess.run(
        [str(BIN / "sam"), "build", "--cached"], cwd=ROOT, env=sam_env(), capture_output=True, text=True
    )
    if built.returncode != 0:
        raise StackError(f"sam build failed:\n{built.stdout}{built.stderr}")


def sam_local(command: str, port: int, env_vars: Path, image_args: list[str], *extra: str) -> subprocess.Popen[Any]:
    """`sam local <command>` on 127.0.0.1:`port` with the built template, the env-vars
    file and warm containers; its output in .local/sam-local[-<command>].log."""
    log = "sam-local.log" if command == "start-api" else f"sam-local-{command.removeprefix('start-')}.log"
    arguments = ["--template-file", str(ROOT / ".aws-sam/build/template.yaml"), "--host", "127.0.0.1"]
    arguments += ["--port", str(port), "--env-vars", str(env_vars), "--warm-containers", "EAGER"]
    return spawn([str(BIN / "sam"), "local", command, *arguments, *extra, *image_args], log, cwd=ROOT, env=sam_env())


def start_api(port: int, env_vars: Path, image_args: list[str], admin_origin: str) -> subprocess.Popen[Any]:
    say(f"sam local start-api on 127.0.0.1:{port} (first start builds the function image: about a minute)")
    # The admin page's origin: the Api's CORS headers and query_log's ADMIN_ORIGIN.
    api = sam_local("start-api", port, env_vars, image_args, "--parameter-overrides", f"AdminOrigin={admin_origin}")
    # Without a token the authorizer answers 401: proof that API Gateway emulation,
    # the authorizer container and the routes are all up.
    wait_until(lambda: http_status(f"http://127.0.0.1:{port}/events") == 401, "sam local start-api", 600, api)
    return api


def start_lambda(port: int, env_vars: Path, image_args: list[str]) -> subprocess.Popen[Any]:
    """`sam local start-lambda`: the Lambda Invoke API for the functions with no route
    (the sealer, the indexer, the export worker and the log streams' dispatcher and
    delivery), which the local poller calls as
    Lambda's event sources would."""
    say(
        f"sam local start-lambda on 127.0.0.1:{port} (the sealer, the indexer, the export worker, stream dispatch "
        "and delivery, fed by the local poller)"
    )
    process = sam_local("start-lambda", port, env_vars, image_args)
    wait_until(lambda: http_status(f"http://127.0.0.1:{port}/") is not None, "sam local start-lambda", 600, process)
    return process


def start_poller(moto_endpoint: str, lambda_port: int, resources: dict[str, str]) -> subprocess.Popen[Any]:
    say(
        "local poller: the events stream -> SealLogFunction and IndexEventsFunction; the checkpoint queue -> "
        "SealLogFunction; the export queue -> ExportWorkerFunction; the ledger stream -> StreamDispatchFunction; "
        "the delivery queue -> StreamDeliveryFunction"
    )
    return spawn(
        [
            str(BIN / "python"),
            "-m",
            "devtools.stream_poller",
            "--dynamodb",
            moto_endpoint,
            "--lambda",
            f"http://127.0.0.1:{lambda_port}",
            "--table",
            TABLE_NAME,
            "--queue-url",
            resources["queue_url"],
            "--export-queue-url",
            resources["export_queue_url"],
            "--ledger-table",
            LEDGER_TABLE_NAME,
            "--stream-queue-url",
            resources["stream_queue_url"],
        ],
        "stream-poller.log",
        cwd=ROOT,
        env={**os.environ, **DUMMY_CREDENTIALS},
    )


@dataclass
class WebhookReceiver:
    """devtools.webhook_receiver beside the stack: where delivery reaches it (through the
    Docker bridge), its secrets file and the file of what it received."""

    process: subprocess.Popen[Any]
    url: str  # as the functions' containers reach it
    secrets: Path
    received: Path

    def remember(self, path: str, secret: str) -> None:
        run(
            [
                str(BIN / "python"),
                "-m",
                "devtools.webhook_receiver",
                "--remember",
                path,
                secret,
                "--secrets",
                str(self.secrets),
            ],
            cwd=ROOT,
        )

    def messages(self) -> list[dict[str, Any]]:
        if not self.received.exists():
            return []
        return [json.loads(line) for line in self.received.read_text().splitlines() if line.strip()]


def start_webhook_receiver(host: str, port: int, show: bool) -> WebhookReceiver:
    """The local webhook receiver on the bridge address (containers reach this machine
    there, nothing outside does): it checks each message's Standard Webhooks signature
    and prints it — on this terminal for `make local` (`show`), else in its log."""
    secrets_path, received = LOCAL / f"webhook-secrets-{port}.json", LOCAL / f"webhook-received-{port}.ndjson"
    received.unlink(missing_ok=True)
    command = [str(BIN / "python"), "-m", "devtools.webhook_receiver", "--host", host, "--port", str(port)]
    command += ["--secrets", str(secrets_path), "--received", str(received)]
    say(f"webhook receiver on http://{host}:{port}/ (checks signatures, prints each message)")
    process = subprocess.Popen(command, cwd=ROOT) if show else spawn(command, f"webhook-receiver-{port}.log", cwd=ROOT)
    wait_until(lambda: http_status(f"http://{host}:{port}/") == 200, "the webhook receiver", 30, process)
    return WebhookReceiver(process, f"http://{host}:{port}", secrets_path, received)


@contextmanager
def running_stack(
    api_port: int,
    *,
    seed: bool,
    start_docker: bool,
    admin_page_port: int | None = None,
    webhook_port: int | None = None,
    show_receiver: bool = False,
) -> Iterator[dict[str, Any]]:
    """Everything the API needs, stopped again (in reverse order) on exit; with
    `admin_page_port`, the admin page too (devtools.admin_ui), its origin the one the API's
    CORS headers name."""
    from devtools import admin_ui

    page_port = admin_page_port or free_port()
    admin_origin = f"http://127.0.0.1:{page_port}"
    with ExitStack() as stack:
        dockerd = start_engine() if start_docker else None
        if dockerd is not None:
            stack.callback(stop, dockerd, "dockerd")
        image_args = lambda_image_args()
        moto_port = free_port()
        moto = start_moto(moto_port)
        stack.callback(stop, moto, "moto server")
        resources = create_resources(f"http://127.0.0.1:{moto_port}")
        if seed:
            say("seeding demo data: 2 organisations, 12 users, 400 events over 30 days")
            seed_demo_data(f"http://127.0.0.1:{moto_port}")
        sam_build()
        env_vars = LOCAL / f"env-vars-{api_port}.json"
        container_endpoint = f"http://{bridge_gateway()}:{moto_port}"
        write_env_vars(env_vars, container_endpoint, resources)
        before = function_containers()
        stack.callback(lambda: remove_containers(function_containers() - before))
        api = start_api(api_port, env_vars, image_args, admin_origin)
        stack.callback(stop, api, "sam local start-api")
        lambda_port = free_port()
        functions = start_lambda(lambda_port, env_vars, image_args)
        stack.callback(stop, functions, "sam local start-lambda")
        poller = start_poller(f"http://127.0.0.1:{moto_port}", lambda_port, resources)
        stack.callback(stop, poller, "the stream poller", 5)
        receiver = start_webhook_receiver(bridge_gateway(), webhook_port or free_port(), show_receiver)
        stack.callback(stop, receiver.process, "the webhook receiver", 5)
        # Unwound first: the four stop side by side (each stop above then finds it ended).
        stack.callback(
            stop_together,
            [
                (receiver.process, "the webhook receiver"),
                (poller, "the stream poller"),
                (functions, "sam local start-lambda"),
                (api, "sam local start-api"),
            ],
        )
        ui = stack.enter_context(admin_ui.serving(f"http://127.0.0.1:{api_port}", page_port, free_port()))
        yield {
            "api": f"http://127.0.0.1:{api_port}",
            "admin_ui": ui,
            "dynamodb": f"http://127.0.0.1:{moto_port}",
            "container_dynamodb": container_endpoint,
            "env_vars": env_vars,
            "lambda": f"http://127.0.0.1:{lambda_port}",
            "image_args": image_args,
            "webhook_receiver": receiver,
            "customer_bucket": CUSTOMER_BUCKET,
            "customer_role": CUSTOMER_ROLE,
        }


def demo_webhook_stream(api: str, receiver: WebhookReceiver) -> None:
    """A webhook stream of the first demo organisation to the local receiver, from leaf
    0 (the demo data, then whatever is recorded): its secret goes to the receiver's file,
    so the receiver's lines below show each message's signature checked."""
    from devtools.demo_data import ORGS
    from devtools.dev_tokens import token

    org_id, users = next(iter(ORGS.items()))
    body = json.dumps({"type": "webhook", "url": f"{receiver.url}/{org_id}", "start_leaf": 0}).encode()
    request = urllib.request.Request(  # noqa: S310 (the local API's own http:// URL)
        f"{api}/streams",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token(org_id, 'admin', users[0][0])}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        created = json.load(answer)
    receiver.remember(f"/{org_id}", created["secret"])
    say(f"webhook stream {created['stream_id']} of {org_id} -> {receiver.url}/{org_id} (from leaf 0)")


def print_welcome(api: str, admin_page: str, receiver: WebhookReceiver, moto: str) -> None:
    from devtools.demo_data import ORGS
    from devtools.dev_tokens import token

    (org_a, users_a), (org_b, _) = list(ORGS.items())
    admin = token(org_a, "admin", users_a[0][0])
    member = token(org_a, "member", users_a[1][0])
    admin_b = token(org_b, "admin", ORGS[org_b][0][0])
    investigated = users_a[2][0]
    print(
        f"""
Audit Log is running at {api}  (Ctrl-C stops it)

The Audit Log page, signed in as an ORG Admin of {org_a}:
  {admin_page}#token={admin}
As an ORG Member (sent back to /settings):
  {admin_page}#token={member}

  export API={api}
  export ADMIN_TOKEN={admin}
  export MEMBER_TOKEN={member}
  export OTHER_ORG_ADMIN_TOKEN={admin_b}

Record an event with the client (docs/client.md; sam local checks no signature, so any credentials do):
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local .venv/bin/python -c 'import os; from audit_log_client import AuditLog; print(AuditLog(os.environ["API"], "us-east-1").record("user.login", "{users_a[0][0]}", org_id="{org_a}", context={{"ip_address": "203.0.113.7"}}))'
Or over HTTP (the platform backend route, AWS_IAM in a deployed stack):
  curl -sS -w '\\n' -X POST "$API/events" -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\
    -d '{{"org_id": "{org_a}", "event_type": "member.invited", "actor": {{"id": "{users_a[0][0]}"}}, "targets": [{{"type": "user", "id": "usr_new"}}]}}'

List {org_a}'s log, newest first (ORG Admin):
  curl -sS -w '\\n' "$API/events?limit=5" -H "Authorization: Bearer $ADMIN_TOKEN"
Filter by type:
  curl -sS -w '\\n' "$API/events?event_type=organisation.settings_updated" -H "Authorization: Bearer $ADMIN_TOKEN"
Filter by user (one user's logins):
  curl -sS -w '\\n' "$API/events?event_type=user.login&actor_id={investigated}" -H "Authorization: Bearer $ADMIN_TOKEN"
Next page (pass next_cursor back with the same filters):
  NEXT=$(curl -sS "$API/events?limit=5" -H "Authorization: Bearer $ADMIN_TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_cursor"])')
  curl -sS -w '\\n' "$API/events?limit=5&cursor=$NEXT" -H "Authorization: Bearer $ADMIN_TOKEN"
Find a user by name or email, and the event types recorded (kept up to date within seconds):
  curl -sS -w '\\n' "$API/actors?q=kath" -H "Authorization: Bearer $ADMIN_TOKEN"
  curl -sS -w '\\n' "$API/event-types" -H "Authorization: Bearer $ADMIN_TOKEN"
The history of one resource (the billing API key), and logins marked new_ip / new_user_agent:
  curl -sS -w '\\n' "$API/events?target_type=api_key&target_id=key_billing" -H "Authorization: Bearer $ADMIN_TOKEN"
  curl -sS -w '\\n' "$API/events?event_type=user.login&actor_id=usr_katherine&limit=5" -H "Authorization: Bearer $ADMIN_TOKEN"
An ORG Member is refused (403):
  curl -sS -w '\\n' -i "$API/events" -H "Authorization: Bearer $MEMBER_TOKEN"
No token is refused (401):
  curl -sS -w '\\n' -i "$API/events"

The signed ledger (every event sealed within seconds): the latest checkpoint, then the whole ledger verified
  curl -sS -w '\\n' "$API/ledger/checkpoint" -H "Authorization: Bearer $ADMIN_TOKEN"
  curl -sS "$API/ledger/public-key" -H "Authorization: Bearer $ADMIN_TOKEN" > .local/ledger-key.json
  .venv/bin/audit-log audit --api "$API" --token "$ADMIN_TOKEN" --public-key .local/ledger-key.json

Export the log (NDJSON with its proof, or --format csv), wait for it and download it, then verify it offline
  .venv/bin/audit-log export --api "$API" --token "$ADMIN_TOKEN" --format ndjson --output .local/acme.ndjson --proof-output .local/acme.proof.json
  .venv/bin/audit-log verify export .local/acme.ndjson --proof .local/acme.proof.json --public-key .local/ledger-key.json

Log streams: a webhook stream of {org_a} delivers to the local receiver (its lines follow, each signature checked).
Its health, then an S3 stream into a local stand-in for a customer's bucket, then what that bucket holds:
  curl -sS -w '\\n' "$API/streams" -H "Authorization: Bearer $ADMIN_TOKEN"
  curl -sS -w '\\n' -X POST "$API/streams" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \\
    -d '{{"type": "s3", "bucket": "{CUSTOMER_BUCKET}", "prefix": "audit/", "role_arn": "{CUSTOMER_ROLE}", "start_leaf": 0}}'
  .venv/bin/python -m devtools.local_bucket {CUSTOMER_BUCKET} --endpoint {moto}
Make the receiver fail the next 20 messages (the stream retries with backoff, then catches up):
  curl -sS -w '\\n' -X POST {receiver.url}/_control/fail -d '{{"count": 20}}'

More tokens: make token ORG={org_b} ROLE=admin USER={ORGS[org_b][0][0]}
Logs: .local/sam-local.log, .local/sam-local-lambda.log (the sealer, the indexer, the export worker, stream delivery), .local/stream-poller.log, .local/moto.log
""",
        flush=True,
    )


def up(port: int, page_port: int) -> None:
    started = time.monotonic()
    stopping = False

    def on_signal(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with running_stack(
            port, seed=True, start_docker=True, admin_page_port=page_port, webhook_port=WEBHOOK_PORT, show_receiver=True
        ) as stack:
            say(f"ready in {time.monotonic() - started:.0f} s")
            print_welcome(stack["api"], stack["admin_ui"].url, stack["webhook_receiver"], stack["dynamodb"])
            demo_webhook_stream(stack["api"], stack["webhook_receiver"])
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        say("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="run the API locally until Ctrl-C (make local)")
    up_parser.add_argument("--port", type=int, default=3000)
    up_parser.add_argument("--page-port", type=int, default=8080, help="the admin page (the API's CORS origin)")
    commands.add_parser("engine", help="start a Docker engine (left running) and build the Lambda image")
    commands.add_parser("browser", help="install Debian's chromium for the browser tests")
    args = parser.parse_args()
    try:
        if args.command == "up":
            up(args.port, args.page_port)
        elif args.command == "browser":
            install_browser()
        else:
            start_engine(detached=True)
            lambda_image_args()
    except StackError as error:
        say(f"error: {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
