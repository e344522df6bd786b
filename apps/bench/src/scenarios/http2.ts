import http2 from 'node:http2';
import { createHttp2Pool } from '@pool/http2';
import { startHttp2Server } from '@pool/testkit/http2';
import { makeTestCertificates } from '@pool/testkit/tls';
import { Pool } from 'undici';
import { collectGarbage, median, runCallers, withRatios, type BenchRow, type BenchTable } from '../harness.js';

const REQUESTS = 1_000;
const CONCURRENCY = 200;
/** Streams per session for both pools: the server's SETTINGS_MAX_CONCURRENT_STREAMS below. */
const STREAMS_PER_SESSION = 100;
const UNDICI_POOL = 'undici Pool, allowH2';

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const rounds = envNumber('BENCH_ROUNDS', 9);
/**
 * A full GC before each window, as `compare` does, is off here by default: a window is only
 * 1,000 requests (~0.2 s), and after a forced full GC V8 throws away optimised code of node's
 * stream and http2 internals ("weak objects" deopts), so each short window would mostly measure
 * re-optimisation. BENCH_HTTP2_GC=1 turns it back on.
 */
const forceGc = process.env['BENCH_HTTP2_GC'] === '1';

interface Http2Contestant {
  name: string;
  /** One GET /hello, body read to the end. */
  get(): Promise<unknown>;
  close(): Promise<void>;
  describe(): string;
}

function poolContestant(origin: string, ca: string): Http2Contestant {
  const pool = createHttp2Pool({ nodes: [{ id: 'bench', origin }], connect: { ca }, maxLeasesPerConnection: STREAMS_PER_SESSION });
  return {
    name: '@pool/http2, pool.request()',
    get: async () => (await pool.request({ method: 'GET', path: '/hello' })).body.text(),
    close: () => pool.close(),
    describe: () => `sessions created ${pool.stats().created}`,
  };
}

function undiciContestant(origin: string, ca: string): Http2Contestant {
  // pipelining is the streams one HTTP/2 connection carries; undici's default of 1 would open a
  // connection per concurrent request.
  const pool = new Pool(origin, { allowH2: true, pipelining: STREAMS_PER_SESSION, connect: { ca } });
  let connections = 0;
  pool.on('connect', () => connections++);
  return {
    name: UNDICI_POOL,
    get: async () => (await pool.request({ method: 'GET', path: '/hello' })).body.text(),
    close: () => pool.close(),
    describe: () => `connections opened ${connections}`,
  };
}

async function sessionContestant(origin: string, ca: string): Promise<Http2Contestant> {
  const session = http2.connect(origin, { ca });
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  const get = () =>
    new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':method': 'GET', ':path': '/hello' });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        body += chunk;
      });
      stream.once('end', () => resolve(body));
      stream.once('error', reject);
    });
  return {
    name: 'one node:http2 session',
    get,
    close: () => new Promise<void>((resolve) => session.close(() => resolve())),
    describe: () => 'no pool: every stream on one session',
  };
}

/**
 * 1,000 GETs at concurrency 200 through @pool/http2, undici's Pool with allowH2, and one bare
 * node:http2 session; same TLS server, same process, rounds interleaved.
 */
export async function run(): Promise<BenchTable> {
  const certificates = makeTestCertificates();
  const server = await startHttp2Server({
    tls: { cert: certificates.cert, key: certificates.key },
    maxConcurrentStreams: STREAMS_PER_SESSION,
  });
  const contestants: Http2Contestant[] = [];
  try {
    contestants.push(poolContestant(server.origin, certificates.ca));
    contestants.push(undiciContestant(server.origin, certificates.ca));
    contestants.push(await sessionContestant(server.origin, certificates.ca));
    const results = contestants.map(() => ({ opsPerSec: [] as number[], p50: [] as number[], p99: [] as number[], cpuUs: [] as number[] }));
    // Warm-up: sessions opened, JIT settled.
    for (const contestant of contestants) await runCallers(() => contestant.get(), { callers: CONCURRENCY, ops: REQUESTS });
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < contestants.length; i++) {
        const contestant = contestants[i] as Http2Contestant;
        const result = results[i] as (typeof results)[number];
        if (forceGc) collectGarbage();
        const cpuBefore = process.cpuUsage();
        const measured = await runCallers(() => contestant.get(), { callers: CONCURRENCY, ops: REQUESTS, sampleEvery: 1 });
        const cpu = process.cpuUsage(cpuBefore);
        result.cpuUs.push((cpu.user + cpu.system) / measured.ops);
        result.opsPerSec.push(measured.opsPerSec);
        result.p50.push(measured.latency?.p50 ?? NaN);
        result.p99.push(measured.latency?.p99 ?? NaN);
      }
    }
    const rows: BenchRow[] = contestants.map((contestant, i) => {
      const result = results[i] as (typeof results)[number];
      return {
        name: contestant.name,
        opsPerSec: median(result.opsPerSec),
        p50Ms: median(result.p50),
        p99Ms: median(result.p99),
        metrics: { 'CPU µs/req': median(result.cpuUs) },
        note: contestant.describe(),
      };
    });
    withRatios(rows, UNDICI_POOL);
    return {
      title: `HTTP/2: ${REQUESTS.toLocaleString('en-US')} GETs at concurrency ${CONCURRENCY}, pooled sessions vs undici Pool vs one session`,
      ratioLabel: 'vs undici Pool',
      rows,
      notes: [
        `One TLS node:http2 server in the same process (SETTINGS_MAX_CONCURRENT_STREAMS ${STREAMS_PER_SESSION}), GET /hello (5-byte body, read to the end).`,
        `Each round: ${REQUESTS.toLocaleString('en-US')} requests by ${CONCURRENCY} concurrent callers, every request timed; median of ${rounds} interleaved rounds after one warm-up round each; ${forceGc ? 'a full GC before each round (BENCH_HTTP2_GC=1)' : 'no forced GC between rounds (BENCH_HTTP2_GC=1 adds one; it slows every contestant, the pools most)'}.`,
        `Both pools carry up to ${STREAMS_PER_SESSION} streams per session (@pool/http2: maxLeasesPerConnection; undici: pipelining), so ${CONCURRENCY} streams need 2 sessions.`,
        'undici Pool opens a connection per request of the first burst (its clients are busy while connecting) but fills the first one first, so 2 of them carry the load; @pool/http2 opens 2 sessions and spreads streams over them.',
        'CPU µs/req is process CPU time (client and server, same process) per request: steadier than ops/s on a busy machine.',
        'Target: @pool/http2 at least undici Pool throughput with no worse p99.',
      ],
    };
  } finally {
    for (const contestant of contestants) await contestant.close().catch(() => {});
    await server.stop();
  }
}
