import type { Redis } from 'ioredis';

/**
 * Who else waits for a permit of a node, across the fleet: a sorted set `<node key>:waiting` of
 * replica ids scored by when their entry expires. A replica keeps its entry fresh while any of
 * its creates waits for a permit of that node, and reads the others' at each tick; permits then
 * cycle (permit.ts) only when another replica actually waits.
 */
export class Contention {
  /** Creates of this replica waiting for a permit, by node key. */
  private readonly waiting = new Map<string, number>();
  /** Other replicas waiting for this node key at the last tick. */
  private readonly others = new Map<string, number>();
  private readonly watched = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly replicaId: string,
    private readonly entryMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  isContended(nodeKey: string): boolean {
    return (this.others.get(nodeKey) ?? 0) > 0;
  }

  /** This replica's fair share of `max` permits while others wait: max / (them + us), rounded up. */
  fairShare(nodeKey: string, max: number): number {
    return Math.ceil(max / ((this.others.get(nodeKey) ?? 0) + 1));
  }

  /** A create of this replica starts waiting for a permit of `nodeKey`. */
  startWaiting(nodeKey: string): void {
    const count = (this.waiting.get(nodeKey) ?? 0) + 1;
    this.waiting.set(nodeKey, count);
    this.watched.add(nodeKey);
    if (count === 1) void this.announce(nodeKey);
  }

  stopWaiting(nodeKey: string): void {
    const count = (this.waiting.get(nodeKey) ?? 1) - 1;
    if (count > 0) {
      this.waiting.set(nodeKey, count);
      return;
    }
    this.waiting.delete(nodeKey);
    this.redis.zrem(`${nodeKey}:waiting`, this.replicaId).catch(this.onError);
  }

  /** Keeps a node key's contention read at each tick while this replica holds permits of it. */
  watch(nodeKey: string): void {
    this.watched.add(nodeKey);
  }

  /** One round: refresh our entries, read the others'. One pipeline for every node key. */
  async tick(heldKeys: ReadonlySet<string>): Promise<void> {
    const now = Date.now();
    const keys = [...this.watched].filter((key) => heldKeys.has(key) || this.waiting.has(key));
    this.watched.clear();
    for (const key of keys) this.watched.add(key);
    if (keys.length === 0) return;
    const pipeline = this.redis.pipeline();
    const announced = keys.map((key) => this.waiting.has(key));
    for (const [i, key] of keys.entries()) {
      const set = `${key}:waiting`;
      pipeline.zremrangebyscore(set, '-inf', now);
      if (announced[i]) pipeline.zadd(set, now + this.entryMs, this.replicaId);
      pipeline.pexpire(set, this.entryMs * 2);
      pipeline.zrangebyscore(set, now, '+inf');
    }
    try {
      const results = await pipeline.exec();
      let index = 0;
      for (const [i, key] of keys.entries()) {
        index += announced[i] ? 3 : 2;
        const [error, members] = results?.[index++] ?? [new Error('no reply')];
        if (error) throw error;
        this.others.set(key, (members as string[]).filter((member) => member !== this.replicaId).length);
      }
    } catch (error) {
      this.onError(error);
    }
  }

  private async announce(nodeKey: string): Promise<void> {
    try {
      await this.redis.zadd(`${nodeKey}:waiting`, Date.now() + this.entryMs, this.replicaId);
    } catch (error) {
      this.onError(error);
    }
  }
}
