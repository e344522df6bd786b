import * as grpc from '@grpc/grpc-js';

/** How long the probe may take; a channel in TRANSIENT_FAILURE answers it at once. */
const PROBE_DEADLINE_MS = 1_000;

/** grpc-js's picker text: "No connection established. Last error: <error>. Resolution note: ..." */
const LAST_ERROR = /Last error: (.*?)\.?(?: Resolution note:.*)?$/s;

/**
 * The error grpc-js remembers for a channel in TRANSIENT_FAILURE (`connect ECONNREFUSED ...`, the
 * TLS certificate error, a failed name resolution). grpc-js keeps it in its load balancer and
 * hands it out only in the status of a call that fails to pick a connection, so this starts one
 * call that never reaches a server (no server is connected), without waitForReady, and reads the
 * status. Resolves undefined when the channel has nothing to say.
 */
export function lastChannelError(channel: grpc.Channel): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let call: ReturnType<grpc.Channel['createCall']>;
    try {
      call = channel.createCall('/grpc.pool.Probe/LastError', Date.now() + PROBE_DEADLINE_MS, null, null, 0);
    } catch {
      resolve(undefined);
      return;
    }
    call.start(new grpc.Metadata(), {
      onReceiveMetadata() {},
      onReceiveMessage() {},
      onReceiveStatus(status: grpc.StatusObject) {
        resolve(status.code === grpc.status.OK ? undefined : reasonFrom(status.details));
      },
    });
    call.halfClose();
  });
}

/** An Error for the picker's details, with the errno-style code when the text has one. */
function reasonFrom(details: string): Error | undefined {
  if (details === '') return undefined;
  const text = LAST_ERROR.exec(details)?.[1]?.replace(/^Error: /, '') ?? details;
  const error = new Error(text);
  const code = /\b(E[A-Z]{3,}|ERR_[A-Z0-9_]+|[A-Z_]*CERT[A-Z_]*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\b/.exec(text)?.[1];
  if (code !== undefined) Object.assign(error, { code });
  return error;
}
