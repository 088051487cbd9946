/**
 * `@weave-ts/core/testing/compliance`: the datapath compliance suite, a set of vitest tests every
 * `NetworkOverlay` implementation should pass. This subpath imports `vitest` (an optional peer dependency);
 * the rest of `@weave-ts/core/testing` does not.
 *
 * @packageDocumentation
 */
export { runDatapathCompliance } from '../datapath-compliance.js';
export type {
  DatapathCompliancePeer,
  DatapathComplianceHarness,
  DatapathComplianceOptions,
} from '../datapath-compliance.js';
