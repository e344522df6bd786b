import http2 from 'node:http2';
import { createHttp2Pool } from '@pool/http2';
import { startHttp2Server } from '@pool/testkit/http2';
import { makeTestCertificates } from '@pool/testkit/tls';
import { Pool } from 'undici';
import { envNumber, median, medianRow, pairedRatio, pairedRounds, percentiles, runCallers } from '../harness.js';
import type { BenchRow, BenchTable, Contestant, RoundSeries } from '../harness.js';

const REQUESTS = 1_000;
const CONCURRENCY = 200;
/** Streams per session for both pools: the server's SETTINGS_MAX_CONCURRENT_STREAMS below. */
const STREAMS_PER_SESSION = 100;
const UNDICI_POOL = 'undici Pool, allowH2';
const UNDICI_CONTROL = 'undici Pool again (A/A control)';

const rounds = envNumber('BENCH_ROUNDS', 48);
/**
 * Unmeasured requests each contestant runs right before each of its measured windows, with the
 * same callers: its sessions and JIT state are warm again after the other contestants ran, and the
 * window starts in steady state rather than with 200 requests sent in one burst.
 */
const settleRequests = envNumber('BENCH_HTTP2_SETTLE', 200);
/**
 * A full GC before each window, as `compare` does, is off here by default: a window is only
 * 1,000 requests (~0.05 s), and after a forced full GC V8 throws away optimised code of node's
 * stream and http2 internals ("weak objects" deopts), so each short window would mostly measure
 * re-optimisation. BENCH_HTTP2_GC=1 turns it back on.
 */
const forceGc = process.env['BENCH_HTTP2_GC'] === '1';
/** BENCH_HTTP2_CONTROL=0 drops the A/A control row (a second undici Pool). */
const withControl = process.env['BENCH_HTTP2_CONTROL'] !== '0';

/** A contestant whose `op` is one GET /hello, body read to the end. */
interface Http2Contestant extends Contestant {
  close(): Promise<void>;
  describe(): string;
}

function poolContestant(origin: string, ca: string): Http2Contestant {
  const pool = createHttp2Pool({ nodes: [{ id: 'bench', origin }], connect: { ca }, maxLeasesPerConnection: STREAMS_PER_SESSION });
  return {
    name: '@pool/http2, pool.request()',
    op: async () => (await pool.request({ method: 'GET', path: '/hello' })).body.text(),
    close: () => pool.close(),
    describe: () => `sessions created ${pool.stats().created}`,
  };
}

function undiciContestant(origin: string, ca: string, name = UNDICI_POOL): Http2Contestant {
  // pipelining is the streams one HTTP/2 connection carries; undici's default of 1 would open a
  // connection per concurrent request.
  const pool = new Pool(origin, { allowH2: true, pipelining: STREAMS_PER_SESSION, connect: { ca } });
  let connections = 0;
  pool.on('connect', () => connections++);
  return {
    name,
    op: async () => (await pool.request({ method: 'GET', path: '/hello' })).body.text(),
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
  const op = () =>
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
    op,
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
    // A/A control: a second, identical undici Pool. Its distance from the first is the noise floor.
    if (withControl) contestants.push(undiciContestant(server.origin, certificates.ca, UNDICI_CONTROL));
    contestants.push(await sessionContestant(server.origin, certificates.ca));
    const load = { callers: CONCURRENCY };
    // Warm-up: sessions opened, JIT settled, then whole unmeasured rounds in every order, so no
    // contestant is measured while code it shares with the others is still being optimised.
    await pairedRounds(contestants, {
      rounds: 2 * contestants.length,
      collectsGarbage: false,
      warmup: (op) => runCallers(op, { ...load, ops: 3 * REQUESTS }),
      measure: (op) => runCallers(op, { ...load, ops: settleRequests + REQUESTS }),
    });
    // Every request of every window, per contestant, for the p99 over all rounds.
    const allSamples = contestants.map((): number[] => []);
    const series = await pairedRounds(contestants, {
      rounds,
      collectsGarbage: forceGc,
      settle: (op) => runCallers(op, { ...load, ops: settleRequests }),
      measure: (op, index) => runCallers(op, { ...load, ops: REQUESTS, sampleEvery: 1, samples: allSamples[index] as number[] }),
    });
    const baseline = series[contestants.findIndex((contestant) => contestant.name === UNDICI_POOL)] as RoundSeries;
    const rows: BenchRow[] = contestants.map((contestant, i) => {
      const result = series[i] as RoundSeries;
      return {
        ...medianRow(contestant.name, result),
        ratio: pairedRatio(result.opsPerSec, baseline.opsPerSec),
        metrics: {
          'p99 vs undici': pairedRatio(result.p99, baseline.p99),
          'p99 all ms': Number(percentiles(allSamples[i] as number[]).p99.toFixed(2)),
          'CPU µs/req': median(result.cpuUsPerOp),
        },
        note: contestant.describe(),
      };
    });
    return {
      title: `HTTP/2: ${REQUESTS.toLocaleString('en-US')} GETs at concurrency ${CONCURRENCY}, pooled sessions vs undici Pool vs one session`,
      ratioLabel: 'vs undici Pool',
      rows,
      notes: [
        `One TLS node:http2 server in the same process (SETTINGS_MAX_CONCURRENT_STREAMS ${STREAMS_PER_SESSION}), GET /hello (5-byte body, read to the end).`,
        `Each round: every contestant, in an order that rotates from round to round (ABC, BCA, CAB, then reversed), runs ${settleRequests} unmeasured requests and then ${REQUESTS.toLocaleString('en-US')} timed requests, both by ${CONCURRENCY} concurrent callers; ${rounds} rounds after a warm-up of ${(3 * REQUESTS).toLocaleString('en-US')} requests each and ${2 * contestants.length} unmeasured rounds; ${forceGc ? 'a full GC before each window (BENCH_HTTP2_GC=1)' : 'no forced GC (BENCH_HTTP2_GC=1 adds one before each window)'}.`,
        'ops/s, p50, p99: median over rounds. vs undici Pool and p99 vs undici: median of the per-round ratios to undici Pool in the same round (cancels the machine\'s drift). p99 all: p99 of every timed request of every round together.',
        ...(withControl
          ? [`"${UNDICI_CONTROL}" is a second undici Pool identical to the first: its ratios show how far two equal contestants land apart in this setup (the noise floor).`]
          : []),
        'A window is ~50 ms, so one ~5 ms scavenge or a scheduler stall delays up to 200 requests at once and decides that window\'s p99: compare the paired ratio, not single runs.',
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
