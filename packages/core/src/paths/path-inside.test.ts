import { describe, expect, it } from "vitest";
import { isPathInside } from "./path-inside.js";

describe("isPathInside", () => {
  it.each([
    ["/models/a", "/models/a/w.bin", true],
    ["/models/a", "/models/a", true],
    ["/models/a/", "/models/a/sub/w.bin", true],
    ["/models/a", "/models/a-evil/w.bin", false],
    ["/models/a", "/etc/passwd", false],
    ["/models/a", "/models", false],
    ["C:\\models\\a", "C:\\models\\a\\w.bin", true],
    ["C:\\models\\a", "C:\\models\\ab\\w.bin", false],
    ["/", "/etc/passwd", true],
  ] as const)("%s contains %s: %s", (parent, child, inside) => {
    expect(isPathInside(parent, child)).toBe(inside);
  });
});
