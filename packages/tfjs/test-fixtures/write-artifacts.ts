// Run by write-failure.test.ts under a file-size limit: writes the bundled CNN's artifacts to argv[2].
import { fileURLToPath } from "node:url";
import { readModelArtifacts, writeModelArtifacts } from "../src/io/file-system-io.js";

const artifacts = readModelArtifacts(fileURLToPath(new URL("./mnist-cnn/model.json", import.meta.url)));
writeModelArtifacts(process.argv[2] as string, artifacts);
