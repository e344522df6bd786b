export { FakeClock, flushPromises } from './clock.js';
export { trackingFactory } from './tracking.js';
export type { FakeConnection, TrackingFactory, TrackingOptions } from './tracking.js';
export { invalidOptionsError } from './options.js';
export { describeNodeScript, expectExitCode, runNodeScript } from './node-script.js';
export type { NodeScriptOptions, NodeScriptResult } from './node-script.js';
export { codeBlocks, firstExample, readmeExample, runnableSource, substitute } from './readme.js';
export type { CodeBlock } from './readme.js';
