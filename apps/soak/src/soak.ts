import { hasOpenSsh } from '@pool/testkit/sshd';
import { performance } from 'node:perf_hooks';
import { formatCheck, heapCheck, transportChecks, type AfterDrain, type Check, type FaultRun, type TransportResult } from './checks.js';
import { readConfig, reportEnd, type SoakConfig, type TransportName } from './config.js';
import { errorLabel } from './errors.js';
import { Load } from './load.js';
import type { Counters, Phase, StatsSample } from './phases.js';
import { transportSection } from './report.js';
import { sleep, type SoakTarget } from './target.js';
import { startGrpc } from './targets/grpc.js';
import { startHttp2 } from './targets/http2.js';
import { startPg } from './targets/pg.js';
import { startEmbeddedSsh, startOpenSsh } from './targets/ssh.js';
import { startTcp } from './targets/tcp.js';

/*
 * The soak itself, run in a child process by main.ts (which checks that it exits by itself).
 * Every transport runs at the same time, phase by phase: steady load, faults, steady load.
 */

const STARTERS: Record<TransportName, () => Promise<SoakTarget>> = {
  tcp: startTcp,
  http2: startHttp2,
  grpc: startGrpc,
  ssh: startEmbeddedSsh,
  'ssh-sshd': startOpenSsh,
  pg: startPg,
};

/** One transport while it runs. */
interface Run {
  target: SoakTarget;
  load: Load;
  samples: StatsSample[];
  boundaries: Counters[];
  faults: FaultRun[];
  destroyReasons: Record<Phase, Map<string, number>>;
}

const uncaught: string[] = [];
const describe = (error: unknown) => `${errorLabel(error)}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
process.on('unhandledRejection', (reason) => uncaught.push(`unhandledRejection ${describe(reason)}`));
process.on('uncaughtException', (error) => uncaught.push(`uncaughtException ${describe(error)}`));

const progress = (line: string) => process.stderr.write(`soak ${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function heapAfterGc(): Promise<number | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return undefined;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

function read(run: Run, startedAt: number): void {
  const stats = run.target.pool.stats();
  run.samples.push({
    atMs: performance.now() - startedAt, phase: run.load.phase, total: stats.total, created: stats.created, destroyed: stats.destroyed,
  });
}

/** Reads the counters that close the current phase (also as the phase's last sample). */
function closePhase(run: Run, startedAt: number): void {
  read(run, startedAt);
  const last = run.samples[run.samples.length - 1] as StatsSample;
  run.boundaries.push({ created: last.created, destroyed: last.destroyed });
}

/** Lets `ms` pass, pausing every load for `config.idlePauseMs` every `config.idleEveryMs`. */
async function runPhase(runs: readonly Run[], ms: number, config: SoakConfig): Promise<void> {
  const start = performance.now();
  for (let at = config.idleEveryMs; at + config.idlePauseMs + 500 < ms; at += config.idleEveryMs) {
    await sleep(start + at - performance.now());
    for (const run of runs) void run.load.idle(config.idlePauseMs);
  }
  await sleep(start + ms - performance.now());
}

async function runFaults(run: Run, phaseMs: number): Promise<void> {
  const start = performance.now();
  for (const step of run.target.faults) {
    await sleep(start + step.at * phaseMs - performance.now());
    const began = performance.now();
    progress(`${run.target.name}: ${step.name}`);
    const fault: FaultRun = { name: step.name, startedAtMs: began - start, tookMs: 0 };
    try {
      await withTimeout(step.run(run.load), 30_000, step.name);
    } catch (error) {
      fault.error = describe(error);
    }
    fault.tookMs = performance.now() - began;
    run.faults.push(fault);
  }
}

async function drain(target: SoakTarget): Promise<AfterDrain> {
  try {
    await withTimeout(target.pool.drain({ timeoutMs: 10_000 }), 15_000, 'drain()');
    const { created, destroyed, leases, total } = target.pool.stats();
    return { created, destroyed, leases, total };
  } catch (error) {
    return { error: describe(error) };
  }
}

async function startTargets(config: SoakConfig, notes: string[], checks: Check[]): Promise<SoakTarget[]> {
  const names = config.transports.filter((name) => {
    if (name !== 'ssh-sshd' || hasOpenSsh()) return true;
    notes.push('ssh-sshd: not run, /usr/sbin/sshd is not installed (apt-get install openssh-server).');
    return false;
  }) as TransportName[];
  progress(`starting peers: ${names.join(', ')}`);
  const started = await Promise.allSettled(names.map((name) => STARTERS[name]()));
  const targets: SoakTarget[] = [];
  started.forEach((result, index) => {
    if (result.status === 'fulfilled') targets.push(result.value);
    else checks.push({ name: `${names[index] ?? '?'}: peers started`, isPassed: false, detail: describe(result.reason) });
  });
  return targets;
}

async function soak(config: SoakConfig): Promise<{ text: string; isPassed: boolean }> {
  const notes: string[] = [];
  const checks: Check[] = [];
  const targets = await startTargets(config, notes, checks);
  const runs: Run[] = targets.map((target) => {
    const run: Run = {
      target, load: new Load(target, config.opDeadlineMs), samples: [], boundaries: [], faults: [],
      destroyReasons: { 1: new Map(), 2: new Map(), 3: new Map() },
    };
    target.pool.on('destroy', ({ reason }) => {
      const reasons = run.destroyReasons[run.load.phase];
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    });
    target.pool.on('error', () => {});
    return run;
  });

  const phaseMs = config.totalMs / 3;
  const startedAt = performance.now();
  const sampler = setInterval(() => { for (const run of runs) read(run, startedAt); }, config.sampleEveryMs);
  for (const run of runs) {
    closePhase(run, startedAt);
    run.load.start();
  }
  progress(`phase 1 (steady): ${(phaseMs / 1000).toFixed(1)} s`);
  await runPhase(runs, phaseMs, config);
  await Promise.all(runs.map((run) => run.load.hold()));
  const heapAfterPhase1 = await heapAfterGc();
  for (const run of runs) {
    closePhase(run, startedAt);
    run.load.startPhase(2);
    run.load.resume();
  }

  progress('phase 2 (faults)');
  await Promise.all([runPhase(runs, phaseMs, config), ...runs.map((run) => runFaults(run, phaseMs))]);
  for (const run of runs) {
    closePhase(run, startedAt);
    run.load.startPhase(3);
  }

  progress('phase 3 (steady)');
  await runPhase(runs, phaseMs, config);
  await Promise.all(runs.map((run) => run.load.hold()));
  const heapAfterPhase3 = await heapAfterGc();
  for (const run of runs) closePhase(run, startedAt);
  clearInterval(sampler);
  await Promise.all(runs.map((run) => run.load.stop()));

  progress('draining the pools, stopping the peers');
  const drained = await Promise.all(runs.map((run) => drain(run.target)));
  const stopped = await Promise.allSettled(runs.map((run) => withTimeout(run.target.stop(), 30_000, `${run.target.name} peers stop`)));

  const sections: string[] = [];
  runs.forEach((run, index) => {
    const result: TransportResult = {
      name: run.target.name, setup: run.target.setup, connectionLimit: run.target.connectionLimit,
      connectionsNeeded: run.target.connectionsNeeded,
      expectedFaultErrors: run.target.expectedFaultErrors, records: run.load.records, samples: run.samples,
      boundaries: run.boundaries, faults: run.faults, destroyReasons: run.destroyReasons,
      afterDrain: drained[index] ?? { error: 'not drained' },
    };
    sections.push(transportSection(result));
    checks.push(...transportChecks(result, config));
  });
  const notStopped = stopped.flatMap((result) => (result.status === 'rejected' ? [describe(result.reason)] : []));
  checks.push(
    { name: 'every peer stopped', isPassed: notStopped.length === 0, detail: notStopped.join('; ') || `${runs.length} transports` },
    heapCheck(heapAfterPhase1, heapAfterPhase3, config.heapBoundBytes),
    {
      name: 'no unhandledRejection / uncaughtException',
      isPassed: uncaught.length === 0,
      detail: uncaught.length === 0 ? 'none' : `${uncaught.length}: ${uncaught.slice(0, 3).join(' | ')}`,
    },
  );
  const heading = `## Soak: ${(config.totalMs / 1000).toFixed(0)} s of load (3 phases of ${(phaseMs / 1000).toFixed(1)} s), `
    + `${runs.map((run) => run.target.name).join(', ')} at the same time`;
  const text = [heading, '', ...notes, ...(notes.length > 0 ? [''] : []), sections.join('\n\n'), '', '```', ...checks.map(formatCheck), '```'].join('\n');
  const secrets = targets.flatMap((target) => target.secrets).filter((secret) => secret.length > 0);
  return { text: secrets.reduce((scrubbed, secret) => scrubbed.replaceAll(secret, '<secret>'), text), isPassed: checks.every((check) => check.isPassed) };
}

let isPassed = false;
try {
  const report = await soak(readConfig());
  console.log(report.text);
  isPassed = report.isPassed;
} catch (error) {
  console.log(`FAIL  the soak itself crashed — ${describe(error)}`);
}
console.log(reportEnd(isPassed ? 'PASS' : 'FAIL'));
process.exitCode = isPassed ? 0 : 1;
// Diagnosis for main.ts's exit check: what still keeps the process alive (this timer does not).
setTimeout(() => progress(`still running after the report; open: ${process.getActiveResourcesInfo().join(', ')}`), 8_000).unref();
