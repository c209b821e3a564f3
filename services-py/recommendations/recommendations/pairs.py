"""Bought together: the counting and the ranking, plain functions (no database, no mesh)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import permutations


def co_purchase_pairs(product_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Every ordered pair of distinct products of one order, each once, in a stable order.

    Both directions are counted (a with b, b with a) so a product's partners are one index read.
    Sorted so two transactions touching the same pairs lock their rows in the same order and
    never deadlock each other.
    """
    distinct = sorted(set(product_ids))
    return sorted(permutations(distinct, 2))


def rank(partners: Iterable[tuple[str, int]], limit: int) -> list[str]:
    """Partner ids by times bought together, most first; ties by id so the answer is stable."""
    ordered = sorted(partners, key=lambda p: (-p[1], p[0]))
    return [product_id for product_id, _count in ordered[:limit]]
