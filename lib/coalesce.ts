/**
 * One round trip for a crowd of identical requests, without ever answering one of them with
 * something older than its own arrival.
 *
 * Requests of a key that arrive while a round of that key is on its way do not join it (it was
 * sent before they came, so it may miss a change they must see); they wait together for the
 * next round, which starts as soon as the current one is back. Every round is therefore sent
 * after all of its members arrived: a read that follows a finished write sees the write, and a
 * count is the count of requests that really came. Under load that is one round trip per key
 * per round instead of one per request (bench/README.md).
 */
export interface RoundShare<R> {
  /** The round's result, the same object for every member. */
  value: R;
  /** This request's place in its round (0-based) and the round's size. */
  index: number;
  size: number;
}

interface Member<R> {
  resolve(share: RoundShare<R>): void;
  reject(err: unknown): void;
}

export class NextRoundCoalescer<R> {
  /** Members waiting for the next round of a key; present (maybe empty) while a round is out. */
  private readonly waiting = new Map<string, Member<R>[]>();

  /** `round(key, size)` does the work once for `size` requests of `key`. */
  constructor(private readonly round: (key: string, size: number) => Promise<R>) {}

  join(key: string): Promise<RoundShare<R>> {
    return new Promise<RoundShare<R>>((resolve, reject) => {
      const next = this.waiting.get(key);
      if (next) {
        next.push({ resolve, reject });
        return;
      }
      this.waiting.set(key, []);
      void this.run(key, [{ resolve, reject }]);
    });
  }

  private async run(key: string, members: Member<R>[]): Promise<void> {
    for (let batch = members; batch.length > 0;) {
      try {
        const value = await this.round(key, batch.length);
        batch.forEach((m, index) => m.resolve({ value, index, size: batch.length }));
      } catch (err) {
        for (const m of batch) m.reject(err);
      }
      batch = this.waiting.get(key) ?? [];
      this.waiting.set(key, []);
    }
    this.waiting.delete(key);
  }
}
