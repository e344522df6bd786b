import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../src/demo.js';
import { nodeOf, poolOf, postJson, waitFor, waitUntilWarm } from './helpers.js';

const POOLS = ['pg', 'http2', 'grpc', 'ssh', 'tcp'];
let demo: Demo;

beforeAll(async () => {
  demo = await startDemo({ port: 0, rate: 10 });
  await waitUntilWarm(demo);
});

afterAll(async () => {
  await demo?.stop();
});

function expectNoSecret(text: string): void {
  expect(demo.peers.secrets.length).toBeGreaterThan(0);
  for (const secret of demo.peers.secrets) expect(text.includes(secret)).toBe(false);
}

/** The value of one sample line of a Prometheus exposition, e.g. `pool_node_leases{pool_name="pg",node="pg-primary"}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const labelText = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const parts = inside.split(',');
    if (labelText.every((label) => parts.includes(label)) && parts.length === labelText.length) {
      return Number(line.slice(line.indexOf('}') + 1).trim());
    }
  }
  return undefined;
}

describe('the demo, in process', () => {
  it('serves /metrics in the Prometheus text format through @pool/prometheus, read from every pool', async () => {
    const response = await fetch(`${demo.url}metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('# TYPE db_client_connection_count gauge');
    expect(text).toContain('# TYPE db_client_connection_wait_time_seconds histogram');
    expect(text).toContain('# TYPE db_client_connection_use_time_seconds histogram');
    expect(text).toContain('# TYPE pool_node_acquires_total counter');
    for (const pool of POOLS) {
      const labels = { pool_name: pool };
      expect(sample(text, 'db_client_connection_max', labels), `max of ${pool}`).toBeGreaterThan(0);
      expect(sample(text, 'db_client_connection_wait_time_seconds_bucket', { ...labels, le: '+Inf' }), `waits of ${pool}`).toBeGreaterThan(0);
      expect(sample(text, 'db_client_connection_use_time_seconds_count', labels), `uses of ${pool}`).toBeGreaterThan(0);
      expect(sample(text, 'db_client_connection_create_time_seconds_count', labels), `creates of ${pool}`).toBeGreaterThan(0);
    }
    expect(sample(text, 'pool_node_acquires_total', { pool_name: 'pg', node: 'pg-primary' })).toBeGreaterThan(0);
    expect(sample(text, 'pool_node_connections_created_total', { pool_name: 'ssh', node: 'ssh-1' })).toBeGreaterThan(0);
    expect(sample(text, 'pool_node_circuit_state', { pool_name: 'tcp', node: 'echo-a', state: 'closed' })).toBe(1);
    expect(sample(text, 'pool_node_healthy', { pool_name: 'grpc', node: 'grpc-b' })).toBe(1);
    expect(sample(text, 'pool_partition_max', { pool_name: 'pg', partition: 'api' })).toBe(4);
    expect(sample(text, 'pool_partition_max', { pool_name: 'pg', partition: 'batch' })).toBe(2);
    // The pools' own families only come from @pool/prometheus: none of the old hand-written ones.
    expect(text).not.toMatch(/^pool_connections\{/m);
    expect(text).not.toMatch(/^pool_acquire_wait_seconds/m);
    expect(sample(text, 'demo_operations_total', { operation: 'ssh', outcome: 'ok' })).toBeGreaterThan(0);
    expectNoSecret(text);
  });

  it('answers /health with every pool healthy and status 200', async () => {
    const response = await fetch(`${demo.url}health`);
    const body = (await response.json()) as { healthy: boolean; pools: Record<string, { healthy: boolean; nodes: object }> };
    expect(response.status).toBe(200);
    expect(body.healthy).toBe(true);
    expect(Object.keys(body.pools).sort()).toEqual([...POOLS].sort());
    for (const pool of POOLS) expect(body.pools[pool]?.healthy, pool).toBe(true);
    expect(Object.keys(body.pools['tcp']?.nodes ?? {}).sort()).toEqual(['echo-a', 'echo-b']);
  });

  it('a stopped TCP peer: its circuit opens, /health turns 503, traffic fails over, and all heals after a restart', async () => {
    const stop = await postJson(`${demo.url}api/fault`, { id: 'tcp/echo-b/stop' });
    expect(stop.status).toBe(200);
    await waitFor('the circuit of echo-b to open', () => nodeOf(demo.snapshot(), 'tcp', 'echo-b').circuit === 'open', 15_000);
    expect(nodeOf(demo.snapshot(), 'tcp', 'echo-b').running).toBe(false);

    const health = await fetch(`${demo.url}health`);
    const report = (await health.json()) as { healthy: boolean; pools: Record<string, { healthy: boolean }> };
    expect(health.status).toBe(503);
    expect(report.pools['tcp']?.healthy).toBe(false);
    expect(report.pools['pg']?.healthy).toBe(true);

    // echo-a carries the load meanwhile.
    const okBefore = demo.workload.stats().tcp.ok;
    await waitFor('TCP round trips to go on through echo-a', () => demo.workload.stats().tcp.ok >= okBefore + 10, 10_000);

    const start = await postJson(`${demo.url}api/fault`, { id: 'tcp/echo-b/start' });
    expect(start.status).toBe(200);
    await waitFor('echo-b to be healthy with its circuit closed', () => {
      const node = nodeOf(demo.snapshot(), 'tcp', 'echo-b');
      return node.circuit === 'closed' && node.healthy && node.running;
    }, 15_000);
    await waitFor('/health to answer 200 again', async () => (await fetch(`${demo.url}health`)).status === 200, 10_000);
    const activity = demo.activity.recent(200).map((entry) => entry.message).join('\n');
    expect(activity).toContain('circuit OPEN');
    expect(activity).toContain('circuit closed');
  });

  it('pg_terminate_backend: the pg pool replaces the killed connections and queries go on', async () => {
    const before = poolOf(demo.snapshot(), 'pg').stats;
    const okBefore = demo.workload.stats()['pg-api'].ok;
    const result = await postJson(`${demo.url}api/fault`, { id: 'pg/terminate' });
    expect(result.status).toBe(200);
    expect(String(result.body['message'])).toMatch(/pg_terminate_backend: \d+ backends/);
    await waitFor('broken pg connections to be destroyed and replaced', () => {
      const stats = poolOf(demo.snapshot(), 'pg').stats;
      return stats.destroyed > before.destroyed && stats.created > before.created;
    }, 10_000);
    await waitFor('pg queries to succeed again', () => demo.workload.stats()['pg-api'].ok >= okBefore + 10, 10_000);
  });

  it('HTTP/2 GOAWAY: new sessions replace the closed ones and requests go on', async () => {
    const createdBefore = poolOf(demo.snapshot(), 'http2').stats.created;
    for (const id of ['http2/h2-a/goaway', 'http2/h2-b/goaway']) expect((await postJson(`${demo.url}api/fault`, { id })).status).toBe(200);
    await waitFor('new HTTP/2 sessions', () => poolOf(demo.snapshot(), 'http2').stats.created > createdBefore, 10_000);
    const okAfter = demo.workload.stats().http2.ok;
    await waitFor('HTTP/2 requests to go on', () => demo.workload.stats().http2.ok >= okAfter + 10, 10_000);
  });

  it('changes the load from the control endpoint and rejects bad requests', async () => {
    expect((await postJson(`${demo.url}api/load`, { rate: 5 })).status).toBe(200);
    expect(demo.workload.rate).toBe(5);
    expect((await postJson(`${demo.url}api/load`, { rate: -1 })).status).toBe(400);
    expect((await postJson(`${demo.url}api/load`, { rate: 'lots' })).status).toBe(400);
    expect((await postJson(`${demo.url}api/fault`, { id: 'nope/nothing' })).status).toBe(404);
    const form = await fetch(`${demo.url}api/load`, { method: 'POST', body: 'rate=50', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    expect(demo.workload.rate).toBe(5);
    expect((await fetch(`${demo.url}nowhere`)).status).toBe(404);
  });

  it('streams snapshots over server-sent events, without secrets', async () => {
    const controller = new AbortController();
    const response = await fetch(`${demo.url}events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const started = Date.now();
    // hello + the first snapshot + at least two ticks of 250 ms
    while ((text.match(/^data: /gm)?.length ?? 0) < 4 && Date.now() - started < 5_000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('event: hello');
    const snapshots = text.split('\n').filter((line) => line.startsWith('data: {"at"'));
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    const first = JSON.parse(snapshots[0]!.slice(6)) as { pools: { name: string }[] };
    expect(first.pools.map((pool) => pool.name)).toEqual(POOLS);
    expectNoSecret(text);
    expectNoSecret(await (await fetch(`${demo.url}api/state`)).text());
    expectNoSecret(await (await fetch(`${demo.url}health`)).text());
  });
});

describe('every stop and start button', () => {
  it('stops every embedded server at once; after the restarts every pool heals and every operation succeeds again', async () => {
    const stops = demo.peers.nodes.map((node) => `${node.pool}/${node.id}/stop`);
    expect(stops).toHaveLength(8);
    const stopped = await Promise.all(stops.map((id) => postJson(`${demo.url}api/fault`, { id })));
    expect(stopped.map((result) => result.status)).toEqual(stops.map(() => 200));
    await waitFor('every circuit to leave closed', () =>
      demo.snapshot().pools.every((pool) => pool.nodes.every((node) => !node.running && node.circuit !== 'closed')), 20_000);
    expect((await fetch(`${demo.url}health`)).status).toBe(503);

    const started = await Promise.all(stops.map((id) => postJson(`${demo.url}api/fault`, { id: id.replace(/stop$/, 'start') })));
    expect(started.map((result) => result.status)).toEqual(stops.map(() => 200));
    const okAfterStart = demo.workload.stats();
    await waitFor('every node healthy with its circuit closed', () =>
      demo.snapshot().pools.every((pool) => pool.nodes.every((node) => node.running && node.healthy && node.circuit === 'closed')), 20_000);
    await waitFor('every operation to succeed again', () => {
      const now = demo.workload.stats();
      return Object.entries(now).every(([name, op]) => op.ok >= okAfterStart[name as keyof typeof now].ok + 3);
    }, 15_000);
    await waitFor('/health to answer 200 again', async () => (await fetch(`${demo.url}health`)).status === 200, 10_000);
  });
});
