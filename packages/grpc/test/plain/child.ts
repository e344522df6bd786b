import { plainProcessKit } from '@pool/testkit';

export type { ChildResult } from '@pool/testkit';

export const { runScenario, runReadmeExample, cleanExit, expectClean } = plainProcessKit(new URL('../../', import.meta.url));
