import * as grpc from '@grpc/grpc-js';
import { invalidOption as invalid, POOL_OPTION_NAMES, rejectUnknownOptions } from '@pool/core';
import { targetProblem } from './target.js';
import type { PoolNode, PoolOptions } from '@pool/core';

/** One gRPC server: `target` is what a grpc-js client takes (`host:port`, `dns:///name:port`, ...). */
export interface GrpcNode extends PoolNode {
  target: string;
}

/** Calls grpc.health.v1 `Health/Check` to validate a channel. */
export interface GrpcHealthCheckOptions {
  /** The service name asked about; default `''` (the whole server). */
  service?: string;
}

export interface GrpcPoolOptions<N extends GrpcNode = GrpcNode>
  extends Omit<PoolOptions<grpc.Channel, N>, 'factory' | 'nodes'> {
  /** The servers; at least one. */
  nodes: N[];
  /**
   * Channel credentials; default `grpc.credentials.createSsl()` (TLS, verified against the system
   * roots). Use `grpc.credentials.createInsecure()` only for plaintext servers you trust.
   */
  credentials?: grpc.ChannelCredentials;
  /** grpc-js channel options, passed to every channel; `grpc.use_local_subchannel_pool` is always 1. */
  channelOptions?: grpc.ChannelOptions;
  /** How long validation waits for an IDLE/CONNECTING channel to be READY (and for the health check); default 5_000 ms. */
  validationTimeoutMs?: number;
  /** Also validate with grpc.health.v1 `Health/Check` (SERVING = valid); default off. */
  healthCheck?: GrpcHealthCheckOptions | false;
  /** Leases (concurrent calls) one channel carries; default 100, the usual HTTP/2 concurrent-stream budget. */
  maxLeasesPerConnection?: number;
}

export interface ResolvedGrpcOptions {
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  validationTimeoutMs: number;
  healthService: string | undefined;
}

export const DEFAULT_MAX_LEASES_PER_CHANNEL = 100;

/** The gRPC options of {@link GrpcPoolOptions}, split off before the rest goes to core. */
export const GRPC_OPTION_NAMES = ['credentials', 'channelOptions', 'validationTimeoutMs', 'healthCheck'] as const;

/** Core's option names a transport passes through; the factory is the transport's own. */
const CORE_OPTION_NAMES = POOL_OPTION_NAMES.filter((name) => name !== 'factory');

/** Every top-level name `createGrpcPool` accepts: a misspelled one is refused, naming the nearest. */
const KNOWN_OPTION_NAMES = new Set<string>(['nodes', ...GRPC_OPTION_NAMES, ...CORE_OPTION_NAMES]);
export const DEFAULT_VALIDATION_TIMEOUT_MS = 5_000;


function describeObject(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'an object';
}

/** Checks a node's target (core checks its id); also used by `pool.addNode`. Throws INVALID_OPTIONS. */
export function checkGrpcNode(node: unknown, option: string): asserts node is GrpcNode {
  if (typeof node !== 'object' || node === null) throw invalid(option, node, 'must be an object { id, target }');
  const { target } = node as { target?: unknown };
  if (typeof target !== 'string' || target.trim() === '') {
    throw invalid(`${option}.target`, target, 'must be a non-empty string such as "127.0.0.1:50051"');
  }
  const problem = targetProblem(target);
  if (problem !== undefined) {
    throw invalid(`${option}.target`, target, `${problem} (grpc-js takes host:port, dns:///host:port, ipv4:, ipv6: or unix:)`);
  }
}

/** Checks the gRPC-specific options; pool options are left to core. Throws INVALID_OPTIONS. */
export function resolveGrpcOptions<N extends GrpcNode>(options: GrpcPoolOptions<N>): ResolvedGrpcOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', options, 'must be an object');
  }
  rejectUnknownOptions(options, KNOWN_OPTION_NAMES);
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw invalid('nodes', options.nodes, 'must be a non-empty array of { id, target }');
  }
  options.nodes.forEach((node, index) => checkGrpcNode(node, `nodes[${index}]`));
  const credentials = options.credentials ?? grpc.credentials.createSsl();
  if (!(credentials instanceof grpc.ChannelCredentials)) {
    // Never print the object itself: it may hold keys.
    throw invalid(
      'credentials',
      describeObject(credentials),
      'must be grpc.ChannelCredentials from the same @grpc/grpc-js (grpc.credentials.createSsl() or createInsecure())',
    );
  }
  const channelOptions = options.channelOptions ?? {};
  if (typeof channelOptions !== 'object' || channelOptions === null || Array.isArray(channelOptions)) {
    throw invalid('channelOptions', channelOptions, 'must be an object of grpc-js channel options');
  }
  const validationTimeoutMs = options.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
  if (typeof validationTimeoutMs !== 'number' || !Number.isFinite(validationTimeoutMs) || validationTimeoutMs <= 0) {
    throw invalid('validationTimeoutMs', validationTimeoutMs, 'must be a finite number > 0');
  }
  const healthCheck = options.healthCheck ?? false;
  let healthService: string | undefined;
  if (healthCheck !== false) {
    if (typeof healthCheck !== 'object' || healthCheck === null) {
      throw invalid('healthCheck', healthCheck, 'must be false or an object { service?: string }');
    }
    rejectUnknownOptions(healthCheck, ['service'], 'healthCheck.');
    healthService = healthCheck.service ?? '';
    if (typeof healthService !== 'string') {
      throw invalid('healthCheck.service', healthService, 'must be a string (\'\' = the whole server)');
    }
  }
  return { credentials, channelOptions, validationTimeoutMs, healthService };
}
