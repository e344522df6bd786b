import { status as grpcStatus } from '@grpc/grpc-js';

/*
 * A failed operation is counted under a label, so the fault phase can be checked against the
 * errors each package's README says a fault may cause. Labels come from stable codes; only an
 * error without one is labelled by its message (the report is scrubbed of the peers' secrets).
 */

/** A wrong answer (a reply meant for another caller, a bad status): never expected, in any phase. */
export class WrongResult extends Error {
  readonly code = 'WRONG_RESULT';
}

/** A command that a signal killed (an SSH exec result with `signal` set): its label is `exit signal <name>`. */
export class CommandKilled extends Error {
  readonly code: string;

  constructor(signal: string) {
    const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
    super(`the command was killed by ${name}`);
    this.code = `exit signal ${name}`;
  }
}

function field(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

/**
 * The label of a failed operation:
 * - a gRPC `ServiceError` (numeric `code` and `details`): `grpc UNAVAILABLE`, plus the pool's code
 *   when the call never reached a channel (`grpc UNAVAILABLE (pool CREATE_FAILED)`);
 * - anything with a string `code` (PoolError, SshError, undici, Node.js socket errors, pg's SQLSTATE): that code;
 * - else `<name> without code: <start of the message>`.
 */
export function errorLabel(error: unknown): string {
  if (typeof error !== 'object' || error === null) return `thrown ${typeof error}`;
  const code = field(error, 'code');
  if (typeof code === 'number' && typeof field(error, 'details') === 'string') {
    const name = grpcStatus[code] ?? String(code);
    const cause = field(error, 'cause');
    const poolCode = typeof cause === 'object' && cause !== null && field(cause, 'name') === 'PoolError'
      ? field(cause, 'code') : undefined;
    return typeof poolCode === 'string' ? `grpc ${name} (pool ${poolCode})` : `grpc ${name}`;
  }
  if (typeof code === 'string' && code !== '') return code;
  const name = field(error, 'name');
  const message = field(error, 'message');
  return `${typeof name === 'string' ? name : 'Error'} without code: ${typeof message === 'string' ? message.slice(0, 80) : '?'}`;
}

/** Message and the top of the stack of `error` (and of its cause), for a FAIL's details. */
export function errorDetails(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 3; depth++) {
    if (!(current instanceof Error)) {
      lines.push(String(current));
      break;
    }
    lines.push(...(current.stack ?? `${current.name}: ${current.message}`).split('\n').slice(0, 6));
    current = current.cause;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}
