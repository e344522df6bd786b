import { performance } from 'node:perf_hooks';
import { errorDetails, errorLabel } from './errors.js';
import { PhaseRecord, type Phase } from './phases.js';
import { sleep, type LoadControl, type SoakTarget } from './target.js';

/**
 * A caller whose operation failed waits this long before the next one, as a real client backs
 * off: without it, a pool failing fast (an open circuit) turns the callers into a busy loop that
 * starves every other transport of CPU.
 */
const FAILURE_BACKOFF_MS = 50;

type Outcome = { error?: unknown; isHung: boolean };

/** `promise`'s outcome, or hung when it has not settled within `deadlineMs` (then it is abandoned). */
function settleWithin(promise: Promise<void>, deadlineMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ isHung: true }), deadlineMs);
    promise.then(
      () => { clearTimeout(timer); resolve({ isHung: false }); },
      (error: unknown) => { clearTimeout(timer); resolve({ error, isHung: false }); },
    );
  });
}

/**
 * `target.concurrency` callers running `target.op` back to back (a closed loop: the load is as
 * high as the pool lets it be), each operation counted in the phase it started in.
 */
export class Load implements LoadControl {
  readonly records: Record<Phase, PhaseRecord> = { 1: new PhaseRecord(), 2: new PhaseRecord(), 3: new PhaseRecord() };
  #phase: Phase = 1;
  #phaseStartedAt = performance.now();
  #pausedUntil = 0;
  #isHeld = false;
  #resumed: Promise<void> = Promise.resolve();
  #resume: () => void = () => {};
  #isStopped = false;
  #inFlight = 0;
  #sequence = 0;
  #callers: Promise<void>[] = [];

  constructor(private readonly target: SoakTarget, private readonly opDeadlineMs: number) {}

  get phase(): Phase {
    return this.#phase;
  }

  /** Operations started from now on count in `phase`. */
  startPhase(phase: Phase): void {
    this.#phase = phase;
    this.#phaseStartedAt = performance.now();
  }

  start(): void {
    this.#phaseStartedAt = performance.now();
    for (let i = 0; i < this.target.concurrency; i++) this.#callers.push(this.#caller());
  }

  idle(ms: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + ms);
    return sleep(ms);
  }

  /** Stops starting operations and resolves once none is running (hung ones are abandoned at their deadline). */
  async hold(): Promise<void> {
    if (!this.#isHeld) {
      this.#isHeld = true;
      this.#resumed = new Promise((resolve) => { this.#resume = resolve; });
    }
    while (this.#inFlight > 0) await sleep(5);
  }

  resume(): void {
    this.#isHeld = false;
    this.#resume();
  }

  /** Stops the callers for good; resolves when they have returned. */
  async stop(): Promise<void> {
    this.#isStopped = true;
    this.resume();
    await Promise.all(this.#callers);
  }

  async #caller(): Promise<void> {
    while (!this.#isStopped) {
      if (this.#isHeld) {
        await this.#resumed;
        continue;
      }
      const pauseMs = this.#pausedUntil - performance.now();
      if (pauseMs > 0) {
        await sleep(pauseMs);
        continue;
      }
      await this.#runOne();
    }
  }

  async #runOne(): Promise<void> {
    const record = this.records[this.#phase];
    const sequence = ++this.#sequence;
    record.ops++;
    this.#inFlight++;
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = await settleWithin(this.target.op(sequence), this.opDeadlineMs);
    } catch (error) {
      // op threw synchronously.
      outcome = { error, isHung: false };
    }
    this.#inFlight--;
    if (outcome.isHung) {
      record.hung++;
      return;
    }
    record.latency.record(performance.now() - started);
    if (!('error' in outcome)) {
      record.ok++;
      return;
    }
    const error = outcome.error;
    const atS = ((started - this.#phaseStartedAt) / 1000).toFixed(2);
    record.fail(errorLabel(error), () => `(op started ${atS} s into the phase)\n${errorDetails(error)}`);
    await sleep(FAILURE_BACKOFF_MS);
  }
}
