"""The one rule for organisation ids (DESIGN.md: 1-128 of `A-Z a-z 0-9 _ - . :`).

Shared by the request models, the query path and the authorizer; free of pydantic so the
authorizer can use it without the import cost. The rule also keeps `#`, the key
delimiter of events_table, out of every key.
"""

import re

ORG_ID_PATTERN = r"[A-Za-z0-9_\-.:]{1,128}"
_ORG_ID = re.compile(ORG_ID_PATTERN)


def is_org_id(value: object) -> bool:
    return isinstance(value, str) and _ORG_ID.fullmatch(value) is not None
