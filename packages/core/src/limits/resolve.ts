import type { Clock } from '../clock.js';
import { checkNumber, invalidOption, rejectUnknownOptions } from '../option-checks.js';
import { AimdLimit } from './aimd.js';
import { Gradient2Limit } from './gradient2.js';
import type { AdaptiveAlgorithm, AdaptiveLimitOptions, LimitBounds, ResolvedAdaptiveLimit } from '../options.js';
import { AdaptiveLimiter, type ConcurrencyLimitFactory, type LimitChange } from './limiter.js';
import { VegasLimit } from './vegas.js';

/** The algorithms `adaptiveLimit.algorithm` names. */
export const ADAPTIVE_ALGORITHMS = ['gradient2', 'aimd', 'vegas'] as const satisfies readonly AdaptiveAlgorithm[];

const NAMES = ['algorithm', 'initial', 'min', 'max'] as const satisfies readonly (keyof AdaptiveLimitOptions)[];

/**
 * Validates `adaptiveLimit` against the pool's caps: `false`/`undefined` resolve to `false`;
 * bad values and unknown names throw INVALID_OPTIONS naming the option.
 */
export function resolveAdaptiveLimit(
  value: unknown,
  caps: { maxPerNode: number; maxLeasesPerConnection: number },
): ResolvedAdaptiveLimit | false {
  if (value === undefined || value === false) return false;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption('adaptiveLimit', value, 'must be false or { algorithm?, initial?, min?, max? }');
  }
  rejectUnknownOptions(value, NAMES, 'adaptiveLimit.');
  const options = value as Record<string, unknown>;
  const algorithm = options['algorithm'] ?? 'gradient2';
  if (!(ADAPTIVE_ALGORITHMS as readonly unknown[]).includes(algorithm)) {
    throw invalidOption('adaptiveLimit.algorithm', algorithm, `must be one of ${ADAPTIVE_ALGORITHMS.join(', ')}`);
  }
  const capacity = caps.maxPerNode * caps.maxLeasesPerConnection;
  const min = checkNumber('adaptiveLimit.min', options['min'] ?? 1, { min: 1, integer: true });
  const max = checkNumber('adaptiveLimit.max', options['max'] ?? capacity, { min: 1, integer: true, allowInfinity: true });
  if (max < min) throw invalidOption('adaptiveLimit.max', max, `must be >= adaptiveLimit.min (${min})`);
  if (max > capacity) {
    throw invalidOption('adaptiveLimit.max', max, `must be <= maxPerNode × maxLeasesPerConnection (${capacity})`);
  }
  const initial = checkNumber('adaptiveLimit.initial', options['initial'] ?? Math.max(min, Math.min(max, 4)), { min: 1, integer: true });
  if (initial < min || initial > max) {
    throw invalidOption('adaptiveLimit.initial', initial, `must be within adaptiveLimit.min and adaptiveLimit.max (${min}..${max})`);
  }
  return { algorithm: algorithm as AdaptiveAlgorithm, min, max, initial };
}

/** The factory of one node's algorithm for a resolved option. */
export function limitFactoryOf(algorithm: AdaptiveAlgorithm): ConcurrencyLimitFactory {
  switch (algorithm) {
    case 'aimd':
      return (bounds) => new AimdLimit(bounds);
    case 'vegas':
      return (bounds) => new VegasLimit(bounds);
    case 'gradient2':
      return (bounds) => new Gradient2Limit(bounds);
  }
}

/** The limiter for a resolved `adaptiveLimit`, or undefined when it is off (the engine then consults nothing). */
export function createAdaptiveLimiter(
  resolved: ResolvedAdaptiveLimit | false,
  context: { clock: Pick<Clock, 'now'>; onLimitChange?: (change: LimitChange) => void },
): AdaptiveLimiter | undefined {
  if (resolved === false) return undefined;
  return new AdaptiveLimiter(resolved, limitFactoryOf(resolved.algorithm), context);
}

export type { AdaptiveAlgorithm, AdaptiveLimitOptions, ResolvedAdaptiveLimit } from '../options.js';
