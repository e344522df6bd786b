import type { Permit } from '@pool/core';
import type { Contention } from './contention.js';
import type { FleetSemaphore } from './semaphore.js';

/** One permit: a held redis-semaphore slot, refreshed until released or lost. */
export class FleetPermit implements Permit {
  private readonly controller = new AbortController();
  readonly lost: AbortSignal = this.controller.signal;
  private readonly acquiredAt = Date.now();
  private isReleased = false;
  private wantedListener: (() => void) | undefined = undefined;

  constructor(
    private readonly semaphore: FleetSemaphore,
    readonly nodeKey: string,
    private readonly leaseMs: number,
    private readonly holdMs: number,
    private readonly contention: Contention,
    private readonly onDone: (permit: FleetPermit) => void,
    private readonly isOverShare: () => boolean,
  ) {}

  /** Fair cycling: another replica waits for this node, and this one held it long enough or holds more than its share. */
  shouldReturn(): boolean {
    if (!this.contention.isContended(this.nodeKey)) return false;
    return Date.now() - this.acquiredAt >= this.holdMs || this.isOverShare();
  }

  onWanted(listener: () => void): void {
    this.wantedListener = listener;
  }

  /** Another replica waits for this node: an idle connection on this permit is closed. */
  notifyWanted(): void {
    if (!this.isReleased && !this.lost.aborted) this.wantedListener?.();
  }

  async release(): Promise<void> {
    if (this.isReleased) return;
    this.isReleased = true;
    this.onDone(this);
    await this.semaphore.release();
  }

  /** Lost when Redis said so at a refresh, or when no refresh got through for a whole lease. */
  checkLease(now: number): void {
    if (now - this.semaphore.confirmedAt > this.leaseMs) {
      this.markLost(new Error(`No refresh of the permit reached Redis for ${now - this.semaphore.confirmedAt} ms (leaseMs ${this.leaseMs})`));
    }
  }

  markLost(reason: unknown): void {
    if (this.controller.signal.aborted || this.isReleased) return;
    this.semaphore.stop();
    this.controller.abort(reason);
  }
}
