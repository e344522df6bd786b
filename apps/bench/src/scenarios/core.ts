import {
  bareContestant,
  coreContestant,
  coreUseContestant,
  genericPoolContestant,
  genericPoolFacadeContestant,
  idlePoolBuilders,
  tarnContestant,
  type CoreOptions,
} from '../contestants.js';
import { compare, rateOf, ratio, timingFromEnv, withRatios, type BenchRow, type BenchTable, type Contestant } from '../harness.js';
import { measureIdleBytes } from '../heap.js';
import { partitionedLoad } from '../partitioned-load.js';
import { baselineCoreContestant, coreChannelContestant, coreOtelContestant, corePrometheusContestant } from '../observed-contestants.js';
import { acquireChannel } from '../channel-probe.js';
import { baselineTable } from './core-baseline.js';

const CORE = '@pool/core';
const CORE_PARTITIONS_UNUSED = '@pool/core, partitions configured, unused';
const FACADE = '@pool/generic-pool (facade on core)';
const MAX = 8;
const IDLE_CONNECTIONS = 10_000;

const timing = { ...timingFromEnv({ rounds: 7, roundMs: 200, warmupMs: 300 }), sampleEvery: 16 };

function opsOf(rows: readonly BenchRow[], group: string, name: string): number {
  return rateOf(rows.find((row) => row.group === group && row.name === name));
}

function verdict(value: number, target: number): string {
  return value >= target ? 'met' : 'NOT met';
}

/** ns per Date.now() call, best of 5 runs of 1M: what core's one clock read per acquire costs here. */
function clockReadNs(): number {
  const calls = 1_000_000;
  let best = Infinity;
  let sink = 0;
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink += Date.now();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / calls);
  }
  return sink > 0 ? best : NaN;
}

/** Acquire + release throughput of core against generic-pool, tarn and the bare floor. */
async function throughput(group: string, callers: number): Promise<BenchRow[]> {
  const unusedPartitions: CoreOptions = { maxPerNode: MAX, partitions: { a: { max: 4 }, b: { max: 4 } } };
  const rows = await compare(
    [
      () => bareContestant(MAX),
      () => genericPoolContestant(MAX),
      () => tarnContestant(MAX),
      () => coreContestant(CORE, { maxPerNode: MAX }),
      () => coreContestant(CORE_PARTITIONS_UNUSED, unusedPartitions),
      () => coreUseContestant(`${CORE}, pool.use()`, { maxPerNode: MAX }),
      () => genericPoolFacadeContestant(FACADE, MAX),
    ],
    { ...timing, callers, group },
  );
  withRatios(rows, 'bare');
  const genericOps = opsOf(rows, group, 'generic-pool');
  for (const row of rows) row.metrics = { 'vs generic-pool': ratio(rateOf(row), genericOps) };
  return rows;
}

/** Core alone with 1, 100 and 1,000 nodes: node selection must not scan all nodes. */
async function nodeCounts(group: string): Promise<BenchRow[]> {
  const counts = [1, 100, 1_000];
  const contestants = counts.map((count) => (): Contestant => {
    const nodes = Array.from({ length: count }, (_, i) => ({ id: `node-${i}` }));
    return coreContestant(`${CORE}, ${count.toLocaleString('en-US')} node${count === 1 ? '' : 's'}`, { nodes, maxPerNode: MAX });
  });
  const rows = await compare(contestants, { ...timing, callers: 4, group });
  const single = rateOf(rows[0]);
  for (const row of rows) row.ratio = ratio(rateOf(row), single);
  return rows;
}

const CORE_PROMETHEUS = '@pool/core + @pool/prometheus registered';
const CORE_OTEL = '@pool/core + @pool/otel observing (SDK meter provider)';
const CORE_CHANNELS = '@pool/core + diagnostics_channel subscriber';
const CORE_BASELINE = '@pool/core at BENCH_CORE_BASELINE';

/** Plain core next to core with each observer attached (and a baseline build when given). */
async function observability(group: string, callers: number): Promise<BenchRow[]> {
  const options: CoreOptions = { maxPerNode: MAX };
  const baseline = process.env['BENCH_CORE_BASELINE'];
  const rows: BenchRow[] = [];
  if (baseline) {
    // Before anything subscribes in this process: a channel that has had subscribers changes shape.
    const baselineGroup = `${group}, vs baseline build`;
    const paired = await compare(
      [() => coreContestant(CORE, options), () => baselineCoreContestant(CORE_BASELINE, baseline, options)],
      { ...timing, callers, group: baselineGroup },
    );
    rows.push(...withRatios(paired, CORE));
  }
  const observed = await compare(
    [
      () => coreContestant(CORE, options),
      () => corePrometheusContestant(CORE_PROMETHEUS, options),
      () => coreOtelContestant(CORE_OTEL, options),
      () => coreChannelContestant(CORE_CHANNELS, options),
    ],
    { ...timing, callers, group },
  );
  rows.push(...withRatios(observed, CORE));
  return rows;
}

/** ns per `hasSubscribers` read of the acquire tracing channel with nobody subscribed, best of 5 runs of 1M. */
function unsubscribedCheckNs(): number {
  const reads = 1_000_000;
  let best = Infinity;
  let seen = 0;
  for (let run = 0; run < 5; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < reads; i++) if (acquireChannel.hasSubscribers) seen++;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / reads);
  }
  return seen === 0 ? best : NaN;
}

export async function run(): Promise<BenchTable> {
  if (process.env['BENCH_CORE_ONLY'] === 'observability') return observabilityTable();
  if (process.env['BENCH_CORE_ONLY'] === 'baseline') {
    const baseline = process.env['BENCH_CORE_BASELINE'];
    if (!baseline) throw new Error('BENCH_CORE_ONLY=baseline needs BENCH_CORE_BASELINE=/path/to/core/dist/index.js');
    return baselineTable(baseline);
  }
  const uncontended = `uncontended: 4 callers, max ${MAX}`;
  const contended = `contended: 32 callers, max ${MAX}`;
  const nodes = 'nodes: 4 callers, max 8 per node';
  const observed = `observability: 4 callers, max ${MAX}`;
  const rows: BenchRow[] = [
    ...(await throughput(uncontended, 4)),
    ...(await throughput(contended, 32)),
    ...(await nodeCounts(nodes)),
    ...(await observability(observed, 4)),
  ];
  const heapRows = await measureIdleBytes(idlePoolBuilders, IDLE_CONNECTIONS);
  rows.push(...heapRows, ...(await partitionedLoad()));

  const notes: string[] = [
    `ratio: vs bare in the throughput cases, vs 1 node in the nodes case; ratios are of ops/cpu-s (ops per CPU-second of the process, steadier than wall-clock ops/s when other processes share the cores). Each figure is the median of ${timing.rounds} interleaved ${timing.roundMs} ms windows after ${timing.warmupMs} ms warm-up; p50/p99 are of one acquire+release (every 16th op timed).`,
    'Fair settings: core runs with validateOnAcquire: false (no peer validates); stats are always on in core (one stats() call after the run, in the note). Each op awaits acquire then release (awaited where it returns a promise: core, generic-pool). Default acquire timeouts otherwise: core 30 s, tarn 30 s, generic-pool none.',
  ];
  for (const group of [uncontended, contended]) {
    const core = opsOf(rows, group, CORE);
    const bare = opsOf(rows, group, 'bare');
    const generic = opsOf(rows, group, 'generic-pool');
    const unused = opsOf(rows, group, CORE_PARTITIONS_UNUSED);
    notes.push(
      `${group}: core/bare ${ratio(core, bare)} (target >= 0.5: ${verdict(core / bare, 0.5)}), ` +
        `core/generic-pool ${ratio(core, generic)} (target >= 1.5: ${verdict(core / generic, 1.5)}), ` +
        `partitions configured but unused/core ${ratio(unused, core)} (target >= 0.9: ${verdict(unused / core, 0.9)})`,
    );
  }
  for (const group of [uncontended, contended]) {
    const facade = opsOf(rows, group, FACADE);
    const core = opsOf(rows, group, CORE);
    const generic = opsOf(rows, group, 'generic-pool');
    const costNs = 1e9 / facade - 1e9 / core;
    notes.push(
      `${group}: @pool/generic-pool/generic-pool ${ratio(facade, generic)} (target >= 1: ${verdict(facade / generic, 1)}), ` +
        `facade/core ${ratio(facade, core)}: the facade costs ${costNs.toFixed(0)} ns of CPU per acquire+release over plain core`,
    );
  }
  const clockNs = clockReadNs();
  const bareNs = 1e9 / opsOf(rows, uncontended, 'bare');
  notes.push(
    `clock: one Date.now() costs ${clockNs.toFixed(0)} ns here, ${Math.round((100 * clockNs) / bareNs)}% of bare's whole uncontended op (${bareNs.toFixed(0)} ns per CPU); ` +
      'core reads the clock once per acquire (Lease.acquiredAt, and never handing out a connection past maxLifetimeMs) and once per release (exact useMs), bare never',
  );
  const nodeRows = rows.filter((row) => row.group === nodes);
  const flatness = rateOf(nodeRows[2]) / rateOf(nodeRows[0]);
  notes.push(`nodes: 1,000 nodes / 1 node ${ratio(flatness, 1)} (flat means >= 0.8: ${verdict(flatness, 0.8)})`);
  notes.push(...observabilityNotes(rows, observed));
  const coreBytes = Number(heapRows.find((row) => row.name === CORE)?.metrics?.['B/idle conn'] ?? NaN);
  notes.push(`heap: core ${Math.round(coreBytes)} B of bookkeeping per idle connection (target < 1,024: ${coreBytes < 1024 ? 'met' : 'NOT met'})`);
  return { title: 'core: acquire/release, node count, heap, partitions', ratioLabel: 'ratio', rows, notes };
}

/** The observability rows alone (BENCH_CORE_ONLY=observability): a short run of just them. */
async function observabilityTable(): Promise<BenchTable> {
  const observed = `observability: 4 callers, max ${MAX}`;
  const rows = await observability(observed, 4);
  return { title: 'core: observability costs', ratioLabel: 'vs plain core', rows, notes: observabilityNotes(rows, observed) };
}

function observabilityNotes(rows: readonly BenchRow[], group: string): string[] {
  const core = opsOf(rows, group, CORE);
  const cost = (name: string): number => 1 - opsOf(rows, group, name) / core;
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const notes = [
    `observability: cost vs plain core (1 - ops/cpu-s ratio): @pool/prometheus ${percent(cost(CORE_PROMETHEUS))} (target < 5%: ${verdict(-cost(CORE_PROMETHEUS), -0.05)}), ` +
      `@pool/otel ${percent(cost(CORE_OTEL))} (target < 15%: ${verdict(-cost(CORE_OTEL), -0.15)}), diagnostics_channel subscriber ${percent(cost(CORE_CHANNELS))} (no target)`,
  ];
  const checkNs = unsubscribedCheckNs();
  const opNs = 1e9 / core;
  notes.push(
    `unsubscribed channels: one hasSubscribers read of the acquire tracing channel costs ${checkNs.toFixed(1)} ns here; an op makes two (acquire, release), ` +
      `${percent((2 * checkNs) / opNs)} of plain core's ${opNs.toFixed(0)} ns per op (target < 3%: ${verdict(-(2 * checkNs) / opNs, -0.03)})`,
  );
  const baselineGroup = `${group}, vs baseline build`;
  if (rows.some((row) => row.group === baselineGroup)) {
    const paired = opsOf(rows, baselineGroup, CORE) / opsOf(rows, baselineGroup, CORE_BASELINE);
    notes.push(
      `baseline: plain core / core at BENCH_CORE_BASELINE ${ratio(paired, 1)}, measured before anything subscribed ` +
        `(this build's whole change: unsubscribed channels, the release's clock read for useMs, per-node counters; target for channels < 3%: ${verdict(paired, 0.97)})`,
    );
  }
  return notes;
}
