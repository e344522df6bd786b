export { createSshPool, type SshPool } from './pool.js';
export type { SshAuthOptions, SshConnectOptions, SshNode, SshPoolOptions } from './options.js';
export type { SshExecEncoding, SshExecOptions, SshExecResult } from './exec.js';
export type { SshSpawnOptions } from './spawn.js';
export type { SshSftpOptions } from './sftp.js';
export { isSshError, SshError, type SshErrorCode } from './errors.js';
export { fingerprintOf, parseKnownHosts } from './host-keys.js';
export { PoolError, isPoolError, type PoolErrorCode } from '@pool/core';
