import { readFileSync } from "node:fs";

/** The whole CLI's help: usage of every command, each command's options, exit codes. */
export const HELP = `zeropoint: quantize neural networks from Node

usage:
  zeropoint quantize <model.onnx> -o <out.onnx> [options]
  zeropoint quantize <dir>/model.json -o <outdir> [options]     (TensorFlow.js, needs @zeropoint/tfjs)
  zeropoint quantize <model dir or .onnx> --preset q8|int8|uint8|fp16|q4|q4f16|bnb4|all [-o <dir>]
                                          transformers.js files (onnx/model_quantized.onnx, model_fp16.onnx, ...)
                                          beside the float ones; takes --calib-data (q4: GPTQ instead of HQQ),
                                          --block-size, --int4-method, --mixed, --max-size, --accuracy-level,
                                          --check-samples, --min-sqnr
  zeropoint inspect <model.onnx | model.json> [--json]
  zeropoint matrix [--format md|json|html] [--results <repo>]
  zeropoint compare <model.onnx> [--calib-data mnist:train] [--eval-data mnist] [--eval-samples 2000] [--input-shape name=d0,d1,...] [--recipe static-default|recipe.json] [--out report.html] [--json]
  zeropoint tune <model.onnx> -o <out.onnx> --calib-data <source> --eval-data <source> [options]
  zeropoint doctor [--json]                                     this machine's integer kernel (onnxruntime)

quantize options:
  --approach static|dynamic|weight-only   default static
  --format qdq|qoperator                  static output format, default qdq
  --per-channel                           per-channel weights (weight-only: the default)
  --per-tensor                            weight-only: one scale per tensor instead
  --activation-type uint8|int8|uint16|int16   default uint8
  --weight-type int8|uint8|int4           default int8 (int4: weight-only); tfjs weight-only: uint8|uint16|float16
  --calibrate minmax|entropy|percentile|histogram|mse|moving-average-minmax   default minmax
  --calib-data <source>                   mnist[:train|test|test-even|test-odd], random, or a directory of .npy files or PNG/JPEG images
  --resize HxW                            resize images (bilinear) to the model's input size
  --layout nchw|nhwc                      image tensor layout, default nchw (ONNX) or nhwc (tfjs)
  --mean m | r,g,b, --std s | r,g,b       image normalization on [0, 1] pixel values
  --samples N                             calibration samples, default 256
  --batch-size N                          calibration batch, default 32
  --input-shape name=d0,d1,...            fix symbolic input dims (repeatable; only where no data tells them)
  --input name=value[,value...]           pin an input to a constant, e.g. --input sr=16000 (repeatable)
  --vocab-size N                          synthetic ids below N for integer inputs that feed no embedding table
  --min-sqnr dB                           ONNX: exit 3 when an output's SQNR against float is below this, default 20
  --allow-degraded                        ONNX: exit 0 even when degraded or nothing was quantized
  --exclude-nodes a,b                     keep these nodes float
  --op-types Conv,MatMul                  only quantize these op types
  --plan plan.json                        a zeropoint recipe/plan with per-node overrides
  --reduce-range, --no-reduce-range       7-bit weights; default: on where uint8 x int8 saturates (x86 without VNNI)
  --target-cpu auto|avx2|avx512|vnni|arm64|wasm   the CPU the model is for, default auto (this machine)
  --no-check-latency                      skip timing the output against the float model
  --allow-dir <dir>                       let external data / weight shards resolve into <dir> too (repeatable)
  --symmetric-activations                 symmetric activations (disables Relu folding)
  --block-size N                          int4 block size, default 32
  --int4-format matmul-nbits|dequantize-linear   int4 storage, default matmul-nbits (dequantize-linear: opset 21, also Conv)
  --int4-method rtn|mse|hqq|awq|gptq      int4 MatMulNBits blocks: round to nearest (default), MSE clipping, HQQ (data-free,
                                          float zero points), AWQ or GPTQ (both fitted on --calib-data)
  --mixed                                 int4 (and --preset q4/q4f16): mixed precision; the MatMuls with the largest
                                          output error on --calib-data go to 8-bit MatMulNBits or float
  --max-size 1.25x|12MB                   --mixed's budget: a ratio of the all-int4 model (default 1.25x) or a size
  --accuracy-level 0..4                   MatMulNBits accuracy_level (4: int8 activations, onnxruntime's fast CPU path)
  --check-samples N                       samples for the float-vs-quantized check, default 64
  --target node|web                       web: output onnxruntime-web runs in all its backends
  --json                                  machine-readable output on stdout

tfjs options (model.json input; static is emulated int8: fake-quantized model + quantization-params.json):
  --approach weight-only|dynamic|static   dynamic is an alias of weight-only for tfjs (storage, dequantized at load)
  --weight-range mse|minmax|percentile    weight-only range per tensor, default mse
  --min-sqnr dB                           keep weights float below this SQNR (default 20 uint8, 40 uint16/float16)
  --weight-bits N                         static: symmetric weight grid width 2..8, default 8
  --per-channel                           static: per-channel Dense kernels too (convolutions always are)
  --backend wasm|cpu|tensorflow           default: tfjs-node if installed, else wasm, else cpu

doctor: prints which integer kernel onnxruntime uses here (feature flags confirmed by a probe) and the
  defaults that follow (7-bit weights where uint8 x int8 saturates).

exit codes: 0 ok, 1 error (typed, one line; JSON under --json), 2 usage, 3 degraded (quantize: nothing was
quantized or an output fell below --min-sqnr, the file is still written; tune: criterion not met, or nothing
at float speed or better)

tune options:
  --eval-data <source>                    tuning data: mnist:test-even (accuracy), or samples without labels (top-1 agreement)
  --holdout-data <source>                 scored after tuning; default mnist:test-odd when tuning on mnist:test-even
  --max-loss 0.5%|0.005abs                accuracy criterion against float, default 0.5%
  --objective latency|size|accuracy       default latency
  --strategy basic|sensitivity            default basic
  --max-trials N, --timeout 10m           search budget (default 100 trials, no timeout)
  --history tune.jsonl                    record trials; a rerun with the same file resumes
  --bits 4,8,16                           instead: int4 weight-only with mixed precision, the smallest model of the
                                          --mixed order that meets --max-loss (with --int4-method, default gptq,
                                          --block-size, --max-size 1.25x|12MB as a cap)
  --latency-profile p.json                seed the per-node search with a profile recorded on this CPU and onnxruntime
  --latency-budget 60s                    time spent timing the format candidates live (default 60s)
  --report out.html                       sensitivity chart (default <out>.sensitivity.html)
  --target-cpu auto|avx2|avx512|vnni|arm64|wasm   as for quantize
  --eval-samples N                        evaluation samples at most, default 2000 (also bounds --eval-data random)
  --input-shape, --input, --vocab-size, --batch-size   as for quantize
`;

/** The CLI's version, from its package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Help for one command: its usage line, the options section that belongs to it, and examples. */
export function commandHelp(command: string, examples: string): string {
  const lines = HELP.split("\n");
  const usage = lines.filter(
    (l) => l.trimStart().startsWith(`zeropoint ${command} `) || l.trim() === `zeropoint ${command}`,
  );
  const start = lines.findIndex((l) => l.startsWith(`${command} options`));
  const section: string[] = [];
  if (start >= 0) {
    for (let i = start; i < lines.length; i++) {
      const l = lines[i] as string;
      if (i > start && l.trim() === "") break;
      section.push(l);
    }
  }
  if (command === "quantize") {
    const tfjs = lines.findIndex((l) => l.startsWith("tfjs options"));
    for (let i = tfjs; i >= 0 && i < lines.length && (lines[i] as string).trim() !== ""; i++)
      section.push(lines[i] as string);
  }
  const exits = lines.find((l) => l.startsWith("exit codes")) ?? "";
  return [`usage:`, ...usage, "", ...section, "", examples, "", exits].join("\n");
}
