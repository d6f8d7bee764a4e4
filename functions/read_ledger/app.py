"""read_ledger: the verifiable ledger's read routes, for an ORG Admin (or their auditor)
checking their own organisation's log: checkpoints, the public key, proofs, entries."""

from audit_log import loading

loading.start()  # before every other import: see audit_log.loading

from datetime import datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from ulid import ULID

from audit_log.cursors import decode_cursor, encode_cursor
from audit_log.http import (
    SingleOriginCors,
    caller_org,
    create_resolver,
    documented_errors,
    json_response,
    lambda_handler_for,
    reject_unknown_parameters,
    success,
)
from audit_log.ledger import publishing, reading, storage
from audit_log.ledger.signing import ALGORITHM
from audit_log.models.ledger import (
    CheckpointOut,
    CheckpointPage,
    ConsistencyOut,
    EntriesPage,
    InclusionProofOut,
    PublicKeyOut,
)
from audit_log.observability import traced
from audit_log.settings import current
from audit_log.settings.ledger_read import LedgerReadSettings
from audit_log.timestamps import utc_now

app = create_resolver(
    rejected_metric="LedgerQueriesRejected",
    cors=SingleOriginCors(lambda: current(LedgerReadSettings).ADMIN_ORIGIN),
)

_ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
_TAGS = ["ledger"]
# Cursors of the checkpoint list are bound to it, so one from the log cannot be replayed.
_CHECKPOINT_LIST = "ledger-checkpoints"


def _settings() -> LedgerReadSettings:
    return current(LedgerReadSettings)


def _signer() -> publishing.Signer:
    return publishing.signer(_settings().SIGNING_KEY_ID)


@app.get(
    "/ledger/checkpoint",
    summary="The latest signed checkpoint of the caller's organisation's ledger",
    description="Size 0 (the root of the empty tree) while nothing is sealed yet.",
    responses={200: success(CheckpointOut, "The latest checkpoint"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def get_checkpoint() -> Response[CheckpointOut]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset())
    settings = _settings()
    checkpoint = reading.latest(settings.LEDGER_TABLE_NAME, org_id, settings.LEDGER_ORIGIN, _signer(), utc_now)
    return json_response(HTTPStatus.OK, reading.checkpoint_out(checkpoint))


@app.get(
    "/ledger/checkpoints",
    summary="Published checkpoints, newest first",
    responses={200: success(CheckpointPage, "One page of checkpoints"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def list_checkpoints(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> Response[CheckpointPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"limit", "cursor"}))
    settings = _settings()
    below = None
    if cursor is not None:
        below = int(decode_cursor(settings.CURSOR_SECRET, org_id, _CHECKPOINT_LIST, cursor))
    found = storage.checkpoints_newest_first(settings.LEDGER_TABLE_NAME, org_id, below=below, limit=limit + 1)
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        next_cursor = encode_cursor(settings.CURSOR_SECRET, org_id, _CHECKPOINT_LIST, str(page[-1].tree_size))
    body = CheckpointPage(checkpoints=[reading.checkpoint_out(c) for c in page], next_cursor=next_cursor)
    return json_response(HTTPStatus.OK, body)


@app.get(
    "/ledger/public-key",
    summary="The public key that verifies every checkpoint",
    responses={200: success(PublicKeyOut, "The checkpoint signing key"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def get_public_key() -> Response[PublicKeyOut]:
    caller_org(app)
    reject_unknown_parameters(app, frozenset())
    key = _signer().public_key
    return json_response(HTTPStatus.OK, PublicKeyOut(key_id=key.key_id, algorithm=ALGORITHM, public_key_pem=key.pem))


@app.get(
    "/ledger/consistency",
    summary="The RFC 9162 consistency proof between two tree sizes",
    description="0 <= from <= to <= the latest published size; empty when from is 0 or equals to.",
    responses={200: success(ConsistencyOut, "The proof"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def get_consistency(
    old_size: Annotated[int, Query(alias="from", ge=0)],
    new_size: Annotated[int, Query(alias="to", ge=0)],
) -> Response[ConsistencyOut]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"from", "to"}))
    proof = reading.consistency(_settings().LEDGER_TABLE_NAME, org_id, old_size, new_size)
    return json_response(HTTPStatus.OK, proof)


@app.get(
    "/ledger/entries",
    summary="The ledger in leaf order, each leaf with its event",
    description="Up to the latest published tree size; follow `next_start` until it is null.",
    responses={200: success(EntriesPage, "One page of entries"), **documented_errors(400, 401, 403, 503)},
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def list_entries(
    start: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
) -> Response[EntriesPage]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"start", "limit"}))
    settings = _settings()
    page = reading.entries(
        ledger_table=settings.LEDGER_TABLE_NAME,
        events_table_name=settings.TABLE_NAME,
        investigation_table=settings.INVESTIGATION_TABLE_NAME,
        org_id=org_id,
        start=start,
        limit=limit,
    )
    return json_response(HTTPStatus.OK, page)


@app.get(
    "/events/<event_id>/proof",
    summary="The inclusion proof of one event against a published checkpoint",
    description="`tree_size` must be a published checkpoint's size (default: the latest). 409 with Retry-After "
    "while the event is recorded but not yet in a published checkpoint.",
    responses={
        200: success(InclusionProofOut, "The proof and its checkpoint"),
        **documented_errors(400, 401, 403, 404, 409, 503),
    },
    security=_ADMIN,
    tags=_TAGS,
)
@traced
def get_proof(
    event_id: Annotated[str, Path(min_length=1, max_length=64)],
    tree_size: Annotated[int | None, Query(ge=0)] = None,
) -> Response[InclusionProofOut]:
    org_id = caller_org(app)
    reject_unknown_parameters(app, frozenset({"tree_size"}))
    settings = _settings()
    proof = reading.inclusion_proof(
        ledger_table=settings.LEDGER_TABLE_NAME,
        events_table_name=settings.TABLE_NAME,
        org_id=org_id,
        event_id=event_id,
        tree_size=tree_size,
        event_time=_id_time(event_id),
    )
    return json_response(HTTPStatus.OK, proof)


def _id_time(event_id: str) -> datetime | None:
    """When an event id (a ULID) says it was made; None for an id that is not a ULID."""
    try:
        return ULID.from_str(event_id).datetime
    except ValueError:
        return None


lambda_handler = lambda_handler_for(app)

loading.done()
