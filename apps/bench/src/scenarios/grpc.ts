import * as grpc from '@grpc/grpc-js';
import { createGrpcPool } from '@pool/grpc';
import { loadTestService, startGrpcServer, type EchoReply, type TestServiceClient } from '@pool/testkit/grpc';
import { collectGarbage, envNumber, medianRow, runCallers, withRatios, type BenchRow, type BenchTable, type Contestant } from '../harness.js';

const CALLS = 10_000;
const CONCURRENCY = 500;
const CHANNELS = 4;
const ONE_CLIENT = 'one grpc-js client';

const rounds = envNumber('BENCH_ROUNDS', 3);

const request = { message: 'bench' };

function callOnce(call: (callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void) => unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    call((error, reply) => (error ? reject(error) : resolve(reply)));
  });
}

/**
 * Unary calls at high concurrency: @pool/grpc spreading them over 4 channels (4 HTTP/2
 * connections) against one grpc-js client (one connection), same server, same run, rounds
 * interleaved. Each round is 10,000 calls by 500 concurrent callers.
 */
export async function run(): Promise<BenchTable> {
  const server = await startGrpcServer();
  const { TestService } = loadTestService();
  const insecure = grpc.credentials.createInsecure();
  const contestants: Contestant[] = [];
  try {
    const single = new TestService(server.target, insecure);
    contestants.push({
      name: ONE_CLIENT,
      op: () => callOnce((callback) => single.Unary(request, callback)),
      close: () => single.close(),
    });

    const makePool = (maxLeasesPerConnection?: number) =>
      createGrpcPool({
        nodes: [{ id: 'bench', target: server.target }],
        credentials: insecure,
        maxPerNode: CHANNELS,
        minIdlePerNode: CHANNELS,
        ...(maxLeasesPerConnection === undefined ? {} : { maxLeasesPerConnection }),
      });
    for (const [name, pool] of [
      [`@pool/grpc, ${CHANNELS} channels x 100 calls (default)`, makePool()],
      [`@pool/grpc, ${CHANNELS} channels x ${CONCURRENCY / CHANNELS} calls`, makePool(CONCURRENCY / CHANNELS)],
    ] as const) {
      const client = pool.client(TestService);
      contestants.push({
        name,
        op: () => callOnce((callback) => client.Unary(request, callback)),
        close: () => pool.close(),
        describe: () => {
          const stats = pool.stats();
          return `channels ${stats.created}, lease wait p99 ${stats.waitMs.p99.toFixed(1)} ms`;
        },
      });
    }

    // The same 4 connections without a pool: plain clients picked round-robin, no cap, no waiting.
    const plainClients: TestServiceClient[] = Array.from(
      { length: CHANNELS },
      () => new TestService(server.target, insecure, { 'grpc.use_local_subchannel_pool': 1 }),
    );
    let next = 0;
    contestants.push({
      name: `${CHANNELS} grpc-js clients, round-robin, no pool`,
      op: () => {
        const client = plainClients[next++ % CHANNELS] as TestServiceClient;
        return callOnce((callback) => client.Unary(request, callback));
      },
      close: () => {
        for (const client of plainClients) client.close();
      },
    });

    // Warm-up: connections up, JIT warm.
    for (const contestant of contestants) {
      await runCallers(contestant.op, { callers: CONCURRENCY, ops: 2_000 });
    }
    const results = contestants.map(() => ({ opsPerSec: [] as number[], p50: [] as number[], p99: [] as number[] }));
    for (let round = 0; round < rounds; round++) {
      for (const [index, contestant] of contestants.entries()) {
        collectGarbage();
        const result = await runCallers(contestant.op, { callers: CONCURRENCY, ops: CALLS, sampleEvery: 1 });
        const entry = results[index];
        entry?.opsPerSec.push(result.opsPerSec);
        if (result.latency) {
          entry?.p50.push(result.latency.p50);
          entry?.p99.push(result.latency.p99);
        }
      }
    }
    const rows: BenchRow[] = contestants.map((contestant, index) => {
      const row = medianRow(contestant.name, results[index] as (typeof results)[number]);
      const note = contestant.describe?.();
      if (note) row.note = note;
      return row;
    });
    withRatios(rows, ONE_CLIENT);
    return {
      title: `gRPC: ${CALLS.toLocaleString('en-US')} unary calls at concurrency ${CONCURRENCY}, @pool/grpc vs one grpc-js client`,
      ratioLabel: 'vs one client',
      rows,
      notes: [
        `Same grpc-js server on 127.0.0.1, same process, same run; median of ${rounds} interleaved rounds of ${CALLS.toLocaleString('en-US')} calls each; p50/p99 over every call of a round (ms, lease wait included).`,
        `The default cap of 100 calls per channel lets ${CHANNELS * 100} of the ${CONCURRENCY} callers run at once; the rest wait for a lease.`,
        'Client and server share the 2 cores of this machine, so more connections mostly buy parallel HTTP/2 framing, not network bandwidth.',
      ],
    };
  } finally {
    for (const contestant of contestants) await contestant.close();
    await server.stop();
  }
}
