import { inspectModel } from "./src/inspect/inspect-model.js";
import { readModelArtifacts } from "./src/io/file-system-io.js";

console.log(inspectModel(readModelArtifacts("test-fixtures/mnist-cnn")).layers.slice(0, 4));
