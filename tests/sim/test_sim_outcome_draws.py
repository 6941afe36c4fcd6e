"""draw_outcome with one receipt state skips choices() but not its draw: a seeded
simulator's later draws (failures, the load mix) stay what they were."""
from __future__ import annotations

import random

import pytest

from sim.outcomes import draw_outcome


def by_choices(rng, outcomes):
    states = list(outcomes)
    return rng.choices(states, weights=[outcomes[s] for s in states])[0]


@pytest.mark.parametrize("outcomes", [{"DELIVRD": 1.0}, {"UNDELIV": 0.25}, {"DELIVRD": 3}])
def test_one_state_draws_as_choices_does(outcomes):
    ours, theirs = random.Random(7), random.Random(7)
    for _ in range(50):
        assert draw_outcome(ours, outcomes) == by_choices(theirs, outcomes)
    assert ours.getstate() == theirs.getstate()


@pytest.mark.parametrize("outcomes", [{"DELIVRD": 0}, {"DELIVRD": float("inf")}])
def test_a_weight_choices_refuses_is_still_refused(outcomes):
    with pytest.raises(ValueError):
        draw_outcome(random.Random(1), outcomes)


def test_several_states_keep_their_sequence():
    outcomes = {"DELIVRD": 0.9, "UNDELIV": 0.1}
    ours, theirs = random.Random(3), random.Random(3)
    assert [draw_outcome(ours, outcomes) for _ in range(200)] == \
        [by_choices(theirs, outcomes) for _ in range(200)]
