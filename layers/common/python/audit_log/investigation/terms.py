"""How `GET /actors?q=` matches: case-insensitive prefixes of any word of the name, of
the email, or of the id.

A name is indexed by its suffixes that begin at a word, so "jo" and "katherine jo" both
find "Katherine Johnson": a query matches an actor when it is the start of one of the
actor's terms. Terms and queries are normalised the same way (NFKC, case-folded,
whitespace runs as one space), so "KATHERINE  johnson" is the same query.
"""

import re
import unicodedata

# A term is stored in a sort key (at most 1,024 bytes): its first 100 characters are the
# key, the whole term is checked when matching.
TERM_KEY_CHARS = 100
# Word starts of a name that are indexed: a name of many words is found by its first ones.
MAX_NAME_WORDS = 8
MAX_QUERY_CHARS = 256

_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The form terms and queries are compared in."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", "".join(c if c.isprintable() else " " for c in folded)).strip()


def actor_terms(actor_id: str, name: str | None, email: str | None) -> list[str]:
    """Every term of an actor, in a stable order, without repeats."""
    terms: list[str] = []
    if name:
        normal = normalise(name)
        terms += [normal[word.start() :] for word in list(_WORD.finditer(normal))[:MAX_NAME_WORDS]]
    terms += [normalise(value) for value in (email, actor_id) if value]
    return list(dict.fromkeys(term for term in terms if term))


def term_key(term: str) -> str:
    return term[:TERM_KEY_CHARS]


def matches(terms: list[str], query: str) -> bool:
    """Whether a normalised query is the start of one of the terms."""
    return any(term.startswith(query) for term in terms)
