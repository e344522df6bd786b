// The checks every option resolution shares (core's pool options, the adaptive limit's, the
// transports'): one INVALID_OPTIONS wording, numbers, per-call timeouts, unknown names.
import { PoolError } from './errors.js';

/**
 * The family's one INVALID_OPTIONS error: `Invalid option <option>: got <value>, <rule>`. For
 * transport packages too. Pass `shownAs` (e.g. '<redacted>') for a value that may hold a secret.
 */
export function invalidOption(option: string, value: unknown, rule: string, shownAs?: string): PoolError {
  let shown = shownAs;
  if (shown === undefined) {
    try {
      shown = typeof value === 'function' ? 'a function' : JSON.stringify(value) ?? String(value);
    } catch {
      shown = String(value);
    }
  }
  return new PoolError('INVALID_OPTIONS', `Invalid option ${option}: got ${shown}, ${rule}`);
}

export function checkNumber(
  option: string,
  value: unknown,
  rule: { min: number; integer?: boolean; allowInfinity?: boolean },
): number {
  const isOk =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    value >= rule.min &&
    (value === Infinity ? rule.allowInfinity === true : !rule.integer || Number.isInteger(value));
  if (!isOk) {
    const kind = rule.integer ? 'an integer' : 'a number';
    const infinity = rule.allowInfinity ? ' (or Infinity)' : value === Infinity ? ', finite' : '';
    throw invalidOption(option, value, `must be ${kind} >= ${rule.min}${infinity}`);
  }
  return value;
}

/**
 * A per-call timeout (`timeoutMs`, a helper's `acquireTimeoutMs`, `queryTimeoutMs`...): `undefined`
 * (use the pool's), or a number >= 0 that is finite or `Infinity`. NaN, strings and negatives are
 * refused like a bad pool option, instead of never timing out.
 */
export function checkCallTimeout(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return checkNumber(option, value, { min: 0, allowInfinity: true });
}

/**
 * Refuses option names nobody knows (`maxPerNod`), naming the nearest known one. `known` is every
 * name the caller accepts at this level; `prefix` names the level in the message (`'connect.'`).
 */
export function rejectUnknownOptions(options: object, known: Iterable<string>, prefix = ''): void {
  const names = known instanceof Set ? (known as Set<string>) : new Set(known);
  for (const name of Object.keys(options)) {
    if (names.has(name)) continue;
    const nearest = nearestName(name, names);
    const hint = nearest === undefined ? '' : ` (did you mean ${prefix}${nearest}?)`;
    throw new PoolError('INVALID_OPTIONS', `Unknown option ${prefix}${name}${hint}`);
  }
}

/** The known name closest to `name` by edit distance, if it is close enough to be a likely typo. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A typo changes a few characters; past a third of the name it is another word.
  return bestDistance <= Math.max(2, Math.ceil(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
