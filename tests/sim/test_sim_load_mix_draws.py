"""The load runner draws each command of a weighted mix from running weight totals built
once, and draws exactly what `random.choices` with the weights would."""
from __future__ import annotations

import random

from twisted.internet import task

from sim.load import LoadRunner
from sim.load_mix import parse_mix
from sim.testing import make_smsc

MIX = "ORDER X100 1=1;STOCK X100=3;STOCK X200=0.5"


class _SpyRandom(random.Random):
    """Records the keyword arguments of every `choices` call."""

    def __init__(self, seed):
        super().__init__(seed)
        self.calls = []

    def choices(self, population, weights=None, *, cum_weights=None, k=1):
        self.calls.append({"weights": weights, "cum_weights": cum_weights})
        return super().choices(population, weights, cum_weights=cum_weights, k=k)


def _runner(seed=11):
    clock = task.Clock()
    return LoadRunner(make_smsc(clock), clock, count=1, phones=2, seed=seed, commands=parse_mix(MIX))


def test_the_draws_are_those_of_choices_with_the_weights():
    runner = _runner()
    texts = [text for text, _ in runner.commands]
    weights = [w for _, w in runner.commands]
    reference = random.Random(11)

    drawn = [runner._next_text() for _ in range(500)]

    assert drawn == [reference.choices(texts, weights=weights)[0] for _ in range(500)]
    assert set(drawn) == set(texts)


def test_the_running_totals_are_summed_once_not_per_draw():
    runner = _runner()
    runner.rng = spy = _SpyRandom(11)

    for _ in range(50):
        runner._next_text()

    assert all(c["weights"] is None for c in spy.calls)
    assert len({id(c["cum_weights"]) for c in spy.calls}) == 1
    assert spy.calls[0]["cum_weights"] == [1.0, 4.0, 4.5]
