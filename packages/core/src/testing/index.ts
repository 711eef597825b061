/**
 * @packageDocumentation
 * `@zeropoint/core/testing`: the conformance suite every adapter runs against the
 * `QuantizerAdapter` contract, and the small IR graph and data it uses.
 */
export { adapterConformance, type ConformanceOptions, type ConformanceResult } from "./adapter-conformance.js";
export { conformanceBatches, conformanceGraph } from "./conformance-graph.js";
