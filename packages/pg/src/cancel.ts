import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type pg from 'pg';

const CANCEL_REQUEST_CODE = 80_877_102;
const SSL_REQUEST_CODE = 80_877_103;

interface BackendKey {
  processID: number | null;
  secretKey: number | null;
}

/**
 * Sends PostgreSQL's CancelRequest for the query running on `client`, on a new connection to the
 * same server (what pg's `Client#cancel` and libpq's `PQcancel` do). Over TLS when the client uses
 * TLS and the server accepts it. Resolves once the server closed the cancel connection, which it does
 * after signalling the backend; never rejects.
 */
export function sendCancelRequest(client: pg.Client, timeoutMs: number): Promise<boolean> {
  const { processID, secretKey } = client as unknown as BackendKey;
  // pg resolved TLS from the config and the connection string (sslmode): use what the client uses.
  const ssl = (client as unknown as { ssl?: boolean | ConnectionOptions }).ssl;
  if (processID === null || secretKey === null) return Promise.resolve(false);
  const request = Buffer.allocUnsafe(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);

  return new Promise((resolve) => {
    let settled = false;
    let socket: Socket;
    const finish = (sent: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(sent);
    };
    const timer = setTimeout(() => finish(false), Math.max(1, timeoutMs));
    timer.unref();
    const host = client.host;
    socket = host.startsWith('/')
      ? netConnect({ path: `${host}/.s.PGSQL.${client.port}` })
      : netConnect({ host, port: client.port });
    socket.on('error', () => finish(false));
    const sendOn = (target: Socket) => {
      target.on('error', () => finish(false));
      target.on('close', () => finish(true));
      target.write(request);
    };
    socket.once('connect', () => {
      if (!ssl) return sendOn(socket);
      const sslRequest = Buffer.allocUnsafe(8);
      sslRequest.writeInt32BE(8, 0);
      sslRequest.writeInt32BE(SSL_REQUEST_CODE, 4);
      socket.write(sslRequest);
      socket.once('data', (answer) => {
        if (answer[0] !== 0x53 /* 'S' */) return sendOn(socket);
        const options: ConnectionOptions = { ...(ssl === true ? {} : ssl), socket };
        if (!/^[\d.:]+$/.test(host)) options.servername = host;
        const secure = tlsConnect(options, () => sendOn(secure));
        secure.on('error', () => finish(false));
      });
    });
  });
}
