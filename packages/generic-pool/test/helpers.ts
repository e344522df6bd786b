import type { Pool } from '../src/index.js';

/** A factory counting what it made and destroyed, resources numbered from 0 (like the upstream suite's). */
export class CountingFactory {
  created = 0;
  destroyed = 0;
  readonly bin: { id: number }[] = [];

  create(): Promise<{ id: number }> {
    return Promise.resolve({ id: this.created++ });
  }

  validate(): Promise<boolean> {
    return Promise.resolve(true);
  }

  destroy(resource: { id: number }): Promise<void> {
    this.destroyed++;
    this.bin.push(resource);
    return Promise.resolve();
  }
}

/** drain() then clear(), the documented shutdown. */
export async function stopPool<T>(pool: Pool<T>): Promise<void> {
  await pool.drain();
  await pool.clear();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
