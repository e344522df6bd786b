import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

// The shape of core, kept by a test so it cannot silently regress (issue 18): no import cycle
// among src files, type-only imports included, and no collaborator of the engine importing the
// engine's file. The layers and what belongs to each are in the README ("How core is built").

const SRC = join(import.meta.dirname, '..', 'src');

/** Only the public handle and the entry point may import the engine. */
const MAY_IMPORT_ENGINE = new Set(['pool.ts', 'index.ts']);


/** The layers, bottom first (README, "How core is built"): a file imports only from its own layer or below. */
const LAYERS: readonly (readonly string[])[] = [
  // contracts
  ['options.ts', 'option-names.ts', 'errors.ts', 'events.ts', 'clock.ts', 'abort.ts', 'keep-alive.ts', 'diagnostics.ts', 'histogram.ts', 'permit-source.ts', 'option-checks.ts'],
  // records
  ['records.ts', 'partitions.ts', 'lease.ts', 'waiters.ts'],
  // books
  ['ledger.ts', 'stats.ts'],
  // policies
  ['balancer.ts', 'circuit-policy.ts', 'node-checks.ts', 'retry.ts', 'lifetime.ts', 'permits.ts', 'limits/limit.ts', 'limits/gradient2.ts', 'limits/aimd.ts', 'limits/vegas.ts', 'limits/limiter.ts', 'limits/resolve.ts', 'resolve-options.ts'],
  // the engine's rules
  ['lifecycle.ts', 'creator.ts', 'supply.ts', 'dispatch.ts', 'maintenance.ts', 'membership.ts', 'deadlines.ts', 'shortage.ts'],
  // the engine
  ['engine.ts'],
  // the public handle
  ['pool.ts', 'index.ts'],
];

/** Each src file and the src files it imports (`import`, `import type`, `export ... from`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts')).sort();
  for (const file of files) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const targets = new Set<string>();
    const add = (specifier: string) => targets.add(posix.join(posix.dirname(file), specifier).replace(/\.js$/, '.ts'));
    // `from './x.js'` / `from '../x.js'` in import and re-export statements, and bare `import './x.js'`.
    for (const match of text.matchAll(/(?:from|import)\s*'(\.\.?\/[\w/-]+\.js)'/g)) add(match[1] ?? '');
    // `import('./x.js')` in type positions.
    for (const match of text.matchAll(/import\(\s*'(\.\.?\/[\w/-]+\.js)'\s*\)/g)) add(match[1] ?? '');
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Every cycle, each as the path of files from one back to itself (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      const isSelfLoop = component.length === 1 && (graph.get(file) ?? []).includes(file);
      if (component.length > 1 || isSelfLoop) components.push(component.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return components;
}

describe('the structure of core', () => {
  const graph = importGraph();

  it('reads every src file and its imports', () => {
    expect(graph.size).toBeGreaterThan(20);
    expect(graph.get('engine.ts')).toContain('dispatch.ts');
    expect(graph.get('pool.ts')).toContain('engine.ts');
    for (const [file, targets] of graph) {
      for (const target of targets) expect(graph.has(target), `${file} imports ${target}, which is not in src`).toBe(true);
    }
  });

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself can fail)', () => {
    const cyclic = new Map(graph);
    cyclic.set('records.ts', [...(graph.get('records.ts') ?? []), 'engine.ts']);
    expect(cycles(cyclic).length).toBeGreaterThan(0);
  });

  it('names every src file in the README section "How core is built"', () => {
    const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## How core is built'));
    expect(readme).toContain('## How core is built');
    expect([...graph.keys()].filter((file) => !section.includes(`\`${file}\``))).toEqual([]);
  });

  it('places every src file in a layer, and no file imports from a layer above its own', () => {
    const layerOf = new Map(LAYERS.flatMap((files, layer) => files.map((file) => [file, layer] as const)));
    expect([...graph.keys()].filter((file) => !layerOf.has(file)), 'files in no layer').toEqual([]);
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) if ((layerOf.get(target) ?? 0) > (layerOf.get(file) ?? 0)) upward.push(`${file} -> ${target}`);
    }
    expect(upward).toEqual([]);
  });

  it('lets only the public handle and the entry point import the engine', () => {
    const importers = [...graph].filter(([, targets]) => targets.includes('engine.ts')).map(([file]) => file);
    expect(importers.filter((file) => !MAY_IMPORT_ENGINE.has(file))).toEqual([]);
  });
});
