"""The progress benchmark's figures, from hand-made polls with known answers."""

from __future__ import annotations

from benchmarks.bench_progress import Sample, changes, eta_at, figures, still_stretches, verdicts


def polls(*rows: tuple[float, float | None, float | None]) -> list[Sample]:
    return [Sample(t, p, e) for t, p, e in rows]


def test_the_longest_stillness_counts_the_start_and_the_end() -> None:
    trace = polls((0.0, 0.0, None), (0.5, 0.0, None), (6.0, 10.0, 50.0), (7.0, 10.0, 49.0),
                  (8.0, 20.0, 40.0))
    assert still_stretches(trace, end=20.0) == [6.0, 2.0, 12.0]
    assert changes(trace) == 2


def test_the_eta_at_a_mark_is_judged_against_the_time_really_left() -> None:
    trace = polls((0.0, 0.0, None), (10.0, 24.0, 30.0), (12.0, 26.0, 40.0), (30.0, 55.0, 25.0))
    at25 = eta_at(trace, 25.0, end=52.0)
    assert at25 == {"mark": 25.0, "percent": 26.0, "at": 12.0, "eta_shown": 40.0,
                    "real_left": 40.0, "error_percent": 0.0}
    at50 = eta_at(trace, 50.0, end=52.0)
    assert at50 is not None and at50["error_percent"] == 13.6  # 25 s shown, 22 s left
    assert eta_at(trace, 75.0, end=52.0) is None


def test_the_verdicts_name_a_missed_target() -> None:
    trace = polls((0.0, 0.0, None), (2.0, 25.0, 10.0), (9.0, 50.0, 5.0))
    fig = figures(trace, end=12.0)
    assert fig["longest_still_seconds"] == 7.0 and fig["stills_over_target"] == 1
    assert verdicts(fig) == [("progress moves at least every 5 s", False),
                             ("ETA at 25 % within 25 %", True)]
