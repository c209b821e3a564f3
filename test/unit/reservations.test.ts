/**
 * Reservations across a crash at every write (services/products/reservations.ts): a call that
 * dies after its k-th write, for every k, followed by the calls a caller retries, takes and
 * gives back each line's stock exactly once and leaves no marker in the product documents.
 */
import { ServiceBroker, type Service } from "moleculer";
import { openStore, type Store } from "../../mixins/db.mixin";
import { Reservations } from "../../services/products/reservations";

class Crash extends Error {}

/** A view of `store` whose process dies after `budget.writes` more writes. */
function dying(store: Store, budget: { writes: number }): Store {
  const write =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (budget.writes <= 0) throw new Crash("dead");
      const result = await fn(...args);
      if (--budget.writes === 0) throw new Crash("died after the write");
      return result;
    };
  return {
    ...store,
    insert: write(store.insert.bind(store)),
    updateWhere: write(store.updateWhere.bind(store)),
    removeById: write(store.removeById.bind(store)),
  };
}

describe("reservations survive a crash at every write", () => {
  const broker = new ServiceBroker({ logger: false });
  const owner = { broker, logger: broker.getLogger("test") } as unknown as Service;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  async function fresh() {
    const suffix = Math.random().toString(36).slice(2);
    const p = await openStore(owner, `products_${suffix}`, []);
    const r = await openStore(owner, `reservations_${suffix}`, []);
    closers.push(p.close, r.close);
    const a = await p.store.insert({ stock: 10 });
    const b = await p.store.insert({ stock: 10 });
    const lines = [
      { productId: a._id, quantity: 2 },
      { productId: b._id, quantity: 3 },
    ];
    const stock = async () => [
      (await p.store.findById(a._id))?.stock,
      (await p.store.findById(b._id))?.stock,
    ];
    // The marker fields that still name an order.
    const markers = async () =>
      [await p.store.findById(a._id), await p.store.findById(b._id)].flatMap((d) =>
        ["taking", "giving"].filter((k) => Object.keys((d?.[k] as object) ?? {}).length > 0),
      );
    const at = (budget: { writes: number }) =>
      new Reservations(dying(p.store, budget), dying(r.store, budget), 0);
    return { lines, stock, markers, at, healthy: new Reservations(p.store, r.store, 0) };
  }

  /** How many writes a call makes when nothing fails. */
  async function writesOf(
    run: (s: Awaited<ReturnType<typeof fresh>>, budget: { writes: number }) => Promise<unknown>,
  ) {
    const s = await fresh();
    const budget = { writes: 1_000 };
    await run(s, budget);
    return 1_000 - budget.writes;
  }

  it("a reserve that dies after any write, retried, takes each line once; a release gives it back once", async () => {
    const total = await writesOf((s, budget) => s.at(budget).reserve("o1", s.lines));
    expect(total).toBeGreaterThan(3);
    for (let k = 1; k <= total; k++) {
      const s = await fresh();
      await expect(s.at({ writes: k }).reserve("o1", s.lines)).rejects.toBeInstanceOf(Crash);
      await s.healthy.reserve("o1", s.lines);
      expect({ k, stock: await s.stock(), markers: await s.markers() }).toEqual({
        k,
        stock: [8, 7],
        markers: [],
      });
      await s.healthy.release("o1");
      await s.healthy.release("o1");
      expect({ k, stock: await s.stock() }).toEqual({ k, stock: [10, 10] });
    }
  });

  it("a reserve that dies after any write and is released instead holds nothing", async () => {
    const total = await writesOf((s, budget) => s.at(budget).reserve("o1", s.lines));
    for (let k = 1; k <= total; k++) {
      const s = await fresh();
      await expect(s.at({ writes: k }).reserve("o1", s.lines)).rejects.toBeInstanceOf(Crash);
      await s.healthy.release("o1");
      expect({ k, stock: await s.stock(), markers: await s.markers() }).toEqual({
        k,
        stock: [10, 10],
        markers: [],
      });
      // A late retry of the reserve takes nothing any more.
      await expect(s.healthy.reserve("o1", s.lines)).rejects.toMatchObject({ type: "CONFLICT" });
      expect({ k, stock: await s.stock() }).toEqual({ k, stock: [10, 10] });
    }
  });

  it("a release that dies after any write, retried, gives each line back once", async () => {
    const total = await writesOf(async (s, budget) => {
      await s.healthy.reserve("o1", s.lines);
      await s.at(budget).release("o1");
    });
    expect(total).toBeGreaterThan(3);
    for (let k = 1; k <= total; k++) {
      const s = await fresh();
      await s.healthy.reserve("o1", s.lines);
      await expect(s.at({ writes: k }).release("o1")).rejects.toBeInstanceOf(Crash);
      await s.healthy.release("o1");
      await s.healthy.release("o1");
      expect({ k, stock: await s.stock(), markers: await s.markers() }).toEqual({
        k,
        stock: [10, 10],
        markers: [],
      });
    }
  });

  it("a late reserve between a release that died and its retry gives nothing back twice", async () => {
    const total = await writesOf(async (s, budget) => {
      await s.healthy.reserve("o1", s.lines);
      await s.at(budget).release("o1");
    });
    for (let k = 1; k <= total; k++) {
      const s = await fresh();
      await s.healthy.reserve("o1", s.lines);
      await expect(s.at({ writes: k }).release("o1")).rejects.toBeInstanceOf(Crash);
      // A retry of the reserve, delayed past the dead release's lease: refused once the release
      // recorded itself, a no-op before that.
      await s.healthy.reserve("o1", s.lines).catch((err: { type?: string }) => {
        if (err.type !== "CONFLICT") throw err;
      });
      await s.healthy.release("o1");
      expect({ k, stock: await s.stock(), markers: await s.markers() }).toEqual({
        k,
        stock: [10, 10],
        markers: [],
      });
    }
  });
});
