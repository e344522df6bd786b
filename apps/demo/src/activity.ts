import type { PoolName } from './config.js';
import type { PoolView } from './pools.js';
import { describeError } from './workload.js';

export interface ActivityEntry {
  seq: number;
  at: number;
  pool?: PoolName;
  node?: string;
  kind: 'fault' | 'circuit' | 'create-error' | 'destroy' | 'load' | 'info';
  message: string;
}

const KEEP = 200;
/** Create errors and broken connections repeat fast while a peer is down: one line per node per this long. */
const REPEAT_QUIET_MS = 2_000;

/** The dashboard's activity log: faults injected, circuits opening and closing, connections breaking. */
export class ActivityLog {
  readonly #entries: ActivityEntry[] = [];
  #seq = 0;
  readonly #lastRepeat = new Map<string, number>();

  constructor(private readonly secrets: readonly string[]) {}

  add(entry: Omit<ActivityEntry, 'seq' | 'at'>): ActivityEntry {
    const full: ActivityEntry = { ...entry, seq: ++this.#seq, at: Date.now() };
    this.#entries.push(full);
    if (this.#entries.length > KEEP) this.#entries.splice(0, this.#entries.length - KEEP);
    return full;
  }

  /** The last `count` entries, oldest first. */
  recent(count = 40): ActivityEntry[] {
    return this.#entries.slice(-count);
  }

  /** Subscribes to the events of one pool that a person watching the dashboard cares about. */
  watch(name: PoolName, pool: PoolView): void {
    pool.on('circuitOpen', ({ node, failures }) =>
      this.add({ pool: name, node, kind: 'circuit', message: `circuit OPEN after ${failures} failed creates` }));
    pool.on('circuitClose', ({ node }) => this.add({ pool: name, node, kind: 'circuit', message: 'circuit closed' }));
    pool.on('createError', ({ node, error, attempt }) => {
      if (!this.#quiet(`${name}/${node}/create`)) return;
      const { code, message } = describeError(error, this.secrets);
      this.add({ pool: name, node, kind: 'create-error', message: `create failed (attempt ${attempt}): ${code}: ${message}` });
    });
    pool.on('destroy', ({ node, reason }) => {
      if (reason !== 'broken' && reason !== 'invalid') return;
      if (!this.#quiet(`${name}/${node}/destroy/${reason}`)) return;
      this.add({ pool: name, node, kind: 'destroy', message: `connection destroyed: ${reason}` });
    });
  }

  #quiet(key: string): boolean {
    const now = Date.now();
    const last = this.#lastRepeat.get(key) ?? 0;
    if (now - last < REPEAT_QUIET_MS) return false;
    this.#lastRepeat.set(key, now);
    return true;
  }
}
