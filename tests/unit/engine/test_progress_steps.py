"""A chunk's steps told as places in its audio: shared by cost, always forward."""

from __future__ import annotations

import pytest

from voxtrald.engine.progress import FINISH_SHARE, ChunkSteps, StepCosts, forward_only


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def steps_of(costs: StepCosts) -> tuple[ChunkSteps, list[tuple[float, float]], Clock]:
    told: list[tuple[float, float]] = []
    clock = Clock()
    steps = ChunkSteps(forward_only(lambda at, until: told.append((at, until)), 100.0),
                       100.0, 200.0, costs, clock)
    return steps, told, clock


def test_the_first_pass_does_not_claim_the_chunk_while_windows_wait_to_be_decoded_again(
) -> None:
    costs = StepCosts(first_pass=2.0, again=3.0, cover=1.0, doubted=0.5, uncovered=0.0)
    steps, told, clock = steps_of(costs)
    work_end = 100.0 + 100.0 * (1 - FINISH_SHARE)
    steps.first_pass(4)  # 8 s of first pass, 6 s expected again: 8/14 of the windows' span
    assert told[-1] == (100.0, pytest.approx(100.0 + 98.0 * 8 / 14))
    clock.now = 8.0
    steps.decode_again(2)  # as expected: two windows again, 3 s each
    at, until = told[-1]
    assert at == pytest.approx(100.0 + 98.0 * 8 / 14) and until == pytest.approx(at + (
        work_end - at) / 2)
    steps.within(0.5)  # half the window's segments written
    assert told[-1][0] == pytest.approx(at + (until - at) / 2)
    clock.now = 11.0
    steps.decoded_again()
    clock.now = 14.0
    steps.decoded_again()
    steps.cover(0)
    steps.finish()
    assert told[-1] == (pytest.approx(work_end), 200.0)
    positions = [p for p, _ in told]
    assert positions == sorted(positions) and all(u >= p for p, u in told)


def test_what_a_chunk_cost_is_learnt_for_the_next() -> None:
    costs = StepCosts()
    steps, _told, clock = steps_of(costs)
    steps.first_pass(4)
    clock.now = 12.0  # 3 s a window
    steps.decode_again(4)  # every window doubted
    for t in (17.0, 22.0, 27.0, 32.0):  # 5 s each
        clock.now = t
        steps.decoded_again()
    assert costs.first_pass > StepCosts().first_pass and costs.again > StepCosts().again
    assert costs.doubted > StepCosts().doubted


def test_more_work_than_expected_is_shared_out_of_what_is_left_never_going_back() -> None:
    costs = StepCosts(first_pass=1.0, again=1.0, cover=1.0, doubted=0.0, uncovered=0.0)
    steps, told, clock = steps_of(costs)
    steps.first_pass(2)  # nothing expected after it: it may claim all the windows' span
    assert told[-1][1] == pytest.approx(98.0 + 100.0)
    clock.now = 2.0
    steps.decode_again(0)
    steps.cover(3)  # yet three stretches are left uncovered: they share what is left
    at, until = told[-1]
    assert until >= at and at == pytest.approx(198.0)
    for t in (3.0, 4.0, 5.0):
        clock.now = t
        steps.covered_one(True)
    steps.finish()
    assert told[-1] == (pytest.approx(198.0), 200.0)
    positions = [p for p, _ in told]
    assert positions == sorted(positions)
