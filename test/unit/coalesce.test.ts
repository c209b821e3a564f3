import { NextRoundCoalescer } from "../../lib/coalesce";

/** A round function whose rounds the test finishes by hand. */
function manualRounds() {
  const rounds: Array<{
    key: string;
    size: number;
    finish(value: string): void;
    fail(err: Error): void;
  }> = [];
  const coalescer = new NextRoundCoalescer<string>(
    (key, size) =>
      new Promise<string>((resolve, reject) => {
        rounds.push({ key, size, finish: resolve, fail: reject });
      }),
  );
  return { coalescer, rounds };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("NextRoundCoalescer", () => {
  it("starts a round at once for the first request of a key", async () => {
    const { coalescer, rounds } = manualRounds();
    const first = coalescer.join("a");
    expect(rounds).toHaveLength(1);
    rounds[0].finish("v1");
    await expect(first).resolves.toEqual({ value: "v1", index: 0, size: 1 });
  });

  it("never answers a request with a round sent before it arrived", async () => {
    const { coalescer, rounds } = manualRounds();
    const early = coalescer.join("a");
    // These arrive while round 1 is out: they must wait for round 2.
    const late = [coalescer.join("a"), coalescer.join("a"), coalescer.join("a")];
    expect(rounds).toHaveLength(1);

    rounds[0].finish("old");
    await expect(early).resolves.toMatchObject({ value: "old" });
    await tick();
    expect(rounds).toHaveLength(2);
    expect(rounds[1].size).toBe(3);

    rounds[1].finish("new");
    const shares = await Promise.all(late);
    expect(shares.map((s) => s.value)).toEqual(["new", "new", "new"]);
    expect(shares.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(shares.every((s) => s.size === 3)).toBe(true);
  });

  it("keeps keys apart", async () => {
    const { coalescer, rounds } = manualRounds();
    const a = coalescer.join("a");
    const b = coalescer.join("b");
    expect(rounds.map((r) => r.key)).toEqual(["a", "b"]);
    rounds[1].finish("B");
    rounds[0].finish("A");
    await expect(a).resolves.toMatchObject({ value: "A" });
    await expect(b).resolves.toMatchObject({ value: "B" });
  });

  it("fails only the members of a failed round, and goes on with the next", async () => {
    const { coalescer, rounds } = manualRounds();
    const failed = coalescer.join("a");
    const next = coalescer.join("a");
    rounds[0].fail(new Error("redis gone"));
    await expect(failed).rejects.toThrow("redis gone");
    await tick();
    rounds[1].finish("back");
    await expect(next).resolves.toMatchObject({ value: "back" });
  });

  it("forgets a key once its rounds are done", async () => {
    const { coalescer, rounds } = manualRounds();
    const one = coalescer.join("a");
    rounds[0].finish("x");
    await one;
    await tick();
    const two = coalescer.join("a");
    // A fresh round right away, not a wait for a round that will never come.
    expect(rounds).toHaveLength(2);
    rounds[1].finish("y");
    await expect(two).resolves.toMatchObject({ value: "y", size: 1 });
  });
});
