import { packageTestConfig } from '../../vitest.shared';

// Fault-and-recover tests wait for circuits to open and close (a few seconds each).
export default packageTestConfig({ testTimeout: 45_000, hookTimeout: 60_000 });
