import { channel, subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, createPool, isPoolError, type Lease } from '@pool/core';
import { FakeClock, trackingFactory } from '@pool/testkit';

type Seen = { channel: string; message: Record<string, unknown> };

/** Subscribes to every channel of @pool/core, recording a copy of each message as published. */
function record(): { seen: Seen[]; stop(): void } {
  const seen: Seen[] = [];
  const copy = (name: string) => (message: unknown) => seen.push({ channel: name, message: { ...(message as object) } });
  const acquire = { start: copy('acquire:start'), end: copy('acquire:end'), asyncStart: copy('acquire:asyncStart'), asyncEnd: copy('acquire:asyncEnd'), error: copy('acquire:error') };
  const create = { start: copy('create:start'), end: copy('create:end'), asyncStart: copy('create:asyncStart'), asyncEnd: copy('create:asyncEnd'), error: copy('create:error') };
  const release = copy('release');
  const destroy = copy('destroy');
  tracingChannel(CHANNELS.acquire).subscribe(acquire);
  tracingChannel(CHANNELS.create).subscribe(create);
  subscribe(CHANNELS.release, release);
  subscribe(CHANNELS.destroy, destroy);
  return {
    seen,
    stop() {
      tracingChannel(CHANNELS.acquire).unsubscribe(acquire);
      tracingChannel(CHANNELS.create).unsubscribe(create);
      unsubscribe(CHANNELS.release, release);
      unsubscribe(CHANNELS.destroy, destroy);
    },
  };
}

let recorder: ReturnType<typeof record> | undefined;
afterEach(() => {
  recorder?.stop();
  recorder = undefined;
});

describe('diagnostics channels', () => {
  it('uses the names the docs give', () => {
    expect(CHANNELS).toEqual({
      acquire: '@pool/core:acquire',
      create: '@pool/core:create',
      release: '@pool/core:release',
      destroy: '@pool/core:destroy',
    });
  });

  it('traces an acquire (start, end, asyncStart, asyncEnd with the lease), its create, the release and the destroy', async () => {
    recorder = record();
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, name: 'orders-db', nodes: [{ id: 'a' }, { id: 'b' }], partitions: { api: { max: 2, priority: 7 } } });
    const lease = await pool.acquire({ node: 'b', partition: 'api' });
    await clock.advance(25);
    await lease.release();
    await pool.drain();
    const { seen } = recorder;
    const names = seen.map((entry) => entry.channel);
    expect(names.filter((name) => name.startsWith('acquire:'))).toEqual(['acquire:start', 'acquire:end', 'acquire:asyncStart', 'acquire:asyncEnd']);
    expect(names.filter((name) => name.startsWith('create:'))).toEqual(['create:start', 'create:end', 'create:asyncStart', 'create:asyncEnd']);
    const start = seen.find((entry) => entry.channel === 'acquire:start')!.message;
    expect(start).toEqual({ pool: 'orders-db', node: 'b', partition: 'api', priority: 7 });
    const asyncEnd = seen.find((entry) => entry.channel === 'acquire:asyncEnd')!.message;
    expect((asyncEnd['result'] as Lease<unknown>).node.id).toBe('b');
    expect(seen.find((entry) => entry.channel === 'create:start')!.message).toEqual({ pool: 'orders-db', node: 'b' });
    expect(seen.find((entry) => entry.channel === 'create:asyncEnd')!.message['result']).toMatchObject({ node: 'b' });
    expect(seen.find((entry) => entry.channel === 'release')!.message).toEqual({ pool: 'orders-db', node: 'b', heldMs: 25, partition: 'api' });
    expect(seen.find((entry) => entry.channel === 'destroy')!.message).toEqual({ pool: 'orders-db', node: 'b', reason: 'drain' });
    // The create happened inside the acquire's trace: start of acquire, then of create.
    expect(names.indexOf('acquire:start')).toBeLessThan(names.indexOf('create:start'));
  });

  it('a failed acquire ends with error (the PoolError) at error and asyncEnd; a failed create attempt is traced per attempt', async () => {
    recorder = record();
    const factory = trackingFactory();
    factory.failingNodes.add('default');
    const pool = createPool({ factory, createRetry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 } });
    const error = await pool.acquire({ priority: 3 }).catch((caught: unknown) => caught);
    expect(isPoolError(error) && error.code).toBe('CREATE_FAILED');
    await pool.drain();
    const { seen } = recorder;
    const failure = seen.find((entry) => entry.channel === 'acquire:error')!.message;
    expect(failure).toMatchObject({ pool: 'pool', priority: 3, error });
    expect(seen.find((entry) => entry.channel === 'acquire:asyncEnd')!.message['error']).toBe(error);
    const createErrors = seen.filter((entry) => entry.channel === 'create:error');
    expect(createErrors).toHaveLength(2);
    expect(String(createErrors[0]!.message['error'])).toMatch(/ECONNREFUSED/);
  });

  it('tryAcquire publishes one whole trace when it hands out a lease, nothing when it does not', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1 });
    await (await pool.acquire()).release();
    recorder = record();
    const lease = pool.tryAcquire()!;
    expect(pool.tryAcquire()).toBeUndefined();
    const acquires = recorder.seen.filter((entry) => entry.channel.startsWith('acquire:'));
    expect(acquires.map((entry) => entry.channel)).toEqual(['acquire:start', 'acquire:end', 'acquire:asyncStart', 'acquire:asyncEnd']);
    expect(acquires[3]!.message['result']).toBe(lease);
    await lease.release();
    await pool.drain();
  });

  it('publishes nothing and builds nothing when nobody subscribes', async () => {
    expect(tracingChannel(CHANNELS.acquire).hasSubscribers).toBe(false);
    expect(channel(CHANNELS.release).hasSubscribers).toBe(false);
    const pool = createPool({ factory: trackingFactory() });
    // A late subscriber sees only what happens after it subscribed.
    await (await pool.acquire()).release();
    recorder = record();
    await (await pool.acquire()).release();
    expect(recorder.seen.map((entry) => entry.channel)).toEqual(['acquire:start', 'acquire:end', 'acquire:asyncStart', 'acquire:asyncEnd', 'release']);
    await pool.drain();
  });
});
