import { invalidOption, type ConnectionFactory, type PoolNode, type ValidateContext } from '@pool/core';
import { MESSAGES } from './errors.js';
import type { IdleEviction } from './evictor.js';
import type { Factory } from './options.js';

function noop(): void {}

/** generic-pool's factory check, with the family's INVALID_OPTIONS naming the method. */
export function checkFactory(factory: unknown): asserts factory is Factory<unknown> {
  if (factory === null || typeof factory !== 'object' && typeof factory !== 'function') throw invalidOption('factory', factory, 'must be an object with create and destroy');
  const methods = factory as Record<string, unknown>;
  for (const name of ['create', 'destroy']) {
    if (typeof methods[name] !== 'function') throw invalidOption(`factory.${name}`, methods[name], 'must be a function');
  }
  if (methods['validate'] !== undefined && typeof methods['validate'] !== 'function') throw invalidOption('factory.validate', methods['validate'], 'must be a function when given');
}

/** What the adapter needs of its pool: where a failed destroy is reported. */
export interface AdapterOwner {
  onDestroyError(error: unknown): void;
}

/**
 * The user's generic-pool factory as core's ConnectionFactory: create and destroy called as
 * methods of the factory, destroy bounded by destroyTimeoutMillis, validation (only `false` is
 * invalid), and core's idle validation turned into eviction. Keeps the calls in flight for clear().
 */
export class FactoryAdapter<T> implements ConnectionFactory<T, PoolNode> {
  /** factory.create / factory.destroy calls in flight. */
  readonly creates = new Set<Promise<unknown>>();
  readonly destroys = new Set<Promise<unknown>>();

  constructor(
    private readonly factory: Factory<T>,
    private readonly owner: AdapterOwner,
    private readonly eviction: IdleEviction<T> | undefined,
    private readonly destroyTimeoutMillis: number | undefined,
  ) {}

  create(): Promise<T> {
    const factory = this.factory;
    // A throw inside create() is a failed create like a rejection (node-pool #194).
    const creating = Promise.resolve().then(() => factory.create());
    this.creates.add(creating);
    const forget = (): void => {
      this.creates.delete(creating);
    };
    creating.then(forget, forget);
    const eviction = this.eviction;
    if (eviction === undefined) return creating;
    return creating.then((resource) => {
      eviction.created(resource);
      return resource;
    });
  }

  destroy(resource: T): Promise<void> {
    this.eviction?.forget(resource);
    const factory = this.factory;
    let destroying: Promise<unknown> = Promise.resolve().then(() => factory.destroy(resource));
    if (this.destroyTimeoutMillis !== undefined) destroying = withTimeout(destroying, this.destroyTimeoutMillis);
    const settled = destroying.then(noop, (error: unknown) => this.owner.onDestroyError(error));
    this.destroys.add(settled);
    void settled.then(() => this.destroys.delete(settled));
    return settled;
  }

  validate(resource: T, context: ValidateContext<PoolNode>): boolean | Promise<boolean> {
    if (context.reason === 'idle') return this.eviction === undefined ? true : this.eviction.shouldKeep(resource);
    const factory = this.factory;
    if (factory.validate === undefined) return true;
    // generic-pool treats only `false` as invalid; a rejection is invalid too (core's rule).
    return Promise.resolve()
      .then(() => factory.validate!(resource))
      .then((isValid) => isValid !== false);
  }
}

/** factory.destroy bounded by destroyTimeoutMillis; the timer is unref'd and cleared when it settles. */
function withTimeout(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(MESSAGES.destroyTimeout)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
