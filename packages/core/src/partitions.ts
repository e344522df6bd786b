import type { PartitionOptions } from './options.js';

/** A named operation type with a hard cap on the leases it holds at once. */
export class PartitionState {
  /** Leases of this partition outstanding. */
  active = 0;
  /** Waiters naming this partition. */
  waiting = 0;
  readonly max: number;
  readonly priority: number;

  constructor(
    readonly name: string,
    options: PartitionOptions,
  ) {
    this.max = options.max;
    this.priority = options.priority ?? 0;
  }

  get hasRoom(): boolean {
    return this.active < this.max;
  }
}

export function createPartitions(options: Record<string, PartitionOptions>): Map<string, PartitionState> {
  const partitions = new Map<string, PartitionState>();
  for (const [name, partition] of Object.entries(options)) partitions.set(name, new PartitionState(name, partition));
  return partitions;
}
