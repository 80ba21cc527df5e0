"""The transcript search index: accents, phrases, prefixes, CJK, hostile queries, in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxtrald.store.jobs import JobStore
from voxtrald.store.search import Line, lines_of_json
from voxtrald.store.searchtext import MAX_QUERY_CHARS, QueryError, fts_query

DOCS = {
    "fr.mp3": ["La réunion budgétaire commence à neuf heures.", "Merci à tous."],
    "en.mp3": ["Welcome to the budget review.", "The review of the budget ends at noon."],
    "de.mp3": ["Die Genehmigung wird hiermit kostenlos erteilt."],
    "ja.mp3": ["明日の会議で予算を決めます。"],
    "zh.mp3": ["我们明天开会讨论预算。"],
}


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return filled(JobStore(tmp_path / "jobs.sqlite3"))


def filled(store: JobStore) -> JobStore:
    """`store` with DOCS transcribed and indexed (also used on the team queue's store)."""
    for n, (name, texts) in enumerate(DOCS.items()):
        job, _ = store.add(f"/in/{name}", name, "", f"sha{n}", 10, 1.0, 3)
        store.start(job.id)
        lines = [Line(10.0 * i, 10.0 * i + 5, t) for i, t in enumerate(texts)]
        store.finish(job.id, [f"/out/{name}.json"], 20.0, 1.0, "xx", lines=lines)
    return store


def files(store: JobStore, query: str) -> list[str]:
    return [h.file for h in store.search(query, 50)]


@pytest.mark.parametrize(("query", "expected"), [
    ("reunion budgetaire", ["fr.mp3"]),  # accents folded
    ("RÉUNION", ["fr.mp3"]),
    ("genehmigung", ["de.mp3"]),
    ('"budget review"', ["en.mp3"]),
    ('"review budget"', []),
    ("budg*", None),  # French budgétaire and English budget
    ("会議", ["ja.mp3"]),
    ("予算", ["ja.mp3"]),
    ("开会", ["zh.mp3"]),
    ("ゔゔ", []),
    ("Ωμέγα", []),  # a script nobody wrote: no hits, no error
])
def test_words_are_found_in_every_language(store: JobStore, query: str,
                                           expected: list[str] | None) -> None:
    got = files(store, query)
    if expected is None:
        assert set(got) == {"fr.mp3", "en.mp3"}
    else:
        assert sorted(set(got)) == expected


def test_a_hit_carries_its_times_and_sentence_best_first(store: JobStore) -> None:
    hits = store.search("budget", 10)
    assert {h.file for h in hits} == {"en.mp3"}
    assert {(h.start, h.end) for h in hits} == {(0.0, 5.0), (10.0, 15.0)}
    assert [h.place for h in hits] == [1, 2] and all(h.ranked for h in hits)
    assert "budget" in hits[0].text


@pytest.mark.parametrize("query", ["***", '"" ( ) : ^ - + * "', "x" * (MAX_QUERY_CHARS + 1),
                                   " ".join(["w"] * 40)])
def test_a_query_that_is_no_question_is_refused_with_why(query: str) -> None:
    with pytest.raises(QueryError):
        fts_query(query)


def test_syntax_inside_a_query_is_taken_as_words(store: JobStore) -> None:
    assert files(store, 'budget AND NOT "') == []  # all words must be there: no "not" here
    assert files(store, "budget) (review") == ["en.mp3", "en.mp3"]


def test_retry_and_a_new_transcript_keep_the_index_in_step(store: JobStore) -> None:
    job = next(j for j in store.list() if j.file == "de.mp3")
    store.index_job(job.id, [Line(1.0, 2.0, "Ganz neue Worte")])
    assert files(store, "genehmigung") == [] and files(store, "worte") == ["de.mp3"]
    store.unindex_job(job.id)
    assert files(store, "worte") == []
    assert store.indexed_jobs() == len(DOCS) - 1


def test_rebuild_makes_the_index_from_the_documents_given(store: JobStore) -> None:
    job = next(j for j in store.list() if j.file == "zh.mp3")
    doc = {"segments": [{"start": 1.5, "end": 3.0, "text": " 会议很长 "},
                        {"start": 3.0, "end": 4.0, "text": "gone", "removed": True},
                        {"start": "x", "end": 1, "text": "bad"}]}
    count = store.rebuild_index([(job.id, lines_of_json(doc))])
    assert count == 1 and store.indexed_jobs() == 1
    assert files(store, "会议") == ["zh.mp3"] and files(store, "budget") == []


def test_words_too_common_to_rank_come_newest_first(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from voxtrald.store import search as search_mod

    monkeypatch.setattr(search_mod, "RANK_AT_MOST", 2)
    store = JobStore(tmp_path / "jobs.sqlite3")
    for n in range(4):
        job, _ = store.add(f"/in/{n}.wav", f"{n}.wav", "", f"s{n}", 1, 1.0, 3)
        store.start(job.id)
        store.finish(job.id, [], 1.0, 1.0, "en", lines=[Line(0.0, 1.0, "the meeting")])
    hits = store.search("the meeting", 3)
    assert [h.file for h in hits] == ["3.wav", "2.wav", "1.wav"]
    assert not any(h.ranked for h in hits)
    assert all(h.ranked for h in store.search("nothing else", 3)) is True
