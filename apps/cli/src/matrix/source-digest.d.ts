/**
 * The directories whose sources a package's tests exercise: the package, the workspace packages
 * it depends on (transitively, through `workspace:` ranges), the test tooling and nothing else, so
 * a change elsewhere leaves its evidence current (as turbo's cache of the test task does).
 */
export declare function testedDirectories(repoRoot: string, packageDir: string): string[];
/**
 * A digest of the sources a package's test run exercises ({@link testedDirectories}, plus the root
 * manifests and lockfile): every file git tracks or would track (untracked, not ignored), by path
 * and content, test outputs excluded. The test reporter (tooling/test-helpers) writes it when a
 * run starts; `zeropoint matrix` recomputes it and shows a cell whose evidence was recorded on
 * other sources as stale.
 */
export declare function sourceDigest(repoRoot: string, packageDir: string): string;
//# sourceMappingURL=source-digest.d.ts.map
