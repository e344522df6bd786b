import * as grpc from '@grpc/grpc-js';
import { createGrpcPool, type GrpcPoolOptions } from '@pool/grpc';
import { describe, expect, it } from 'vitest';
import { invalidOptionsError } from '@pool/testkit';

const insecure = grpc.credentials.createInsecure();
const nodes = [{ id: 'a', target: '127.0.0.1:1' }];

const invalid = (options: unknown): Error => invalidOptionsError(() => createGrpcPool(options as GrpcPoolOptions));

describe('option validation', () => {
  it.each([
    [{ nodes: [] }, /nodes.*non-empty/],
    [{ nodes: 'x' }, /nodes/],
    [{ nodes: [{ id: 'a' }] }, /nodes\[0\]\.target/],
    [{ nodes: [{ id: 'a', target: '' }] }, /nodes\[0\]\.target.*""/],
    [{ nodes, credentials: { key: 'secret-key-material' } }, /credentials.*ChannelCredentials/],
    [{ nodes, channelOptions: 5 }, /channelOptions: got 5/],
    [{ nodes, validationTimeoutMs: 0 }, /validationTimeoutMs: got 0.*> 0/],
    [{ nodes, healthCheck: true }, /healthCheck: got true/],
    [{ nodes, healthCheck: { service: 7 } }, /healthCheck\.service: got 7/],
  ])('rejects %j', (options, message) => {
    const error = invalid({ credentials: insecure, ...options });
    expect(error.message).toMatch(message);
  });

  it('never prints credentials', () => {
    const error = invalid({ nodes, credentials: { key: 'secret-key-material' } });
    expect(error.message).not.toContain('secret-key-material');
  });

  it('pool options go to core, which names them', () => {
    const error = invalid({ nodes, credentials: insecure, maxPerNode: -1 });
    expect(error.message).toMatch(/maxPerNode/);
    expect(invalid({ nodes, credentials: insecure, maxLeasesPerConnection: 0 }).message).toMatch(/maxLeasesPerConnection/);
  });

  it('defaults maxLeasesPerConnection to 100 and creates nothing until asked', async () => {
    const pool = createGrpcPool({ nodes, credentials: insecure });
    expect(pool.stats().total).toBe(0);
    expect(pool.nodes.map((node) => node.id)).toEqual(['a']);
    await pool.close();
  });
});

describe('pool name', () => {
  it('defaults to the first target, and name overrides it', async () => {
    const pool = createGrpcPool({ nodes, credentials: insecure });
    const named = createGrpcPool({ nodes, credentials: insecure, name: 'inventory' });
    expect(pool.stats().name).toBe('127.0.0.1:1');
    expect(named.stats().name).toBe('inventory');
    await Promise.all([pool.close(), named.close()]);
  });
});
