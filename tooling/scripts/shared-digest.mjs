// Prints a SHA-256 over every file of the shared reference data (../shared, or ZEROPOINT_SHARED):
// the tests read it from outside the repository, where turbo cannot hash it, so `pnpm test` passes
// this digest as ZEROPOINT_SHARED_DIGEST, an env input of the cached test task.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(process.env.ZEROPOINT_SHARED ?? join(import.meta.dirname, "../../../shared"));
const hash = createHash("sha256");
if (!existsSync(root)) {
  process.stdout.write("missing");
  process.exit(0);
}
const walk = (dir) =>
  readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
for (const file of walk(root)) {
  hash.update(relative(root, file));
  hash.update(readFileSync(file));
}
process.stdout.write(hash.digest("hex"));
