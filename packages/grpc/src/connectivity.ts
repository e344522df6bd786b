import * as grpc from '@grpc/grpc-js';
import { lastChannelError } from './failure-reason.js';

const { READY, TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;

/** Why a channel is not usable, or undefined when it is READY. */
export type NotReady = { state: grpc.connectivityState; message: string };

function stateName(state: grpc.connectivityState): string {
  return grpc.connectivityState[state] ?? String(state);
}

/**
 * Resolves when the channel is READY (asking an IDLE channel to connect), and rejects as soon as
 * it reports TRANSIENT_FAILURE or SHUTDOWN, when `signal` aborts or when `deadline` passes.
 * A watcher left behind by an abort is cleared by the channel's next state change or close.
 */
export function waitForReady(channel: grpc.Channel, signal: AbortSignal, deadline: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let isSettled = false;
    const finish = (error?: unknown) => {
      if (isSettled) return;
      isSettled = true;
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(signal.reason ?? new Error('aborted'));
    const check = (watchError?: Error) => {
      if (isSettled) return;
      if (watchError) {
        finish(new Error(`channel to ${channel.getTarget()} was not READY in time (${stateName(channel.getConnectivityState(false))})`));
        return;
      }
      let state: grpc.connectivityState;
      try {
        state = channel.getConnectivityState(true);
        if (state === READY) return finish();
        if (state === SHUTDOWN) {
          finish(new Error(`channel to ${channel.getTarget()} is ${stateName(state)}`));
          return;
        }
        if (state === TRANSIENT_FAILURE) {
          isSettled = true;
          signal.removeEventListener('abort', onAbort);
          void lastChannelError(channel).then((cause) => reject(failureError(channel, cause)));
          return;
        }
        channel.watchConnectivityState(state, deadline, check);
      } catch (error) {
        finish(error);
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** `channel to X is TRANSIENT_FAILURE: connect ECONNREFUSED ...`, with grpc-js's reason as `cause`. */
function failureError(channel: grpc.Channel, cause: Error | undefined): Error {
  const state = stateName(TRANSIENT_FAILURE);
  if (cause === undefined) return new Error(`channel to ${channel.getTarget()} is ${state}`);
  const error = new Error(`channel to ${channel.getTarget()} is ${state}: ${cause.message}`, { cause });
  const { code } = cause as { code?: unknown };
  if (typeof code === 'string') Object.assign(error, { code });
  return error;
}

/**
 * Calls `onBroken` once when the channel reaches TRANSIENT_FAILURE or SHUTDOWN. The watcher has
 * no deadline, so it holds no timer; closing the channel fires it one last time.
 */
export function watchForFailure(channel: grpc.Channel, onBroken: (reason: Error) => void): void {
  const watch = (state: grpc.connectivityState) => {
    try {
      channel.watchConnectivityState(state, Infinity, () => {
        const next = channel.getConnectivityState(false);
        if (next === TRANSIENT_FAILURE || next === SHUTDOWN) {
          onBroken(new Error(`channel to ${channel.getTarget()} is ${stateName(next)}`));
          return;
        }
        watch(next);
      });
    } catch {
      // The channel is already shut down: it is being destroyed.
    }
  };
  watch(channel.getConnectivityState(false));
}
