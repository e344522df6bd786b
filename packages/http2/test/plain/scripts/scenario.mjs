// A newcomer's script, run as `node scenario.mjs <name>` with the server's origin in the env.
import { createHttp2Pool } from '@pool/http2';
import { request } from 'undici';

const [scenario] = process.argv.slice(2);
const origin = process.env.ORIGIN;
const ca = process.env.CA;

async function report(promise) {
  try {
    console.log('value', await promise);
  } catch (error) {
    console.log('error', error.code, error.message);
    if (error.cause?.code) console.log('cause', error.cause.code);
  }
}

const text = async (response) => `${response.statusCode} ${await response.body.text()}`;

switch (scenario) {
  case 'healthy': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }], connect: ca ? { ca } : undefined });
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    await pool.drain();
    console.log('created', pool.stats().created, 'destroyed', pool.stats().destroyed);
    break;
  }
  case 'no-drain': {
    // Like fetch: the requests keep the process alive, the idle session does not.
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }] });
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    await report(request(`${origin}/echo`, { method: 'POST', body: 'via dispatcher', dispatcher: pool.dispatcher }).then(text));
    const { body } = await pool.request({ method: 'GET', path: '/delay?ms=200' });
    for await (const chunk of body) console.log('read', String(chunk));
    console.log('no drain');
    break;
  }
  case 'refused':
  case 'blackhole': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }], createTimeoutMs: 300 });
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    await pool.drain();
    break;
  }
  case 'held': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }], sessionsPerNode: 1, maxLeasesPerConnection: 1 });
    const lease = await pool.acquire();
    await report(pool.request({ method: 'GET', path: '/hello', acquireTimeoutMs: 300 }).then(text));
    await report(pool.acquire({ timeoutMs: 300 }));
    await lease.release();
    await pool.drain();
    break;
  }
  case 'bad-tls': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }] });
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    await pool.drain();
    break;
  }
  case 'restart': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }] });
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    // The test restarts the server while the pool is idle, and answers once it listens again.
    console.log('restart', (await fetch(`${process.env.CONTROL}/restart`)).status);
    await report(pool.request({ method: 'GET', path: '/hello' }).then(text));
    await pool.drain();
    console.log('created', pool.stats().created);
    break;
  }
  case 'misspelled': {
    for (const options of [{ sessionsPerNod: 1 }, { client: { maxHeaderSzie: 1 } }, { connect: { serverName: 'api' } }]) {
      try {
        createHttp2Pool({ nodes: [{ id: 'a', origin }], ...options });
      } catch (error) {
        console.log('error', error.code, error.message);
      }
    }
    break;
  }
  case 'bad-timeout': {
    const pool = createHttp2Pool({ nodes: [{ id: 'a', origin }] });
    for (const acquireTimeoutMs of [Number.NaN, '50', -1]) {
      await report(pool.request({ method: 'GET', path: '/hello', acquireTimeoutMs }).then(text));
    }
    await pool.drain();
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
