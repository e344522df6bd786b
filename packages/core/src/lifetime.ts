/**
 * When a connection created at `createdAt` is due for recycling, ms epoch: `maxLifetimeMs` less a
 * random share of `lifetimeJitterMs`, so connections created together do not all expire in the
 * same tick; Infinity when `maxLifetimeMs` is 0 (never).
 */
export function expiresAt(createdAt: number, maxLifetimeMs: number, lifetimeJitterMs: number): number {
  return maxLifetimeMs > 0 ? createdAt + maxLifetimeMs - Math.random() * lifetimeJitterMs : Infinity;
}
