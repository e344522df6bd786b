/**
 * The floor any pool pays: an array of idle connections, a count of connections created and a
 * FIFO of waiting resolvers. No timeouts, validation, limits per node, stats or events; a
 * released connection goes straight to the oldest waiter. Real pools are measured against it.
 */
export class BarePool<C> {
  private readonly idle: C[] = [];
  private readonly waiters = new Fifo<(connection: C) => void>();
  private created = 0;

  constructor(
    private readonly create: () => C | Promise<C>,
    readonly max: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be an integer >= 1, got ${max}`);
  }

  /** Connections created and not lost to a failed create. */
  get size(): number {
    return this.created;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<C> {
    const connection = this.idle.pop();
    if (connection !== undefined) return Promise.resolve(connection);
    if (this.created < this.max) {
      this.created++;
      return Promise.resolve(this.create()).catch((error: unknown) => {
        this.created--;
        throw error;
      });
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(connection: C): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(connection);
    else this.idle.push(connection);
  }
}

/** A growable ring buffer: O(1) push and shift, no `Array.shift` copying. */
export class Fifo<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
