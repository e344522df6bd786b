// A newcomer's script, run as `node scenario.mjs <name>` with the server's address in the env.
// Plain JavaScript, nothing but the package and node: the way a user meets the pool.
import { createTcpPool } from '@pool/tcp';

const [scenario] = process.argv.slice(2);
const host = '127.0.0.1';
const port = Number(process.env.PORT);
const ca = process.env.CA;

function lineRoundTrip(socket, line) {
  return new Promise((resolve, reject) => {
    let reply = '';
    const onData = (chunk) => {
      reply += chunk;
      if (reply.endsWith('\n')) done();
    };
    const onClose = () => done(new Error('connection closed'));
    const done = (error) => {
      socket.off('data', onData).off('error', done).off('close', onClose);
      if (error) reject(error);
      else resolve(reply.trimEnd());
    };
    socket.on('data', onData).once('error', done).once('close', onClose).write(`${line}\n`);
  });
}

async function report(promise) {
  try {
    console.log('value', await promise);
  } catch (error) {
    console.log('error', error.code, error.message);
    if (error.cause?.code) console.log('cause', error.cause.code);
  }
}

switch (scenario) {
  case 'healthy': {
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port }] });
    await report(pool.use((socket) => lineRoundTrip(socket, 'hello')));
    const { created } = pool.stats();
    await pool.drain();
    console.log('created', created, 'destroyed', pool.stats().destroyed);
    break;
  }
  case 'refused':
  case 'blackhole': {
    const pool = createTcpPool({
      nodes: [{ id: 'a', host, port, ...(scenario === 'blackhole' ? { tls: true } : {}) }],
      createTimeoutMs: 300,
    });
    await report(pool.use((socket) => lineRoundTrip(socket, 'hello')));
    await pool.drain();
    break;
  }
  case 'held': {
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port }], maxPerNode: 1 });
    const lease = await pool.acquire();
    const started = Date.now();
    await report(pool.acquire({ timeoutMs: 300 }));
    console.log('waited', Date.now() - started >= 250 ? 'about 300 ms' : `${Date.now() - started} ms`);
    await lease.release();
    await pool.drain();
    break;
  }
  case 'bad-tls': {
    // The server's certificate is signed by a CA this client does not trust.
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port, tls: { servername: 'localhost' } }] });
    await report(pool.use((socket) => lineRoundTrip(socket, 'hello')));
    await pool.drain();
    break;
  }
  case 'good-tls': {
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port, tls: { ca, servername: 'localhost' } }] });
    await report(pool.use((socket) => lineRoundTrip(socket, 'hello')));
    await pool.drain();
    break;
  }
  case 'restart': {
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port }] });
    await report(pool.use((socket) => lineRoundTrip(socket, 'before')));
    // The test restarts the server while the pool is idle, and answers once it listens again.
    console.log('restart', (await fetch(`${process.env.CONTROL}/restart`)).status);
    await report(pool.use((socket) => lineRoundTrip(socket, 'after')));
    await pool.drain();
    console.log('created', pool.stats().created);
    break;
  }
  case 'misspelled': {
    for (const options of [
      { nodes: [{ id: 'a', host, port }], maxPerNod: 1 },
      { nodes: [{ id: 'a', host, port, tls: { rejectUnauthorised: false } }] },
    ]) {
      try {
        createTcpPool(options);
      } catch (error) {
        console.log('error', error.code, error.message);
      }
    }
    break;
  }
  case 'bad-timeout': {
    const pool = createTcpPool({ nodes: [{ id: 'a', host, port }] });
    for (const timeoutMs of [Number.NaN, '50', -1]) await report(pool.acquire({ timeoutMs }));
    await pool.drain();
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
