"""recommendations: listens to order.confirmed (balanced, its own group: one instance of this
service counts each order) and answers recommendations.forProduct."""

from __future__ import annotations

from typing import Any

from moleculerpy import Service
from moleculerpy.decorators import action, event
from prometheus_client import Counter, Histogram

from .pairs import rank
from .store import PairStore

ORDERS = Counter(
    "recommendations_orders_total",
    "order.confirmed events handled, by outcome (counted, duplicate, skipped)",
    ["outcome"],
)
LOOKUPS = Histogram(
    "recommendations_for_product_seconds", "recommendations.forProduct duration in seconds"
)

MAX_LIMIT = 50


def product_ids_of(payload: dict[str, Any]) -> list[str] | None:
    """The product ids of an order.confirmed payload (lib/events.ts), or None if malformed."""
    ids = payload.get("productIds")
    if not isinstance(payload.get("orderId"), str) or not isinstance(ids, list):
        return None
    if not all(isinstance(i, str) and i for i in ids):
        return None
    return ids


class RecommendationsService(Service):
    name = "recommendations"

    def __init__(self, store: PairStore) -> None:
        super().__init__(self.name)
        self.store = store

    @event("order.confirmed")
    async def order_confirmed(self, ctx: Any) -> None:
        ids = product_ids_of(ctx.params)
        if ids is None:
            # An order.confirmed without productIds (an orders node older than this service).
            ORDERS.labels("skipped").inc()
            self.logger.warning(f"order.confirmed without productIds: {ctx.params.get('orderId')}")
            return
        counted = await self.store.record_order(ctx.params["orderId"], ids)
        ORDERS.labels("counted" if counted else "duplicate").inc()

    @action(
        name="forProduct",
        params={
            "productId": {"type": "string", "min": 1, "max": 64},
            "limit": {"type": "number", "min": 1, "max": MAX_LIMIT, "optional": True},
        },
    )
    async def for_product(self, ctx: Any) -> list[str]:
        with LOOKUPS.time():
            limit = int(ctx.params.get("limit") or 5)
            return rank(await self.store.partners(ctx.params["productId"]), limit)
