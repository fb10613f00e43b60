from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.tiers import tiers_unlocked
from models.settings import DEFAULT_TIERS, BonusSettings, Tier
from tests.oracles import bonus_outcome, tier_reached

D = Decimal  # short for the many literals below

SIGNUPS = BonusSettings()
PERCENT = BonusSettings(
    basis="percent",
    tiers=tuple(
        Tier(name=name, threshold=D(threshold), amount=D(amount))
        for name, threshold, amount in [
            ("None", 0, 0), ("Half", 50, 50), ("Most", 75, 100), ("Goal", 100, 300),
            ("Beyond", 110, 400), ("Star", 125, 600), ("Legend", 150, 1000),
        ]
    ),
)


@pytest.mark.parametrize(
    ("signups", "tier"),
    [
        (D(0), 0), (D("5.9"), 0), (D(6), 1), (D("6.5"), 1), (D("10.9"), 1), (D(11), 2),
        (D("14.5"), 2), (D(15), 3), (D("19.9"), 3), (D(20), 4), (D("24.5"), 4), (D(25), 5),
        (D("29.9"), 5), (D(30), 6), (D(400), 6), (None, 0),
    ],
)
def test_default_tiers(signups, tier):
    assert tier_reached(signups, DEFAULT_TIERS) == tier


def test_bonus_amount_is_the_tier_amount_not_cumulative():
    outcome = bonus_outcome(D(15), D("75.00"), None, SIGNUPS)
    assert (outcome.tier, outcome.tier_name, outcome.amount) == (3, "Gold", D(500))
    outcome = bonus_outcome(D("14.5"), None, None, SIGNUPS)
    assert (outcome.tier, outcome.tier_name, outcome.amount) == (2, "Silver", D(250))
    assert bonus_outcome(D("5.9"), None, None, SIGNUPS).amount == D(0)


@pytest.mark.parametrize(
    ("signups", "tier_goal", "triggered"),
    [
        (D(15), None, True),
        (D(15), 0, True),
        (D(15), 3, True),  # exactly the goal tier
        (D(15), 4, False),
        (D("5.9"), None, False),  # tier 0 never triggers
        (D("5.9"), 0, False),
        (D(6), 1, True),
        (D(30), 6, True),
    ],
)
def test_triggered_against_tier_goal(signups, tier_goal, triggered):
    assert bonus_outcome(signups, None, tier_goal, SIGNUPS).triggered is triggered


@pytest.mark.parametrize(
    ("pct", "tier", "name"),
    [(None, 0, "None"), (D("49.99"), 0, "None"), (D("50.00"), 1, "Half"), (D("99.99"), 2, "Most"),
     (D("100.00"), 3, "Goal"), (D("149.99"), 5, "Star"), (D("150"), 6, "Legend")],
)

def test_percent_basis_uses_signup_percent(pct, tier, name):
    # 40 signups would be Elite on the signups basis; the percent basis ignores them.
    outcome = bonus_outcome(D(40), pct, None, PERCENT)
    assert (outcome.tier, outcome.tier_name) == (tier, name)


def test_tiers_unlocked():
    assert list(tiers_unlocked(0)) == []
    assert list(tiers_unlocked(3)) == [1, 2, 3]
    assert list(tiers_unlocked(6)) == [1, 2, 3, 4, 5, 6]


values = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)


@given(a=values, b=values)
def test_tier_is_monotone_in_value(a, b):
    low, high = sorted((a, b))
    assert tier_reached(low, DEFAULT_TIERS) <= tier_reached(high, DEFAULT_TIERS)


@given(value=values)
def test_tier_covers_threshold_to_next(value):
    tier = tier_reached(value, DEFAULT_TIERS)
    assert DEFAULT_TIERS[tier].threshold <= value
    if tier < 6:
        assert value < DEFAULT_TIERS[tier + 1].threshold


# --- the product's rule for stored months (models.rules.tiers.bonus_outcome) ---------


def test_a_stored_months_bonus_reaches_a_threshold_exactly():
    from models.rules.tiers import BonusResult
    from models.rules.tiers import bonus_outcome as product_outcome

    assert product_outcome(D("10.9"), None, SIGNUPS) == BonusResult(1, D(100), True)
    assert product_outcome(D("11"), 3, SIGNUPS) == BonusResult(2, D(250), False)  # below the Bonus Tier Goal
    assert product_outcome(None, None, PERCENT) == BonusResult(0, D(0), False)  # no percent counts as 0
    assert product_outcome(D("150"), 6, PERCENT) == BonusResult(6, D(1000), True)


@given(st.one_of(st.none(), st.decimals(min_value=0, max_value=400, places=2)),
       st.one_of(st.none(), st.integers(min_value=0, max_value=6)), st.sampled_from([SIGNUPS, PERCENT]))
def test_a_stored_months_bonus_equals_the_plain_rule(value: Decimal | None, tier_goal: int | None,
                                                    bonus: BonusSettings) -> None:
    from models.rules.tiers import bonus_outcome as product_outcome

    oracle = bonus_outcome(value, value, tier_goal, bonus)
    assert tuple(product_outcome(value, tier_goal, bonus)) == (oracle.tier, oracle.amount, oracle.triggered)
