"""What one Lambda answer can carry, measured the way the runtime sends it.

A synchronous Lambda response is at most 6 MB, counted on the JSON document the runtime
posts: the proxy response with the body as one JSON string inside it. The Python 3.11
runtime (awslambdaric) writes that document with `ensure_ascii`, so every character of
the body is counted escaped: a quote as 2 bytes, an emoji as 12. Whatever exceeds the
limit is dropped by Lambda and API Gateway answers 502, so a page of the log is cut short
before that, with a cursor, instead.

Bodies themselves are UTF-8 (`ensure_ascii=False`): a client reading the answer gets an
emoji as its 4 bytes, not as a 12-byte escape.
"""

import json
from typing import Any

# Below both readings of "6 MB" (6,000,000 and 6,291,456 bytes).
MAX_LAMBDA_RESPONSE_BYTES = 6_000_000
# What an answer needs besides its list of events: status, headers (CORS included), the
# object around the list and a cursor. Generous: a cursor is a few hundred bytes.
ENVELOPE_BYTES = 16 * 1024


def body_json(value: Any, encoder: type[json.JSONEncoder] | None = None) -> str:
    """A response body: compact JSON, non-ASCII text as UTF-8 (`encoder` for values that
    are not plain JSON, as the resolver's own serializer has them)."""
    return json.dumps(value, cls=encoder, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_bytes(value: Any) -> int:
    """What `value`, as one element of a response body, adds to the Lambda response
    document: its body text escaped again as the runtime escapes the body string, and
    the comma that separates it from the next element."""
    return len(json.dumps(body_json(value))) - 2 + 1
