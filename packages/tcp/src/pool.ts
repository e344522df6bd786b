import { createPool, type Pool } from '@pool/core';
import { createTcpFactory } from './factory.js';
import { checkTcpNode, resolveTcpOptions, type TcpNode, type TcpPoolOptions, type TcpSocket } from './options.js';

/** A core pool of TCP/TLS sockets: `pool.use(socket => ...)`, stats, events, drain, as in @pool/core. */
export type TcpPool = Pool<TcpSocket, TcpNode>;

/**
 * Creates a pool of TCP (or TLS) sockets to one or more nodes.
 *
 * ```ts
 * const pool = createTcpPool({ nodes: [{ id: 'a', host: '127.0.0.1', port: 7000 }] });
 * const reply = await pool.use((socket) => roundTrip(socket, 'PING'));
 * ```
 *
 * @throws PoolError `INVALID_OPTIONS` naming the option, for bad transport or pool options.
 */
export function createTcpPool(options: TcpPoolOptions): TcpPool {
  const { settings, nodes, poolOptions } = resolveTcpOptions(options);
  const pool = createPool<TcpSocket, TcpNode>({ ...poolOptions, nodes, factory: createTcpFactory(settings) });
  const addNode = pool.addNode.bind(pool);
  // Nodes added at run time get the same endpoint checks as the ones given up front.
  return Object.assign(pool, {
    addNode(node: TcpNode): void {
      checkTcpNode(node, 'node');
      addNode(node);
    },
  });
}
