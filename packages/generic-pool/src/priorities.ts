import type { AcquireOptions } from '@pool/core';

/**
 * generic-pool's priority slots on core's priorities: slot 0 is the highest and core serves higher
 * numbers first, so slot n is core priority -n. One options object per slot, made once.
 */
export class PrioritySlots {
  private readonly slotOptions: (AcquireOptions | undefined)[] = [undefined];

  constructor(private readonly range: number) {}

  /** generic-pool's slot: the integer part, 0 when missing, the lowest slot when out of range. */
  slotOf(priority: number | undefined): number {
    const slot = (priority && +priority | 0) || 0;
    return slot < 0 || slot >= this.range ? this.range - 1 : slot;
  }

  /** Core's acquire options for a priority; undefined (core's default) for slot 0. */
  optionsFor(priority: number | undefined): AcquireOptions | undefined {
    if (priority === undefined || this.range === 1) return undefined;
    const slot = this.slotOf(priority);
    let options = this.slotOptions[slot];
    if (options === undefined && slot > 0) this.slotOptions[slot] = options = { priority: -slot };
    return options;
  }

  /** A caller's own core options with the slot's priority. */
  withOptions(priority: number | undefined, options: Omit<AcquireOptions, 'priority'>): AcquireOptions {
    return { ...options, priority: -this.slotOf(priority) };
  }
}
