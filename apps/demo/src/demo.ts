import type { AddressInfo } from 'node:net';
import { ActivityLog } from './activity.js';
import type { DemoConfig, PoolName } from './config.js';
import { listFaults, type FaultAction } from './faults.js';
import { startHttpServer, type DemoHttpServer } from './http.js';
import { createMetrics, type DemoMetrics } from './metrics.js';
import { startOtel, type DemoOtel } from './otel.js';
import { startPeers, type Peers } from './peers.js';
import { createPools, type Pools } from './pools.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { WaitWindow } from './wait-window.js';
import { Workload } from './workload.js';

export interface DemoOptions extends Partial<DemoConfig> {
  /** Where progress lines go; default none. `main.ts` passes console.log. */
  log?: (line: string) => void;
}

export interface Demo {
  /** The dashboard, e.g. `http://127.0.0.1:3000/`. */
  readonly url: string;
  readonly port: number;
  readonly peers: Peers;
  readonly pools: Pools;
  readonly workload: Workload;
  readonly activity: ActivityLog;
  readonly faults: ReadonlyMap<string, FaultAction>;
  snapshot(): Snapshot;
  /** Runs a fault or recovery action by id (`tcp/echo-b/stop`, `pg/terminate`, ...). */
  runFault(id: string): Promise<string>;
  /**
   * Stops the workload, drains every pool, stops the embedded servers and closes the HTTP
   * server. Idempotent: a second call returns the same promise.
   */
  stop(): Promise<void>;
}

const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Starts the whole demo in this process: embedded servers (or the external ones in `options`),
 * the five pools, the workload and the dashboard.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const config: DemoConfig = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 3000,
    rate: options.rate ?? 8,
    external: options.external ?? {},
    ...(options.otel === 'console' ? { otel: 'console' as const } : {}),
  };
  const log = options.log ?? (() => {});
  const startedAt = Date.now();
  log('starting the embedded servers (PostgreSQL takes a few seconds)...');
  const peers = await startPeers(config);
  log(`servers ready in ${Date.now() - startedAt} ms`);

  let pools: Pools | undefined;
  let workload: Workload | undefined;
  let http: DemoHttpServer | undefined;
  let metrics: DemoMetrics | undefined;
  let otel: DemoOtel | undefined;
  try {
    pools = createPools(peers);
    const activity = new ActivityLog(peers.secrets);
    const waitWindows = new Map<PoolName, WaitWindow>();
    for (const { name, pool } of pools.all) {
      activity.watch(name, pool);
      const window = new WaitWindow();
      waitWindows.set(name, window);
      pool.on('acquire', ({ waitMs }) => window.add(waitMs));
    }
    workload = new Workload(pools, peers, config.rate, peers.secrets);
    metrics = createMetrics(pools.all, workload);
    if (config.otel === 'console') {
      otel = startOtel(pools.all);
      log('OpenTelemetry: @pool/otel metrics of every pool go to the console every 15 s (DEMO_OTEL=console)');
    }
    const faults = new Map(listFaults(peers, pools).map((fault) => [fault.id, fault]));
    const current = { pools, workload };
    const snapshot = () => buildSnapshot({ peers, pools: current.pools, workload: current.workload, activity, waitWindows });

    const runFault = async (id: string): Promise<string> => {
      const fault = faults.get(id);
      if (!fault) throw new RangeError(`unknown fault ${JSON.stringify(id)}`);
      try {
        const message = await fault.run();
        activity.add({ pool: fault.pool, ...(fault.node ? { node: fault.node } : {}), kind: 'fault', message });
        return message;
      } catch (error) {
        const message = `${fault.label} failed: ${(error as Error)?.message ?? String(error)}`;
        activity.add({ pool: fault.pool, ...(fault.node ? { node: fault.node } : {}), kind: 'fault', message });
        throw new Error(message, { cause: error });
      }
    };

    http = await startHttpServer({
      host: config.host,
      port: config.port,
      snapshot,
      hello: () => ({
        faults: [...faults.values()].map(({ id, pool, node, action, label }) => ({ id, pool, node, action, label })),
        nodes: peers.nodes.map(({ pool, id, endpoint, embedded }) => ({ pool, id, endpoint, embedded })),
      }),
      metrics,
      health: async () => healthOf(current.pools),
      setRate: (rate) => {
        current.workload.setRate(rate);
        activity.add({ kind: 'load', message: `load set to ${rate} ops/s per operation` });
      },
      runFault,
      secrets: peers.secrets,
    });
    workload.start();
    activity.add({ kind: 'info', message: `demo started: ${peers.nodes.length} servers, 5 pools, ${config.rate} ops/s per operation` });

    const { port } = http.address as AddressInfo;
    const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${hostInUrl}:${port}/`;
    let stopping: Promise<void> | undefined;
    const httpServer = http;
    const demoMetrics = metrics;
    const demoOtel = otel;
    return {
      url,
      port,
      peers,
      pools,
      workload,
      activity,
      faults,
      snapshot,
      runFault,
      stop() {
        stopping ??= (async () => {
          log('stopping: workload...');
          await current.workload.stop();
          if (demoOtel) {
            log('OpenTelemetry: last export...');
            await demoOtel.stop();
          }
          demoMetrics.close();
          log('draining the pools...');
          await current.pools.drainAll(DRAIN_TIMEOUT_MS);
          log('stopping the embedded servers...');
          await peers.stopAll();
          await httpServer.close();
          log('stopped');
        })();
        return stopping;
      },
    };
  } catch (error) {
    await workload?.stop(0);
    await otel?.stop().catch(() => undefined);
    metrics?.close();
    await pools?.drainAll(0);
    await http?.close();
    await peers.stopAll();
    throw error;
  }
}

const HEALTH_TIMEOUT_MS = 5_000;

export interface DemoHealth {
  healthy: boolean;
  checkedAt: number;
  pools: Record<string, { healthy: boolean; nodes?: Record<string, unknown>; error?: string }>;
}

/** Every pool's `health()`, at once, each bounded by a timeout so /health always answers. */
async function healthOf(pools: Pools): Promise<DemoHealth> {
  const entries = await Promise.all(pools.all.map(async ({ name, pool }) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const report = await Promise.race([
        pool.health(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`health() did not answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
        }),
      ]);
      return [name, report] as const;
    } catch (error) {
      return [name, { healthy: false, error: (error as Error)?.message ?? String(error) }] as const;
    } finally {
      clearTimeout(timer);
    }
  }));
  const result: DemoHealth['pools'] = {};
  for (const [name, report] of entries) result[name] = report;
  return { healthy: entries.every(([, report]) => report.healthy), checkedAt: Date.now(), pools: result };
}
