"""Counting and ranking, as plain functions."""

from collections import Counter

from recommendations.pairs import co_purchase_pairs, rank
from recommendations.service import product_ids_of


def counts_after(*orders: list[str]) -> Counter[tuple[str, str]]:
    """What pair_counts holds after these orders: one count per pair per order."""
    counts: Counter[tuple[str, str]] = Counter()
    for order in orders:
        counts.update(co_purchase_pairs(order))
    return counts


def partners_of(counts: Counter[tuple[str, str]], product: str) -> list[tuple[str, int]]:
    return [(b, n) for (a, b), n in counts.items() if a == product]


def test_counts_every_pair_of_an_order_in_both_directions():
    assert co_purchase_pairs(["b", "a", "c"]) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "a"),
        ("b", "c"),
        ("c", "a"),
        ("c", "b"),
    ]


def test_a_product_listed_twice_in_one_order_counts_once_and_never_pairs_with_itself():
    assert co_purchase_pairs(["a", "b", "a"]) == [("a", "b"), ("b", "a")]


def test_an_order_of_one_product_has_no_pairs():
    assert co_purchase_pairs(["a"]) == []
    assert co_purchase_pairs([]) == []


def test_ranks_the_most_often_bought_together_first():
    counts = counts_after(["a", "b"], ["a", "c"], ["a", "c", "d"], ["b", "c"])
    assert rank(partners_of(counts, "a"), 5) == ["c", "b", "d"]
    assert rank(partners_of(counts, "c"), 5) == ["a", "b", "d"]


def test_breaks_ties_by_id_and_stops_at_the_limit():
    counts = counts_after(["a", "z"], ["a", "m"], ["a", "b"], ["a", "m"])
    assert rank(partners_of(counts, "a"), 2) == ["m", "b"]
    assert rank(partners_of(counts, "a"), 10) == ["m", "b", "z"]


def test_a_product_never_bought_with_another_has_no_recommendations():
    assert rank(partners_of(counts_after(["a", "b"]), "x"), 5) == []


def test_reads_the_product_ids_of_an_order_confirmed_payload():
    payload = {"eventId": "e", "orderId": "o1", "productIds": ["a", "b"]}
    assert product_ids_of(payload) == ["a", "b"]
    assert product_ids_of({"orderId": "o1"}) is None
    assert product_ids_of({"orderId": "o1", "productIds": "a"}) is None
    assert product_ids_of({"orderId": "o1", "productIds": ["a", 3]}) is None
    assert product_ids_of({"productIds": ["a"]}) is None
