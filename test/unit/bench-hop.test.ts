/**
 * bench/hop.ts: the verdicts of the scenarios across the hop, round by round against
 * baseline-mesh, and the catalog page against the bare mesh carrying the same page.
 */
import { hopVerdictLines, hopVerdicts } from "../../bench/hop";

const rounds = (...xs: Array<[number, number]>) =>
  xs.map(([requestsPerSec, p99]) => ({ requestsPerSec, p99, ratioToMesh: null }));

describe("hop verdicts", () => {
  const mesh = { name: "baseline-mesh", rounds: rounds([1000, 10], [2000, 10], [1000, 20]) };
  const page = { name: "baseline-mesh-page", rounds: rounds([500, 10], [1000, 10], [800, 20]) };

  it("takes the median of the rounds' ratios, and the ratio to the same load", () => {
    const catalog = { name: "catalog-hop", rounds: rounds([900, 14], [1000, 30], [800, 20]) };
    const [v] = hopVerdicts([mesh, page, catalog]);
    expect(v.scenario).toBe("catalog-hop");
    expect(v.ratio).toBeCloseTo(0.8); // 0.9, 0.5, 0.8
    expect(v.p99Ratio).toBeCloseTo(1.4); // 1.4, 3, 1
    expect(v.met).toBe(true);
    expect(v.sameLoad).toEqual({ scenario: "baseline-mesh-page", ratio: 1 }); // 1.8, 1, 1
    expect(hopVerdictLines([v])[0]).toBe(
      "target catalog-hop: 0.80 × mesh req/s (≥ 0.80), p99 1.40 × mesh (≤ 1.50): met; " +
        "1.00 × baseline-mesh-page (the bare mesh carrying the same answer)",
    );
  });

  it("misses on p99, and has no same-load ratio without that scenario or for me-hop", () => {
    const catalog = { name: "catalog-hop", rounds: rounds([900, 20], [2000, 20], [900, 40]) };
    const me = { name: "me-hop", rounds: rounds([700, 50], [1400, 50], [700, 50]) };
    const [c, m] = hopVerdicts([mesh, catalog, me]);
    expect(c.met).toBe(false);
    expect(c.sameLoad).toBeNull();
    expect(m).toMatchObject({ scenario: "me-hop", ratio: 0.7, met: true, sameLoad: null });
    expect(hopVerdictLines([m])[0]).toBe(
      "target me-hop: 0.70 × mesh req/s (≥ 0.70), p99 5.00 × mesh: met",
    );
  });
});
