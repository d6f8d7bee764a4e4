"""What the investigation routes answer: actors by name, email or id, and event types.

`GET /actors?q=` is served from the term index when the query is narrow (the actors it
matches are read and ordered by when they were last seen), and from the actors' recency
index, filtered, when so many terms match that reading them all would cost more than
reading actors in order until a page is full. Either way the answer is the matching
actors most recently seen first, and every match is checked on the actor's current
terms.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from audit_log.cursors import decode_cursor, encode_cursor
from audit_log.investigation import storage
from audit_log.investigation.terms import matches, normalise, term_key
from audit_log.models.investigation import ActorSeen, ActorsPage, EventTypeSeen, EventTypesPage

# Term items read before a query counts as broad (then matches are found by recency).
CANDIDATE_CAP = 200
# Actors one broad-query page may look at; a page that found fewer matches is shorter,
# with a cursor (as the log's type + actor pages are).
RECENCY_READ_BUDGET = 1_000
MAX_EVENT_TYPES = 10_000


@dataclass(frozen=True)
class ActorQuery:
    table_name: str
    cursor_secret: str
    org_id: str
    q: str | None
    limit: int

    @property
    def normal(self) -> str:
        return normalise(self.q or "")

    def digest(self) -> str:
        return hashlib.sha256(f"actors\n{self.normal}".encode()).hexdigest()[:32]


def actor_seen(item: dict[str, Any]) -> ActorSeen:
    return ActorSeen(
        id=item["actor_id"],
        type=item.get("type") or "user",
        name=item.get("name"),
        email=item.get("email"),
        last_seen_at=item["last_seen"],
    )


def search_actors(query: ActorQuery, cursor: str | None) -> ActorsPage:
    before = decode_cursor(query.cursor_secret, query.org_id, query.digest(), cursor) if cursor else None
    if not query.normal:
        items, _ = storage.actors_by_recency(query.table_name, query.org_id, before, query.limit + 1)
        page = items[: query.limit]
        return _page(query, page, page[-1]["recency"] if len(items) > query.limit else None)
    prefix = term_key(query.normal)
    ids, complete = storage.term_candidates(query.table_name, query.org_id, prefix, CANDIDATE_CAP)
    if complete:
        found = storage.actors_at(query.table_name, query.org_id, ids)
        hits = sorted(
            (item for item in found if matches(item.get("terms", []), query.normal)),
            key=lambda item: str(item["recency"]),
            reverse=True,
        )
        if before is not None:
            hits = [item for item in hits if item["recency"] < before]
        page = hits[: query.limit]
        return _page(query, page, page[-1]["recency"] if len(hits) > query.limit else None)
    return _page(query, *_broad_search(query, before))


def _broad_search(query: ActorQuery, before: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Matching actors in recency order, reading at most RECENCY_READ_BUDGET actors."""
    hits: list[dict[str, Any]] = []
    read = 0
    position = before
    while read < RECENCY_READ_BUDGET:
        batch, exhausted = storage.actors_by_recency(
            query.table_name, query.org_id, position, min(100, RECENCY_READ_BUDGET - read)
        )
        for item in batch:
            read += 1
            position = str(item["recency"])
            if matches(item.get("terms", []), query.normal):
                hits.append(item)
                if len(hits) > query.limit:
                    page = hits[: query.limit]
                    return page, str(page[-1]["recency"])
        if exhausted or not batch:
            return hits, None
    return hits, position


def _page(query: ActorQuery, items: list[dict[str, Any]], resume_after: str | None) -> ActorsPage:
    next_cursor = (
        encode_cursor(query.cursor_secret, query.org_id, query.digest(), resume_after) if resume_after else None
    )
    return ActorsPage(actors=[actor_seen(item) for item in items], next_cursor=next_cursor)


def list_event_types(table_name: str, org_id: str) -> EventTypesPage:
    items = storage.event_types(table_name, org_id, MAX_EVENT_TYPES)
    return EventTypesPage(
        event_types=[EventTypeSeen(event_type=item["event_type"], last_seen_at=item["last_seen"]) for item in items]
    )
