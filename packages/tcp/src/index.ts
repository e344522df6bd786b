export { createTcpPool, type TcpPool } from './pool.js';
export { ConnectTimeoutError } from './connect.js';
export type { TcpNode, TcpPing, TcpPoolOptions, TcpSocket } from './options.js';
