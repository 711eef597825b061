/** Side-effect entry: `import "@zeropoint/onnx/register"` adds the adapter to core's support matrix. */
import { registerOnnxCapabilities } from "./capabilities.js";

registerOnnxCapabilities();
