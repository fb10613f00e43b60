from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from models.rules.ranking import competition_ranks

D = Decimal  # short for the many literals below


def test_standard_competition_ranking():
    keys = [(D("50"), D("10")), (D("40"), D("0")), (D("40"), D("0")), (D("30"), None)]
    assert competition_ranks(keys) == [1, 2, 2, 4]


def test_ranks_follow_input_order():
    keys = [(D("30"), None), (D("40"), D("0")), (D("50"), D("10")), (D("40"), D("0"))]
    assert competition_ranks(keys) == [4, 2, 1, 2]


def test_revenue_breaks_signup_ties_and_none_sorts_last():
    keys = [(D(80), D(10)), (D(80), D(20)), (D(80), None), (D(80), D(0)), (None, D(500)), (None, None)]
    assert competition_ranks(keys) == [2, 1, 4, 3, 5, 6]


def test_equal_numbers_in_different_types_tie():
    assert competition_ranks([(D("50.0"), 1), (50, D("1.00")), (D("49.99"), 9)]) == [1, 1, 3]


def test_everyone_tied_and_empty():
    assert competition_ranks([(None, None)] * 3) == [1, 1, 1]
    assert competition_ranks([]) == []


keys = st.lists(
    st.tuples(st.none() | st.integers(0, 5).map(D), st.none() | st.integers(0, 3).map(D)), max_size=12
)



def _better(a, b):
    def norm(key):
        return tuple((v is None, -(v or 0)) for v in key)
    return norm(a) < norm(b)


@given(keys)
def test_equal_keys_iff_equal_ranks(rows):
    ranks = competition_ranks(rows)
    for i, a in enumerate(rows):
        # rank = 1 + how many are strictly better: ties visible, gaps after them
        assert ranks[i] == 1 + sum(_better(b, a) for b in rows)
        for j, b in enumerate(rows):
            assert (a == b) == (ranks[i] == ranks[j])
