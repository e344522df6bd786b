// The check's own parsers, tested on every run (a README block the parser misses would be a
// block nobody checks). Returns the problems found, as strings.
import assert from 'node:assert/strict';
import { checkedBlocks, installedNames, relativeLinks } from './readme.mjs';
import { compareVersions, lowestOf } from './workspace.mjs';

const SAMPLE = [
  '# x', '', '```sh', 'npm install @pool/a b@^1.2 -D', '```', '',
  '<!-- prelude: declare const one: number; -->', '```ts', 'one;', '```', '',
  'See [core](../core) and [npm](https://www.npmjs.com/x) and [here](#x).', '',
  '<!-- prelude: declare const two: number; -->', 'text between', '```ts', 'two;', '```',
  '```ts fragment', 'interface Shape {}', '```',
  '```js', "const { a } = require('@pool/a');", '```',
  '```js', "import { a } from '@pool/a';", '```',
  '<!-- prelude:', 'declare const three: number;', '-->', '```typescript', 'three;', '```',
].join('\n');

const cases = {
  'blocks, preludes, fragments and CommonJS detection': () => {
    const blocks = checkedBlocks(SAMPLE);
    assert.deepEqual(blocks.map((block) => [block.code, block.prelude, block.extension]), [
      ['one;', 'declare const one: number;', '.ts'],
      ['two;', '', '.ts'],
      ["const { a } = require('@pool/a');", '', '.cjs'],
      ["import { a } from '@pool/a';", '', '.mjs'],
      ['three;', 'declare const three: number;', '.ts'],
    ]);
    assert.equal(blocks[0].line, 9);
  },
  'install line names': () => assert.deepEqual([...installedNames(SAMPLE)], ['@pool/a', 'b']),
  'relative links': () => assert.deepEqual(relativeLinks(SAMPLE), ['line 12: relative link ../core (use an absolute URL)']),
  'lowest versions of ranges': () => {
    assert.deepEqual(['^8.11.0', '>=1.2.3 <2', '^1', '~2.3', '1 || 2'].map(lowestOf), ['8.11.0', '1.2.3', '1.0.0', '2.3.0', '1.0.0']);
    assert.ok(compareVersions('1.10.0', '1.9.9') > 0);
    assert.throws(() => lowestOf('latest'));
  },
};

export function selfTestProblems() {
  return Object.entries(cases).flatMap(([name, run]) => {
    try {
      run();
      return [];
    } catch (error) {
      return [`${name}: ${error instanceof Error ? error.message : String(error)}`];
    }
  });
}
