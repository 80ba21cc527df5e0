"""The SQL spellings of job states come from JobState, and the store's queries use them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voxtrald.states import JobState
from voxtrald.store import sql_states

STORE = Path(sql_states.__file__).resolve().parent


def test_each_state_is_its_own_quoted_value() -> None:
    assert sql_states.QUEUED == "'queued'" and sql_states.DUPLICATE == "'duplicate'"
    assert sql_states.PENDING == "('queued','running')"
    assert sql_states.WITH_TRANSCRIPTS == "('done','duplicate')"


def test_a_state_that_could_break_out_of_its_quotes_is_refused() -> None:
    with pytest.raises(ValueError, match="plain name"):
        sql_states.literal("x' OR 1=1 --")  # type: ignore[arg-type]


def test_no_query_in_the_store_spells_a_state_by_hand() -> None:
    spelled = re.compile("'(" + "|".join(s.value for s in JobState) + ")'")
    found = [f"{p.name}:{n}" for p in STORE.glob("*.py") if p.name != "sql_states.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if spelled.search(line)]
    assert not found, f"state literals in SQL (use sql_states): {found}"
