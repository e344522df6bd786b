import * as grpc from '@grpc/grpc-js';
import type { ConnectionFactory } from '@pool/core';
import type { ChannelClients } from './channel-clients.js';
import { waitForReady, watchForFailure } from './connectivity.js';
import { checkHealth } from './health.js';
import type { GrpcNode, ResolvedGrpcOptions } from './options.js';

const { TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;

/**
 * Channels as pooled connections. Each has its own subchannel pool, so it is its own HTTP/2
 * connection (grpc-js otherwise shares one connection between channels to the same target).
 */
export function createChannelFactory<N extends GrpcNode>(
  options: ResolvedGrpcOptions,
  clients: ChannelClients,
): ConnectionFactory<grpc.Channel, N> {
  const { credentials, channelOptions, validationTimeoutMs, healthService } = options;
  // Channels being closed by us: their last SHUTDOWN transition is not news.
  const closing = new WeakSet<grpc.Channel>();

  const close = (channel: grpc.Channel) => {
    closing.add(channel);
    clients.forget(channel);
    channel.close();
  };

  const isServing = (channel: grpc.Channel, signal: AbortSignal) =>
    healthService === undefined
      ? Promise.resolve(true)
      : checkHealth(clients.get(channel), healthService, signal, validationTimeoutMs);

  return {
    async create(node, ctx) {
      const channel = new grpc.Channel(node.target, credentials, {
        ...channelOptions,
        'grpc.use_local_subchannel_pool': 1,
      });
      try {
        // TRANSIENT_FAILURE fails the create at once: core's retry and circuit breaker take over.
        await waitForReady(channel, ctx.signal, Infinity);
        if (!(await isServing(channel, ctx.signal))) {
          throw new Error(`health check of ${node.target} (service '${healthService ?? ''}') did not answer SERVING`);
        }
      } catch (error) {
        close(channel);
        throw error;
      }
      watchForFailure(channel, (reason) => {
        if (!closing.has(channel)) ctx.invalidate(reason);
      });
      return channel;
    },

    async validate(channel, ctx) {
      try {
        await waitForReady(channel, ctx.signal, Date.now() + validationTimeoutMs);
      } catch {
        return false;
      }
      return isServing(channel, ctx.signal);
    },

    destroy(channel) {
      close(channel);
    },

    isBroken(_error, channel) {
      const state = channel.getConnectivityState(false);
      return state === TRANSIENT_FAILURE || state === SHUTDOWN;
    },
  };
}
