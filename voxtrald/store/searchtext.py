"""Text as the search index sees it, and a user's query turned into safe FTS5 syntax.

SQLite's unicode61 tokenizer (with `remove_diacritics 2`, so "reunion" finds
"réunion") splits words at spaces and punctuation, which Chinese and Japanese
do not write between words. Each CJK character is therefore indexed as a word
of its own, and a CJK word in a query becomes a phrase of its characters: "会議"
finds "会議" wherever it stands, inside a longer run or not.

A query is never handed to FTS5 as written: FTS5 syntax (NEAR, column filters,
unbalanced quotes, a bare `*`) would turn a typo into an error or a different
question. Only words, "quoted phrases" and a trailing `*` for a prefix keep
their meaning; every term reaches FTS5 quoted.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32

# Scripts written without spaces between words: Han, kana (full and half width), and the
# CJK compatibility ideographs.
_CJK = re.compile(
    "([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002ffff])"
)
# What unicode61 keeps as a token: letters and digits ("_" and punctuation separate).
_TOKEN = re.compile(r"[^\W_]+")
_PART = re.compile(r'"([^"]*)"|(\S+)')


class QueryError(ValueError):
    """A query that cannot be searched for; the message says why, in the user's words."""


def index_terms(text: str) -> str:
    """The text the index tokenizes: NFKC-normalised, each CJK character standing alone."""
    return _CJK.sub(r" \1 ", unicodedata.normalize("NFKC", text))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(index_terms(text))


def _quoted(tokens: list[str]) -> str:
    return '"' + " ".join(tokens) + '"'  # tokens hold no quote: they are letters and digits


def fts_query(query: str) -> str:
    """FTS5 MATCH text for `query`: all of its words and phrases, each quoted.

    `budget review` finds segments holding both words; `"budget review"` the
    phrase; `budg*` words starting with "budg". Raises QueryError when nothing
    searchable is left or the query is too long to be a question.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; at most "
                         f"{MAX_QUERY_CHARS} are searched")
    parts: list[str] = []
    for match in _PART.finditer(query):
        phrase, word = match.group(1), match.group(2)
        text = phrase if phrase is not None else word
        prefix = word is not None and word.endswith("*")
        tokens = _tokens(text)
        if not tokens:
            continue
        # A prefix only makes sense on a word written in letters, not on a lone CJK glyph.
        prefix = prefix and not _CJK.fullmatch(tokens[-1])
        parts.append(_quoted(tokens) + (" *" if prefix else ""))
    if not parts:
        raise QueryError("the query has no words to search for (only punctuation or "
                         "search syntax)")
    if len(parts) > MAX_TERMS:
        raise QueryError(f"the query has {len(parts)} words or phrases; at most {MAX_TERMS}")
    return " ".join(parts)


def folded(text: str) -> str:
    """Lower case without diacritics ("Réunion" -> "reunion"), as both sides of a search
    on the team queue see words (PostgreSQL's `simple` configuration keeps accents)."""
    decomposed = unicodedata.normalize("NFKD", index_terms(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ts_query(query: str) -> str:
    """PostgreSQL tsquery text for `query`, with the same meaning as `fts_query`'s.

    Words are ANDed, a "quoted phrase" keeps its words in order, `budg*` is a
    prefix; every word is quoted, so nothing in a query is taken as syntax.
    """
    fts_query(query)  # the same checks and the same errors
    parts: list[str] = []
    for match in _PART.finditer(query):
        phrase, word = match.group(1), match.group(2)
        text = phrase if phrase is not None else word
        tokens = _TOKEN.findall(folded(text))
        if not tokens:
            continue
        prefix = word is not None and word.endswith("*") and not _CJK.fullmatch(tokens[-1])
        quoted = [f"'{t}'" for t in tokens]  # letters and digits only: nothing to escape
        if prefix:
            quoted[-1] += ":*"
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")")
    return " & ".join(parts)
