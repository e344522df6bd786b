import type { Socket } from 'node:net';
import { createTcpPool } from '@pool/tcp';
import { startTcpEchoServer } from '@pool/testkit/tcp';
import { test, expect } from 'vitest';

// The example of README.md, verbatim apart from the server it talks to.
test('the README example runs as written', async () => {
const server = await startTcpEchoServer();
const pool = createTcpPool({ nodes: [{ id: 'cache-1', host: '127.0.0.1', port: server.port }], maxPerNode: 8 });

// Your protocol: here one line out, one line back.
const roundTrip = (socket: Socket, line: string) => new Promise<string>((resolve, reject) => {
  let reply = '';
  const done = (error?: Error) => { socket.off('data', onData).off('error', done).off('close', onClose); if (error) reject(error); else resolve(reply.trimEnd()); };
  const onData = (chunk: Buffer) => { reply += chunk; if (reply.endsWith('\n')) done(); };
  const onClose = () => done(new Error('connection closed'));
  socket.on('data', onData).once('error', done).once('close', onClose).write(`${line}\n`);
});

const value = await pool.use((socket) => roundTrip(socket, 'GET user:42'));
expect(value).toBe('GET user:42');
expect(await pool.use((socket) => roundTrip(socket, 'again'))).toBe('again');
expect(pool.stats().created).toBe(1);
expect(pool.stats().destroyed).toBe(0);
await pool.close();
await server.stop();
});
