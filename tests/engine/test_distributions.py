"""Each distribution samples what it says (KS / chi-square), validates its arguments and round-trips."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synth.recipe import distributions as D

N = 4000
ALPHA = 1e-3


def draws(dist: D.Distribution, n: int = N, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([dist.sample(rng) for _ in range(n)])


@pytest.mark.parametrize("spec, cdf", [
    ({"uniform": [2, 5]}, stats.uniform(2, 3).cdf),
    ({"loguniform": [1, 100]}, stats.loguniform(1, 100).cdf),
    ({"normal": {"mean": 3, "std": 2}}, stats.norm(3, 2).cdf),
    ({"truncnormal": {"mean": 0, "std": 1, "low": -0.5, "high": 2}}, stats.truncnorm(-0.5, 2).cdf),
    ({"triangular": [0, 1, 4]}, stats.triang(0.25, 0, 4).cdf),
])
def test_continuous_distributions_pass_ks(spec, cdf):
    x = draws(D.parse(spec))
    assert stats.kstest(x, cdf).pvalue > ALPHA


def test_ks_rejects_a_wrong_distribution():
    x = draws(D.parse({"uniform": [0, 1]}))
    assert stats.kstest(x, stats.norm(0.5, 0.3).cdf).pvalue < ALPHA


@pytest.mark.parametrize("spec, probs", [
    ({"randint": [1, 4]}, {1: .25, 2: .25, 3: .25, 4: .25}),
    ({"choice": {"values": ["a", "b", "c"], "weights": [1, 2, 7]}}, {"a": .1, "b": .2, "c": .7}),
    ({"choice": {"x": 0.3, "y": 0.7}}, {"x": .3, "y": .7}),
    ({"bernoulli": 0.3}, {False: .7, True: .3}),
])
def test_discrete_distributions_pass_chi_square(spec, probs):
    x = draws(D.parse(spec)).tolist()
    observed = [x.count(v) for v in probs]
    assert sum(observed) == N  # nothing outside the declared values
    expected = [p * N for p in probs.values()]
    assert stats.chisquare(observed, expected).pvalue > ALPHA


@pytest.mark.parametrize("spec", [
    {"uniform": [0, 1]}, {"loguniform": [0.1, 10]}, {"normal": [0, 2]}, {"truncnormal": [0, 1, -1, 1]},
    {"triangular": [0, 1, 2]}, {"randint": [0, 9]}, {"bernoulli": 0.5}, {"choice": ["a", "b"]},
    {"choice": {"values": [1, 2], "weights": [0.5, 0.5]}}, 42, "text",
])
def test_serialises_back_to_an_equal_distribution(spec):
    dist = D.parse(spec)
    again = D.parse(dist.to_yaml())
    assert again == dist
    assert draws(again, 50).tolist() == draws(dist, 50).tolist()


@pytest.mark.parametrize("spec, message", [
    ({"uniform": [1]}, "takes 2 arguments"),
    ({"uniform": [3, 1]}, "must not exceed"),
    ({"uniform": ["a", 1]}, "finite number"),
    ({"normal": {"mean": 0, "std": -1}}, "std must be >= 0"),
    ({"normal": {"mean": 0, "sd": 1}}, "did you mean 'std'"),
    ({"loguniform": [0, 1]}, "low must be > 0"),
    ({"truncnormal": [0, 1, 2, 1]}, "below high"),
    ({"triangular": [0, 5, 1]}, "low <= mode <= high"),
    ({"randint": [0.5, 2]}, "must be an integer"),
    ({"bernoulli": 1.5}, "p must be in [0, 1]"),
    ({"choice": []}, "non-empty"),
    ({"choice": {"values": [1, 2], "weights": [1]}}, "2 weights"),
    ({"choice": {"values": [1, 2], "weights": [-1, 2]}}, ">= 0"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(spec, message):
    with pytest.raises(D.DistributionError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        D.parse(spec)


def test_support_of_each_distribution():
    assert D.parse({"uniform": [1, 2]}).support() == (1, 2)
    assert D.parse({"randint": [3, 5]}).values() == [3, 4, 5]
    assert D.parse({"normal": [0, 1]}).support() == (-np.inf, np.inf)
    assert D.parse({"choice": [1, 5, 3]}).support() == (1, 5)


def test_cycle_balances_values_by_index(write_recipe):
    from synth import api
    from synth.recipe.plan import Plan
    recipe = api.validate(write_recipe("name: c\nscene: shapes\ncount: 12\n"
                                       "params: {num_objects: {cycle: [1, 2, 3]}}\n"))
    drawn = [Plan(recipe).params_for(i).recorded["num_objects"] for i in range(12)]
    assert drawn == [1, 2, 3] * 4
    assert D.parse({"cycle": [1, 2]}).to_yaml() == {"cycle": [1, 2]}
    with pytest.raises(D.DistributionError, match="non-empty list"):
        D.parse({"cycle": []})
