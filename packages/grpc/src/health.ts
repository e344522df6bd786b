import * as grpc from '@grpc/grpc-js';

/*
 * grpc.health.v1 by hand, so the package needs no protobuf runtime:
 *   HealthCheckRequest  { string service = 1; }        -> tag 0x0a, length, UTF-8 bytes
 *   HealthCheckResponse { ServingStatus status = 1; }  -> tag 0x08, varint (SERVING = 1)
 */
const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const SERVING = 1;

function encodeVarint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}

export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const name = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...encodeVarint(name.length)]), name]);
}

/** Returns the `status` field (0 = UNKNOWN when absent), skipping unknown fields. */
export function decodeHealthCheckResponse(message: Buffer): number {
  let offset = 0;
  let status = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = message[offset];
      if (byte === undefined) throw new Error('truncated HealthCheckResponse');
      offset += 1;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (offset < message.length) {
    const tag = readVarint();
    const wireType = tag & 7;
    if (wireType === 0) {
      const value = readVarint();
      if (tag >>> 3 === 1) status = value;
    } else if (wireType === 2) offset += readVarint();
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else throw new Error(`unexpected wire type ${wireType} in HealthCheckResponse`);
  }
  return status;
}

/**
 * Calls Health/Check over `client`'s channel. Resolves true for SERVING, false for any other
 * status or error (NOT_FOUND, UNIMPLEMENTED, deadline): a channel that cannot prove health is invalid.
 */
export function checkHealth(client: grpc.Client, service: string, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(false);
    const call = client.makeUnaryRequest(
      HEALTH_CHECK_PATH,
      encodeHealthCheckRequest,
      decodeHealthCheckResponse,
      service,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, status) => {
        signal.removeEventListener('abort', onAbort);
        resolve(!error && status === SERVING);
      },
    );
    const onAbort = () => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
