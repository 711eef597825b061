// Preload (node --require) for the module-graph test: at exit, writes the CommonJS modules the
// process loaded (ESM imports of CommonJS packages such as protobufjs and onnxruntime-node land in
// this cache too) to the file named by ZEROPOINT_MODULES_OUT.
const { writeFileSync } = require("node:fs");
process.on("exit", () => {
  writeFileSync(process.env.ZEROPOINT_MODULES_OUT, JSON.stringify(Object.keys(require.cache)));
});
