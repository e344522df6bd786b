import {
  connectionCreep,
  formatCounts,
  maxTotal,
  overLimit,
  perPhaseCounters,
  unexpectedFailures,
  type Counters,
  type Phase,
  type PhaseRecord,
  type StatsSample,
} from './phases.js';

/** One PASS/FAIL line of the report. */
export interface Check {
  name: string;
  isPassed: boolean;
  detail: string;
}

/** A fault step as it ran. */
export interface FaultRun {
  name: string;
  /** ms into phase 2. */
  startedAtMs: number;
  tookMs: number;
  /** Set when the step itself threw (then the fault may not have happened). */
  error?: string;
}

/** The pool's counters after `drain()` resolved, or why there are none. */
export type AfterDrain = { created: number; destroyed: number; leases: number; total: number } | { error: string };

/** Everything one transport's soak recorded. */
export interface TransportResult {
  name: string;
  setup: string;
  connectionLimit: number;
  connectionsNeeded: number;
  expectedFaultErrors: readonly string[];
  records: Record<Phase, PhaseRecord>;
  samples: StatsSample[];
  /** created/destroyed at load start and at the end of each phase. */
  boundaries: Counters[];
  faults: FaultRun[];
  /** destroy events by reason, per phase. */
  destroyReasons: Record<Phase, Map<string, number>>;
  afterDrain: AfterDrain;
}

export interface CheckSettings {
  opDeadlineMs: number;
  settleMs: number;
}

/** The checks of one transport, in report order (see README.md, "What it checks"). */
export function transportChecks(result: TransportResult, settings: CheckSettings): Check[] {
  const { name, records } = result;
  const steadyOps = records[1].ops + records[3].ops;
  const steadyFailures = new Map<string, number>();
  for (const phase of [1, 3] as const) {
    for (const [label, count] of records[phase].failures) steadyFailures.set(label, (steadyFailures.get(label) ?? 0) + count);
  }
  const unexpected = unexpectedFailures(records[2], result.expectedFaultErrors);
  const hung = records[1].hung + records[2].hung + records[3].hung;
  const creep = connectionCreep(result.samples, 3, settings.settleMs);
  const over = overLimit(result.samples, result.connectionLimit);
  const peak = Math.max(maxTotal(result.samples, 1), maxTotal(result.samples, 2), maxTotal(result.samples, 3));
  const failedSteps = result.faults.filter((fault) => fault.error !== undefined);
  const faultDestroyed = perPhaseCounters(result.boundaries)[1]?.destroyed ?? 0;
  return [
    {
      name: `${name}: zero failed ops in the steady phases`,
      isPassed: steadyFailures.size === 0 && records[1].ops > 0 && records[3].ops > 0,
      detail: `phase 1: ${records[1].ops} ops, phase 3: ${records[3].ops} ops; failed: ${formatCounts(steadyFailures)}`
        + (steadyOps === 0 ? ' (no op ran)' : ''),
    },
    {
      name: `${name}: only expected errors in the fault phase`,
      isPassed: unexpected.size === 0 && records[2].ops > 0,
      detail: `${records[2].failed} of ${records[2].ops} failed: ${formatCounts(records[2].failures)}; `
        + `unexpected: ${formatCounts(unexpected)}; expected: ${result.expectedFaultErrors.join(', ')}`,
    },
    {
      name: `${name}: every op settled within ${settings.opDeadlineMs} ms`,
      isPassed: hung === 0,
      detail: `hung: phase 1 ${records[1].hung}, phase 2 ${records[2].hung}, phase 3 ${records[3].hung}`,
    },
    {
      name: `${name}: no connection creep in phase 3`,
      isPassed: creep.growth === 0,
      detail: `created ${creep.baseline} after its first ${settings.settleMs} ms, ${creep.final} at its end: +${creep.growth}`,
    },
    {
      name: `${name}: stats().total <= ${result.connectionLimit} (maxPerNode x nodes) at every sample`,
      isPassed: over.length === 0 && result.samples.length > 0,
      detail: `${result.samples.length} samples, max ${peak}`
        + (over.length > 0 ? `; over at ${over.slice(0, 5).map((s) => `${(s.atMs / 1000).toFixed(2)} s (${s.total})`).join(', ')}` : ''),
    },
    {
      name: `${name}: phase 1 uses no more connections than the load needs`,
      isPassed: maxTotal(result.samples, 1) <= result.connectionsNeeded,
      detail: `max total ${maxTotal(result.samples, 1)}, needed at most ${result.connectionsNeeded}`,
    },
    {
      name: `${name}: the faults ran and hit the pool`,
      isPassed: failedSteps.length === 0 && result.faults.length > 0 && faultDestroyed > 0,
      detail: `${result.faults.length - failedSteps.length} of ${result.faults.length} steps ran, `
        + `${faultDestroyed} connections destroyed in phase 2`
        + (failedSteps.length > 0 ? `; failed: ${failedSteps.map((f) => `${f.name}: ${f.error ?? ''}`).join('; ')}` : ''),
    },
    drainCheck(name, result.afterDrain),
  ];
}

function drainCheck(name: string, after: AfterDrain): Check {
  const checkName = `${name}: after drain(): created === destroyed, leases 0`;
  if ('error' in after) return { name: checkName, isPassed: false, detail: after.error };
  return {
    name: checkName,
    isPassed: after.created === after.destroyed && after.leases === 0 && after.total === 0,
    detail: `created ${after.created}, destroyed ${after.destroyed}, leases ${after.leases}, total ${after.total}`,
  };
}

/** Heap growth from the end of phase 1 to the end of phase 3, both read after a forced GC with the load held. */
export function heapCheck(heapAfterPhase1: number | undefined, heapAfterPhase3: number | undefined, boundBytes: number): Check {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
  const name = `heap: heapUsed grows by less than ${mb(boundBytes)} from the end of phase 1 to the end of phase 3`;
  if (heapAfterPhase1 === undefined || heapAfterPhase3 === undefined) {
    return { name, isPassed: false, detail: 'not measured: run node with --expose-gc' };
  }
  const growth = heapAfterPhase3 - heapAfterPhase1;
  return { name, isPassed: growth < boundBytes, detail: `${mb(heapAfterPhase1)} -> ${mb(heapAfterPhase3)}: ${growth >= 0 ? '+' : ''}${mb(growth)}` };
}

export function formatCheck(check: Check): string {
  return `${check.isPassed ? 'PASS' : 'FAIL'}  ${check.name} — ${check.detail}`;
}
