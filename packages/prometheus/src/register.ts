import { invalidOption, rejectUnknownOptions, type PoolStats } from '@pool/core';
import { register as defaultRegistry, type Registry as AnyRegistry, type RegistryContentType } from 'prom-client';

/** A prom-client registry of either content type (Prometheus text or OpenMetrics). */
type Registry = AnyRegistry<RegistryContentType>;
import { FAMILIES, type FamilyDefinition, type Sample } from './families.js';

/** What registerPoolMetrics reads: any pool of the family (`stats()` only). */
export interface StatsSource {
  stats(): PoolStats;
}

export interface PoolMetricsOptions {
  /** The prom-client registry to add the families to; default prom-client's default `register`. */
  registry?: Registry;
  /** The `pool_name` label; default the pool's `stats().name` (`PoolOptions.name`). */
  name?: string;
}

export interface PoolMetricsRegistration {
  /** Takes this pool's series out of the registry; the families go once no pool is left. Idempotent. */
  unregister(): void;
}

/**
 * The pools one registry exposes, and one collector per family over all of them. Each pool's
 * stats() is read once per scrape, shared by every family.
 */
class RegistryPools {
  readonly pools = new Map<string, StatsSource>();
  readonly collectors: FamilyCollector[];
  private snapshots: Map<string, PoolStats> | undefined;

  constructor(readonly registry: Registry) {
    this.collectors = FAMILIES.map((family) => new FamilyCollector(family, this));
  }

  /** Every pool's stats, taken once for a scrape: the families' get() all run in the same tick. */
  current(): Map<string, PoolStats> {
    if (this.snapshots === undefined) {
      const snapshots = new Map<string, PoolStats>();
      for (const [name, pool] of this.pools) snapshots.set(name, pool.stats());
      this.snapshots = snapshots;
      queueMicrotask(() => {
        this.snapshots = undefined;
      });
    }
    return this.snapshots;
  }
}

/**
 * A prom-client metric whose values are computed at scrape time (prom-client reads any registered
 * metric through `get()`, as for its own classes); nothing is kept or updated between scrapes.
 */
class FamilyCollector {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyDefinition['type'];
  readonly aggregator = 'sum';

  constructor(
    private readonly family: FamilyDefinition,
    private readonly owner: RegistryPools,
  ) {
    this.name = family.name;
    this.help = family.help;
    this.type = family.type;
  }

  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string } {
    const values: Sample[] = [];
    for (const [name, stats] of this.owner.current()) this.family.read(stats, { pool_name: name }, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** registry.resetMetrics(): nothing to reset, the pool keeps the counts. */
  reset(): void {}
}

const byRegistry = new WeakMap<Registry, RegistryPools>();
const OPTION_NAMES = ['registry', 'name'];

/** prom-client throws if another metric already holds one of the names: nothing is left half-added. */
function addFamilies(registry: Registry, collectors: readonly FamilyCollector[]): void {
  const added: string[] = [];
  try {
    for (const collector of collectors) {
      registry.registerMetric(collector as unknown as Parameters<Registry['registerMetric']>[0]);
      added.push(collector.name);
    }
  } catch (error) {
    for (const metric of added) registry.removeSingleMetric(metric);
    throw error;
  }
}

/**
 * Exposes a pool's metrics in a prom-client registry: OpenTelemetry's `db.client.connection.*`
 * names as its Prometheus exporter writes them (`db_client_connection_count{pool_name,state}`,
 * ..., histograms in seconds), plus per-node and per-partition families. Values are read from
 * `stats()` when scraped, so between scrapes it costs nothing. Several pools share one registry
 * and one family per metric, told apart by `pool_name`.
 *
 * Throws PoolError INVALID_OPTIONS when a pool of the same name is already registered there.
 */
export function registerPoolMetrics(pool: StatsSource, options: PoolMetricsOptions = {}): PoolMetricsRegistration {
  if (pool === null || typeof pool !== 'object' || typeof pool.stats !== 'function') {
    throw invalidOption('pool', pool, 'must be a pool of @pool/core (with stats())');
  }
  if (options === null || typeof options !== 'object') throw invalidOption('options', options, 'must be an object');
  rejectUnknownOptions(options, OPTION_NAMES);
  const registry = options.registry ?? defaultRegistry;
  if (registry === null || typeof registry !== 'object' || typeof registry.registerMetric !== 'function') {
    throw invalidOption('registry', typeof registry, 'must be a prom-client Registry');
  }
  const name = options.name ?? pool.stats().name;
  if (typeof name !== 'string' || name === '') throw invalidOption('name', name, 'must be a non-empty string');
  let pools = byRegistry.get(registry);
  if (pools?.pools.has(name)) {
    throw invalidOption('name', name, 'is already registered in this registry: give each pool its own name');
  }
  if (pools === undefined || registry.getSingleMetric(pools.collectors[0]!.name) !== (pools.collectors[0] as unknown)) {
    // First pool of this registry, or the registry was cleared since: (re)add the families.
    pools ??= new RegistryPools(registry);
    addFamilies(registry, pools.collectors);
    byRegistry.set(registry, pools);
  }
  pools.pools.set(name, pool);
  const owner = pools;
  let isRegistered = true;
  return {
    unregister() {
      if (!isRegistered) return;
      isRegistered = false;
      owner.pools.delete(name);
      if (owner.pools.size > 0 || byRegistry.get(registry) !== owner) return;
      for (const collector of owner.collectors) {
        if (registry.getSingleMetric(collector.name) === (collector as unknown)) registry.removeSingleMetric(collector.name);
      }
      byRegistry.delete(registry);
    },
  };
}
