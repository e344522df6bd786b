// A newcomer's script, run as `node scenario.mjs <name>` with the server's target in the env.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createGrpcPool } from '@pool/grpc';

const [scenario] = process.argv.slice(2);
const target = process.env.TARGET;
const ca = process.env.CA;
const proto = grpc.loadPackageDefinition(protoLoader.loadSync(fileURLToPath(new URL('./test.proto', import.meta.url))));
const TestService = proto.pool.test.TestService;
const insecure = grpc.credentials.createInsecure();

async function report(promise) {
  try {
    const value = await promise;
    console.log('value', typeof value === 'object' && value !== null && 'message' in value ? value.message : value);
  } catch (error) {
    console.log('error', error.code, error.message);
    if (error.cause?.code) console.log('cause', error.cause.code);
  }
}

const unary = (pool, message, options) => pool.unary(TestService, 'Unary', { message }, options);

switch (scenario) {
  case 'healthy': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    await report(unary(pool, 'hello'));
    // The callback form and a server stream, through pool.client.
    const client = pool.client(TestService);
    await report(new Promise((resolve, reject) => client.Unary({ message: 'callback' }, (error, reply) => (error ? reject(error) : resolve(reply)))));
    const received = [];
    for await (const reply of client.ServerStream({ message: 'streamed', count: 3, intervalMs: 50 })) received.push(reply.index);
    console.log('stream', received.join(','));
    await pool.drain();
    console.log('created', pool.stats().created, 'destroyed', pool.stats().destroyed);
    break;
  }
  case 'no-drain': {
    // Like a bare grpc-js client: calls keep the process alive, the idle channel does not.
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    await report(unary(pool, 'hello'));
    console.log('no drain');
    break;
  }
  case 'refused':
  case 'blackhole': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure, createTimeoutMs: 300 });
    await report(pool.acquire());
    await report(unary(pool, 'hello'));
    await pool.drain();
    break;
  }
  case 'held': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure, maxPerNode: 1, maxLeasesPerConnection: 1 });
    const lease = await pool.acquire();
    await report(pool.acquire({ timeoutMs: 300 }));
    await report(unary(pool, 'hello', { acquire: { timeoutMs: 300 } }));
    await lease.release();
    await pool.drain();
    break;
  }
  case 'bad-tls': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }] });
    await report(pool.acquire());
    await pool.drain();
    break;
  }
  case 'good-tls': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: grpc.credentials.createSsl(Buffer.from(ca)) });
    await report(unary(pool, 'over tls'));
    await pool.drain();
    break;
  }
  case 'restart': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    await report(unary(pool, 'before'));
    // The test restarts the server while the pool is idle, and answers once it listens again.
    console.log('restart', (await fetch(`${process.env.CONTROL}/restart`)).status);
    await report(unary(pool, 'after'));
    await pool.drain();
    break;
  }
  case 'misspelled': {
    const attempts = [
      { nodes: [{ id: 'a', target }], credentials: insecure, maxPerNod: 1 },
      { nodes: [{ id: 'a', target }], credentials: insecure, healthCheck: { servic: 'x' } },
      { nodes: [{ id: 'a', target: '127.0.0.1:70000' }], credentials: insecure },
      { nodes: [{ id: 'a', target: 'http://127.0.0.1:50051' }], credentials: insecure },
    ];
    for (const options of attempts) {
      try {
        createGrpcPool(options);
        console.log('accepted');
      } catch (error) {
        console.log('error', error.code, error.message);
      }
    }
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    await report(unary(pool, 'x', { aquire: { timeoutMs: 5 } }));
    await report(unary(pool, 'x', { acquire: { timeoutMS: 5 } }));
    await pool.drain();
    break;
  }
  case 'bad-timeout': {
    const pool = createGrpcPool({ nodes: [{ id: 'a', target }], credentials: insecure });
    for (const timeoutMs of [Number.NaN, '50', -1]) await report(unary(pool, 'x', { acquire: { timeoutMs } }));
    await pool.drain();
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
