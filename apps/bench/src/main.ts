import { existsSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { formatTable, hasGc, type BenchTable } from './harness.js';

/** Every scenario the bench knows, in the order `bench` with no arguments runs them. */
export const SCENARIOS = ['core', 'tcp', 'http2', 'grpc', 'ssh', 'pg', 'adaptive'] as const;

interface ScenarioModule {
  run(): Promise<BenchTable>;
}

function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown cpu';
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, node ${process.version}, ${os.platform()}/${os.arch()}, ${cpus.length} cores (${model}), load average ${os.loadavg()[0]?.toFixed(1)} at start${hasGc() ? '' : ', WITHOUT --expose-gc'}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
    return 2;
  }
  const selected = argv.length > 0 ? argv : SCENARIOS;
  console.log(`# @pool/bench: ${selected.join(', ')}\n\n${describeMachine()}\n`);
  let failures = 0;
  for (const name of selected) {
    const url = new URL(`./scenarios/${name}.js`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      console.log(`### ${name}\n\nskipped: scenario module scenarios/${name}.js is not present in this build.\n`);
      continue;
    }
    const started = performance.now();
    try {
      const scenario = (await import(url.href)) as ScenarioModule;
      const table = await scenario.run();
      console.log(`${formatTable(table)}\n\n_${name}: ${((performance.now() - started) / 1000).toFixed(1)} s_\n`);
    } catch (error) {
      failures++;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.log(`### ${name}\n\nFAILED: ${message}\n`);
    }
  }
  return failures > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

// A scenario that leaves a socket or timer open must not hang the script; say so and exit.
setTimeout(() => {
  console.error('bench: handles still open 5 s after the last scenario; exiting');
  process.exit();
}, 5_000).unref();
