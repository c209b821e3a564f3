/**
 * The transactional outbox of the orders and payments documents (DESIGN.md, "Events are
 * fire-and-forget in Moleculer; orders must not be"). An event that follows a state change is
 * recorded as a pending entry of the document's `outbox` array in the same write as the change,
 * emitted after it, then removed ("sent"). A process that dies between the write and the emit
 * leaves the entry behind, and `outboxDue` tells the owner's periodic pass (the orders sweeper,
 * the payments outbox pass) to emit it again once the grace has passed. Consumers dedupe by
 * `eventId` and check the owner's record, so a second copy changes nothing.
 *
 * Only pending entries stay: the array never grows with a document's history.
 */
import { randomUUID } from "node:crypto";
import { config } from "./config";
import type { Store, Stored } from "../mixins/db.mixin";

export interface OutboxEntry {
  id: string;
  /** The event's name (`order.confirmed`); the payload is built from the document. */
  event: string;
  /** When the state change that owes the event was written (epoch ms). */
  at: number;
}

/** The fields this module keeps on an owner's document. */
export interface OutboxFields {
  outbox?: OutboxEntry[];
  /** When the oldest pending entry is due for a re-send; `null` or absent when none is. */
  outboxDue?: number | null;
}

/** The index the periodic pass reads by; add it to the owner's `dbMixin` indexes. */
export const OUTBOX_INDEX = { field: "outboxDue" } as const;

/** A pending entry for `event` and the update parts that record it with the state change. */
export function pendingEvent(
  event: string,
  now: number,
): { entry: OutboxEntry; push: { outbox: OutboxEntry }; set: { outboxDue: number } } {
  const entry: OutboxEntry = { id: randomUUID(), event, at: now };
  return { entry, push: { outbox: entry }, set: { outboxDue: now + config().outbox.graceMs } };
}

/**
 * The fault hook of the crash tests: with CRASH_AFTER_WRITE naming this event, the process
 * dies (SIGKILL, nothing flushed) right after the state write that owes the event and before
 * its emit — the window the outbox closes.
 */
export function crashPoint(event: string): void {
  if (config().outbox.crashAfterWrite === event) process.kill(process.pid, "SIGKILL");
}

/**
 * Emits each entry, removing it once emitted, then clears `outboxDue` when nothing is left
 * pending. An emit that throws leaves its entry (and the rest) for the periodic pass.
 *
 * The last entry, when it is the only one left (the usual case: one event per state change),
 * is removed and `outboxDue` cleared in one write; otherwise (another entry was pushed
 * meanwhile, or the database cannot match the condition) the two writes below.
 */
export async function deliver(
  store: Pick<Store<Stored>, "updateWhere">,
  docId: string,
  entries: OutboxEntry[],
  emit: (entry: OutboxEntry) => Promise<void>,
): Promise<void> {
  for (const [i, entry] of entries.entries()) {
    await emit(entry);
    // The whole entry, not `{ id }`: FerretDB 1.24 pulls by equal value only (measured here).
    const pull = { $pull: { outbox: entry } };
    if (i === entries.length - 1) {
      // The array equal to this one entry (FerretDB 1.24 matches neither `outbox.id` nor
      // `$elemMatch` in an update's filter, measured here; equality works on it and NeDB).
      const alone = await store.updateWhere(
        { _id: docId, outbox: [entry] },
        { ...pull, $set: { outboxDue: null } },
      );
      if (alone > 0) return;
    }
    await store.updateWhere({ _id: docId }, pull);
  }
  // Conditional on the array being empty: an entry pushed meanwhile keeps its due time.
  await store.updateWhere(
    { _id: docId, outbox: { $size: 0 }, outboxDue: { $ne: null } },
    { $set: { outboxDue: null } },
  );
}

/**
 * One pass: re-emits the entries older than the grace of every document whose `outboxDue`
 * passed, a bounded batch. Each document is claimed by moving `outboxDue` with a conditional
 * update, so of several replicas only one re-sends it. Resolves to how many entries it re-sent.
 */
export async function resendDue<TDoc extends Stored & OutboxFields>(
  store: Pick<Store<TDoc>, "find" | "updateWhere">,
  emit: (doc: TDoc, entry: OutboxEntry) => Promise<void>,
  log: (message: string) => void,
  limit = 100,
): Promise<number> {
  const now = Date.now();
  const graceMs = config().outbox.graceMs;
  const docs = await store.find({
    query: { outboxDue: { $lte: now } },
    sort: ["outboxDue"],
    limit,
  });
  let resent = 0;
  for (const doc of docs) {
    const claimed = await store.updateWhere(
      { _id: doc._id, outboxDue: doc.outboxDue },
      { $set: { outboxDue: now + graceMs } },
    );
    if (claimed === 0) continue;
    const entries = (doc.outbox ?? []).filter((e) => e.at <= now - graceMs);
    for (const e of entries) log(`Re-sending ${e.event} of ${doc._id} from the outbox.`);
    await deliver(store, doc._id, entries, (e) => emit(doc, e));
    resent += entries.length;
  }
  return resent;
}
