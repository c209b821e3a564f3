/**
 * lib/outbox.ts `deliver` on a real (NeDB) store: the usual case — one pending entry — costs
 * one write that removes it and clears `outboxDue`; an entry pushed meanwhile keeps the
 * document due; an emit that fails leaves its entry for the periodic pass.
 */
import { ServiceBroker, type Service } from "moleculer";
import { openStore, type Store } from "../../mixins/db.mixin";
import { deliver, pendingEvent, type OutboxEntry } from "../../lib/outbox";

describe("outbox delivery", () => {
  const broker = new ServiceBroker({ logger: false });
  const owner = { broker, logger: broker.getLogger("test") } as unknown as Service;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  /** A store, a document owing `events`, and a count of the writes made through `counted`. */
  async function owing(events: string[]) {
    const opened = await openStore(owner, `outbox_${Math.random().toString(36).slice(2)}`, []);
    closers.push(opened.close);
    const store: Store = opened.store;
    const now = Date.now();
    const pending = events.map((e) => pendingEvent(e, now));
    const doc = await store.insert({
      outbox: pending.map((p) => p.entry),
      outboxDue: pending[0]?.set.outboxDue ?? null,
    });
    let writes = 0;
    const counted: Pick<Store, "updateWhere"> = {
      updateWhere: (q, u) => (writes++, store.updateWhere(q, u)),
    };
    return { store, doc, entries: pending.map((p) => p.entry), counted, writes: () => writes };
  }

  it("removes the only pending entry and clears outboxDue in one write", async () => {
    const t = await owing(["order.confirmed"]);
    const emitted: string[] = [];
    await deliver(t.counted, t.doc._id, t.entries, async (e) => void emitted.push(e.event));
    expect(emitted).toEqual(["order.confirmed"]);
    expect(t.writes()).toBe(1);
    expect(await t.store.findById(t.doc._id)).toMatchObject({ outbox: [], outboxDue: null });
  });

  it("keeps an entry it was not given, and the document due for it", async () => {
    const t = await owing(["order.created", "order.confirmed"]);
    const [first, second] = t.entries;
    await deliver(t.counted, t.doc._id, [first], async () => undefined);
    const after = await t.store.findById(t.doc._id);
    expect((after?.outbox as OutboxEntry[]).map((e) => e.id)).toEqual([second.id]);
    expect(after?.outboxDue).toEqual(expect.any(Number));
  });

  it("delivers several entries and clears outboxDue once all are gone", async () => {
    const t = await owing(["payment.succeeded", "payment.refunded"]);
    await deliver(t.counted, t.doc._id, t.entries, async () => undefined);
    expect(await t.store.findById(t.doc._id)).toMatchObject({ outbox: [], outboxDue: null });
  });

  it("leaves the entry whose emit failed, and the document due", async () => {
    const t = await owing(["order.cancelled"]);
    await expect(
      deliver(t.counted, t.doc._id, t.entries, async () => {
        throw new Error("transporter down");
      }),
    ).rejects.toThrow("transporter down");
    const after = await t.store.findById(t.doc._id);
    expect((after?.outbox as OutboxEntry[]).map((e) => e.event)).toEqual(["order.cancelled"]);
    expect(after?.outboxDue).toEqual(expect.any(Number));
  });
});
