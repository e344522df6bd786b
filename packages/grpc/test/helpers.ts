import * as grpc from '@grpc/grpc-js';
import { createGrpcPool, type GrpcPool, type GrpcPoolOptions } from '@pool/grpc';
import { loadTestService, startGrpcServer, type GrpcTestServer, type GrpcTestServerOptions } from '@pool/testkit/grpc';

export const insecure = grpc.credentials.createInsecure();
export const { TestService, Health } = loadTestService();

/** Everything a test started, closed by `tearDown()` in afterEach. */
const started: { pools: GrpcPool[]; servers: GrpcTestServer[] } = { pools: [], servers: [] };

export async function startServer(options: GrpcTestServerOptions = {}): Promise<GrpcTestServer> {
  const server = await startGrpcServer(options);
  started.servers.push(server);
  return server;
}

export function makePool(options: GrpcPoolOptions): GrpcPool {
  const pool = createGrpcPool({ credentials: insecure, ...options });
  started.pools.push(pool);
  return pool;
}

export async function setUp(poolOptions: Partial<GrpcPoolOptions> = {}, serverOptions: GrpcTestServerOptions = {}) {
  const server = await startServer(serverOptions);
  const pool = makePool({ nodes: [{ id: 'a', target: server.target }], ...poolOptions });
  return { server, pool, client: pool.client(TestService) };
}

export async function tearDown(): Promise<void> {
  const { pools, servers } = started;
  started.pools = [];
  started.servers = [];
  await Promise.all(pools.map((pool) => pool.close()));
  await Promise.all(servers.map((server) => server.stop()));
}

/** Polls `predicate` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the error a callback-style unary call ends with (or null) and its response. */
export function settle<R>(start: (callback: (error: grpc.ServiceError | null, response?: R) => void) => void) {
  return new Promise<{ error: grpc.ServiceError | null; response: R | undefined }>((resolve) => {
    start((error, response) => resolve({ error, response }));
  });
}
