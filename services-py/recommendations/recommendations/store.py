"""The service's own PostgreSQL database: pair counts, and the orders already counted.

One transaction per order: the order id goes into processed_orders (its primary key) and the
pair counts move only if that insert added a row, so a redelivered order.confirmed counts once.
A concurrent redelivery waits on the primary key until the first commits, then adds nothing.
"""

from __future__ import annotations

import psycopg

from .pairs import co_purchase_pairs

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_orders (
  order_id   text PRIMARY KEY,
  counted_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS pair_counts (
  product_id text NOT NULL,
  other_id   text NOT NULL,
  count      bigint NOT NULL,
  PRIMARY KEY (product_id, other_id)
);
"""


class PairStore:
    """A connection per operation: a restarted database needs no reconnect logic here."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def migrate(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.dsn) as conn:
            await conn.execute(SCHEMA)

    async def record_order(self, order_id: str, product_ids: list[str]) -> bool:
        """Counts one order's pairs; False when the order was counted before."""
        async with await psycopg.AsyncConnection.connect(self.dsn) as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO processed_orders (order_id) VALUES (%s) ON CONFLICT DO NOTHING",
                (order_id,),
            )
            if cur.rowcount == 0:
                return False
            async with conn.cursor() as pairs:
                await pairs.executemany(
                    "INSERT INTO pair_counts (product_id, other_id, count) VALUES (%s, %s, 1) "
                    "ON CONFLICT (product_id, other_id) "
                    "DO UPDATE SET count = pair_counts.count + 1",
                    co_purchase_pairs(product_ids),
                )
            return True

    async def partners(self, product_id: str) -> list[tuple[str, int]]:
        async with await psycopg.AsyncConnection.connect(self.dsn) as conn:
            cur = await conn.execute(
                "SELECT other_id, count FROM pair_counts WHERE product_id = %s", (product_id,)
            )
            return [(row[0], int(row[1])) for row in await cur.fetchall()]

    async def ping(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.dsn, connect_timeout=2) as conn:
            await conn.execute("SELECT 1")
