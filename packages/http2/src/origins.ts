import { invalidOption, type PoolError } from '@pool/core';
import { redactOrigin, type Http2Node } from './options.js';

/** How many node origins a refusal lists before "...". */
const LISTED_ORIGINS = 5;

/**
 * The error of a request whose `origin` is no node's, on a pool without `anyOrigin`: sending it to
 * one of the pool's nodes would hand that node a request (headers, cookies, tokens) meant for
 * another host, which is what a pool installed with `setGlobalDispatcher` would otherwise do to
 * every `fetch` of the process.
 */
export function foreignOriginError(origin: string | URL, nodes: readonly Http2Node[]): PoolError {
  const origins = nodes.slice(0, LISTED_ORIGINS).map((node) => node.origin);
  if (nodes.length > LISTED_ORIGINS) origins.push('...');
  const served = origins.length === 0 ? 'this pool has no nodes' : `this pool serves ${origins.join(', ')}`;
  return invalidOption('origin', undefined,
    `must be the origin of one of the pool's nodes (${served}); to send requests for any origin to the pool's nodes, create the pool with anyOrigin: true`,
    JSON.stringify(shownOrigin(origin)));
}

/** The origin as `scheme://host:port`: never a path, query or credentials of the request. */
function shownOrigin(origin: string | URL): string {
  if (typeof origin !== 'string') return origin.origin;
  try {
    return new URL(origin).origin;
  } catch {
    return redactOrigin(origin);
  }
}
