#!/usr/bin/env node
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../dist/main.js", import.meta.url));
if (!existsSync(dist)) {
  console.error("zeropoint: this checkout is not built; run `pnpm build`, or `pnpm zeropoint ...` to run from source");
  process.exit(2);
}
const { main } = await import(dist);
process.exitCode = await main(process.argv.slice(2));
