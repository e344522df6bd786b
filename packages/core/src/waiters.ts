import type { PoolNode } from './options.js';
import { PriorityLevel, type Waiter } from './records.js';

/**
 * Waiters in service order: highest effective priority first, FIFO within a priority. A
 * waiter's effective priority grows by one for every `agingMs` it has waited, so sustained
 * high-priority load delays a low-priority waiter by a bounded amount instead of starving it.
 */
export class WaiterQueue<C, N extends PoolNode> {
  size = 0;
  private sequence = 0;
  /** Levels sorted by priority, highest first. Few in practice (one per distinct priority). */
  private readonly levels: PriorityLevel<C, N>[] = [];

  constructor(private readonly agingMs: number) {}

  /** The first waiter when every waiter has one priority (the common case); else undefined. */
  get soleHead(): Waiter<C, N> | undefined {
    return this.levels.length === 1 ? this.levels[0]!.head : undefined;
  }

  nextSequence(): number {
    return this.sequence++;
  }

  push(waiter: Waiter<C, N>): void {
    const level = this.levelOf(waiter.priority);
    waiter.level = level;
    waiter.prev = level.tail;
    if (level.tail) level.tail.next = waiter;
    else level.head = waiter;
    level.tail = waiter;
    this.size++;
  }

  remove(waiter: Waiter<C, N>): void {
    const level = waiter.level;
    if (!level) return;
    if (level.cursor === waiter) level.cursor = waiter.next;
    if (waiter.prev) waiter.prev.next = waiter.next;
    else level.head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else level.tail = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
    waiter.level = undefined;
    this.size--;
  }

  /**
   * Starts an iteration in service order at time `now`; call `advance()` for each waiter.
   * Removing the current waiter during the iteration is safe.
   */
  startIteration(): void {
    for (const level of this.levels) level.cursor = level.head;
  }

  advance(now: number): Waiter<C, N> | undefined {
    const levels = this.levels;
    if (levels.length === 1) {
      const level = levels[0]!;
      const waiter = level.cursor;
      if (waiter) level.cursor = waiter.next;
      return waiter;
    }
    let best: Waiter<C, N> | undefined;
    let bestLevel: PriorityLevel<C, N> | undefined;
    let bestPriority = -Infinity;
    for (const level of levels) {
      const candidate = level.cursor;
      if (!candidate) continue;
      const effective = this.effectivePriority(candidate, now);
      if (effective > bestPriority || (effective === bestPriority && best !== undefined && candidate.sequence < best.sequence)) {
        best = candidate;
        bestLevel = level;
        bestPriority = effective;
      }
    }
    if (bestLevel && best) bestLevel.cursor = best.next;
    return best;
  }

  effectivePriority(waiter: Waiter<C, N>, now: number): number {
    return this.agingMs === Infinity ? waiter.priority : waiter.priority + Math.floor((now - waiter.enqueuedAt) / this.agingMs);
  }

  /** Every waiter, in no particular order; the callback may remove the waiter it is given. */
  forEach(visit: (waiter: Waiter<C, N>) => void): void {
    for (const level of this.levels) {
      let waiter = level.head;
      while (waiter) {
        const next = waiter.next;
        visit(waiter);
        waiter = next;
      }
    }
  }

  private levelOf(priority: number): PriorityLevel<C, N> {
    const levels = this.levels;
    let index = 0;
    while (index < levels.length && levels[index]!.priority > priority) index++;
    const existing = levels[index];
    if (existing && existing.priority === priority) return existing;
    const level = new PriorityLevel<C, N>(priority);
    levels.splice(index, 0, level);
    return level;
  }
}
