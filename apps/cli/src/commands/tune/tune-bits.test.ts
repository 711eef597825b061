import { describe, expect, it } from "vitest";
import { shortestMeeting } from "./tune-bits.js";

describe("shortestMeeting (tune --bits' bisection)", () => {
  it("finds the smallest meeting prefix of a monotone predicate in O(log n) probes", async () => {
    for (const first of [1, 2, 7, 13, 20]) {
      const probed: number[] = [];
      const k = await shortestMeeting(20, async (x) => {
        probed.push(x);
        return x >= first;
      });
      expect(k).toBe(first);
      expect(probed.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(20)));
    }
  });

  it("returns 0 when nothing needs upgrading and undefined when not even the whole order meets", async () => {
    expect(await shortestMeeting(5, async () => true)).toBe(0);
    expect(await shortestMeeting(5, async () => false)).toBeUndefined();
    expect(await shortestMeeting(0, async (x) => x > 0)).toBeUndefined();
  });
});
