import * as grpc from '@grpc/grpc-js';
import { loadTestService, type EchoReply, type EchoRequest, type ServingStatus, type StreamRequest } from './grpc-schema.js';

/*
 * The embedded gRPC server, and (re-exported) the schema it serves: `@pool/testkit/grpc` is the
 * one import path for both.
 */
export * from './grpc-schema.js';

export interface GrpcTestServerOptions {
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Serve TLS with this certificate and key (see `makeTestCertificates()` in `@pool/testkit/tls`). */
  tls?: { cert: string; key: string };
  /** Sent back in every `EchoReply.serverId`. Default `'server'`. */
  serverId?: string;
}

export interface GrpcTestServer {
  readonly host: string;
  /** The bound port; the same after `restart()`. */
  readonly port: number;
  /** `host:port`, what a gRPC client takes as its target. */
  readonly target: string;
  readonly isRunning: boolean;
  /** Calls started since the server started (restarts included). */
  readonly calls: number;
  /** Calls running right now. */
  readonly activeCalls: number;
  /** The most calls that ran at once. */
  readonly maxActiveCalls: number;
  /** Distinct client addresses (one per HTTP/2 connection) that made a call. */
  readonly peers: ReadonlySet<string>;
  /**
   * Sets what Health/Check answers for `service` (`''` = the whole server). Both `''` and
   * `'pool.test.TestService'` start SERVING; other names answer NOT_FOUND until set.
   */
  setHealth(service: string, status: ServingStatus): void;
  /** Clears `calls`, `maxActiveCalls` and `peers`. */
  resetCounters(): void;
  /**
   * Stops the server. By default at once: every connection is closed and running calls fail.
   * `{ graceful: true }` sends GOAWAY and lets running calls finish (up to `timeoutMs`, default 5_000).
   */
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
  /** Stops (at once) if running, waits `downtimeMs` (default 0), then listens again on the same port. */
  restart(options?: { downtimeMs?: number }): Promise<void>;
}

/**
 * Starts a grpc-js server with `pool.test.TestService` and `grpc.health.v1.Health` on 127.0.0.1
 * with an ephemeral port. Reusable by tests, benchmarks and the demo.
 */
export async function startGrpcServer(options: GrpcTestServerOptions = {}): Promise<GrpcTestServer> {
  const host = options.host ?? '127.0.0.1';
  const serverId = options.serverId ?? 'server';
  const { TestService, Health } = loadTestService();
  const health = new Map<string, ServingStatus>([
    ['', 'SERVING'],
    ['pool.test.TestService', 'SERVING'],
  ]);
  const peers = new Set<string>();
  let calls = 0;
  let activeCalls = 0;
  let maxActiveCalls = 0;
  let port = options.port ?? 0;
  let server: grpc.Server | undefined;

  const track = (call: { getPeer(): string }): (() => void) => {
    calls += 1;
    activeCalls += 1;
    if (activeCalls > maxActiveCalls) maxActiveCalls = activeCalls;
    peers.add(call.getPeer());
    let done = false;
    return () => {
      if (done) return;
      done = true;
      activeCalls -= 1;
    };
  };

  const reply = (message: string | undefined, call: { getPeer(): string }, index: number): EchoReply => ({
    message: message ?? '',
    peer: call.getPeer(),
    index,
    serverId,
  });

  const testImplementation: grpc.UntypedServiceImplementation = {
    Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      const finish = track(call);
      const { delayMs = 0, failCode = 0, message } = call.request;
      const answer = () => {
        finish();
        if (failCode !== 0) callback({ code: failCode, details: `failed on request: ${message ?? ''}` });
        else callback(null, reply(message, call, 0));
      };
      if (delayMs <= 0) return answer();
      const timer = setTimeout(answer, delayMs);
      call.on('cancelled', () => {
        clearTimeout(timer);
        finish();
      });
    },
    ServerStream(call: grpc.ServerWritableStream<StreamRequest, EchoReply>) {
      const finish = track(call);
      const { count = 0, intervalMs = 0, failCode = 0, message } = call.request;
      let index = 0;
      let timer: NodeJS.Timeout | undefined;
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        if (timer) clearTimeout(timer);
        finish();
      });
      const next = () => {
        if (cancelled) return;
        if (index >= count) {
          finish();
          if (failCode !== 0) call.emit('error', { code: failCode, details: 'stream failed' });
          else call.end();
          return;
        }
        call.write(reply(message, call, index));
        index += 1;
        if (intervalMs > 0) timer = setTimeout(next, intervalMs);
        else setImmediate(next);
      };
      next();
    },
    ClientStream(call: grpc.ServerReadableStream<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      const finish = track(call);
      const messages: string[] = [];
      call.on('data', (request: EchoRequest) => messages.push(request.message ?? ''));
      call.on('error', () => finish());
      call.on('cancelled', () => finish());
      call.on('end', () => {
        finish();
        callback(null, reply(messages.join(','), call, messages.length));
      });
    },
    BidiStream(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      const finish = track(call);
      let index = 0;
      call.on('data', (request: EchoRequest) => {
        call.write(reply(request.message, call, index));
        index += 1;
      });
      call.on('error', () => finish());
      call.on('cancelled', () => finish());
      call.on('end', () => {
        finish();
        call.end();
      });
    },
  };

  const healthImplementation: grpc.UntypedServiceImplementation = {
    Check(
      call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>,
      callback: grpc.sendUnaryData<{ status: ServingStatus }>,
    ) {
      const status = health.get(call.request.service ?? '');
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status });
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>) {
      call.write({ status: health.get(call.request.service ?? '') ?? 'SERVICE_UNKNOWN' });
      call.end();
    },
  };

  const listen = async () => {
    const next = new grpc.Server();
    next.addService(TestService.service, testImplementation);
    next.addService(Health.service, healthImplementation);
    const credentials = options.tls
      ? grpc.ServerCredentials.createSsl(null, [
          { cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) },
        ])
      : grpc.ServerCredentials.createInsecure();
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    port = await new Promise<number>((resolve, reject) =>
      next.bindAsync(address, credentials, (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
    );
    server = next;
  };

  const stop = async ({ graceful = false, timeoutMs = 5_000 }: { graceful?: boolean; timeoutMs?: number } = {}) => {
    const current = server;
    server = undefined;
    if (!current) return;
    if (graceful) {
      const timer = setTimeout(() => current.forceShutdown(), timeoutMs);
      await new Promise<void>((resolve) => current.tryShutdown(() => resolve()));
      clearTimeout(timer);
    } else {
      current.forceShutdown();
    }
  };

  await listen();

  return {
    host,
    get port() {
      return port;
    },
    get target() {
      return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    },
    get isRunning() {
      return server !== undefined;
    },
    get calls() {
      return calls;
    },
    get activeCalls() {
      return activeCalls;
    },
    get maxActiveCalls() {
      return maxActiveCalls;
    },
    peers,
    setHealth(service, status) {
      health.set(service, status);
    },
    resetCounters() {
      calls = 0;
      maxActiveCalls = activeCalls;
      peers.clear();
    },
    stop,
    async restart({ downtimeMs = 0 } = {}) {
      await stop();
      if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      await listen();
    },
  };
}
