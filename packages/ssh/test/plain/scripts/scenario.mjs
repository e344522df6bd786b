// A newcomer's script, run as `node scenario.mjs <name>` with the server's address in the env.
import { createSshPool } from '@pool/ssh';

const [scenario] = process.argv.slice(2);
const host = '127.0.0.1';
const port = Number(process.env.PORT);
const { FINGERPRINT: fingerprint, PASSWORD: password } = process.env;
const node = { id: 'web-1', host, port, hostKeys: [fingerprint] };

async function report(promise) {
  try {
    const value = await promise;
    console.log('value', typeof value === 'object' && value !== null && 'stdout' in value ? `${value.code} ${value.stdout.trim()}` : value);
  } catch (error) {
    console.log('error', error.code, error.message);
    if (error.cause?.code) console.log('cause', error.cause.code);
  }
}

switch (scenario) {
  case 'healthy': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password });
    await report(pool.exec('echo hello'));
    await report(pool.sftp((sftp) => new Promise((resolve, reject) => sftp.readdir('.', (error, list) => (error ? reject(error) : resolve(`listed ${list.length}`))))));
    await pool.drain();
    console.log('created', pool.stats().created, 'destroyed', pool.stats().destroyed);
    break;
  }
  case 'refused':
  case 'blackhole': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password, createTimeoutMs: 300 });
    await report(pool.exec('echo hello'));
    await pool.drain();
    break;
  }
  case 'held': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password, maxPerNode: 1, maxLeasesPerConnection: 1 });
    const lease = await pool.acquire();
    await report(pool.exec('echo hello', { acquireTimeoutMs: 300 }));
    await report(pool.acquire({ timeoutMs: 300 }));
    await lease.release();
    await pool.drain();
    break;
  }
  case 'unknown-host-key': {
    // Nothing is known for this host: the key is refused, never trusted on first use.
    const pool = createSshPool({ nodes: [{ id: 'web-1', host, port }], knownHosts: '', username: 'deploy', password });
    const started = Date.now();
    await report(pool.exec('echo hello'));
    console.log('failed within', Date.now() - started < 2_000 ? '2 s' : `${Date.now() - started} ms`);
    await pool.drain();
    break;
  }
  case 'wrong-password': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password: 'not-the-password' });
    await report(pool.exec('echo hello'));
    await pool.drain();
    break;
  }
  case 'restart': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password });
    await report(pool.exec('echo before'));
    // The test restarts the server while the pool is idle, and answers once it listens again.
    console.log('restart', (await fetch(`${process.env.CONTROL}/restart`)).status);
    await report(pool.exec('echo after'));
    await pool.drain();
    break;
  }
  case 'misspelled': {
    const attempts = [
      { nodes: [node], username: 'deploy', password, maxPerNod: 1 },
      { nodes: [node], username: 'deploy', password, knownHost: '' },
      { nodes: [node], username: 'deploy', password, connectOptions: { idnet: 'x' } },
    ];
    for (const options of attempts) {
      try {
        createSshPool(options);
        console.log('accepted');
      } catch (error) {
        console.log('error', error.code, error.message);
      }
    }
    const pool = createSshPool({ nodes: [node], username: 'deploy', password });
    await report(pool.exec('echo x', { timeoutMS: 5_000 }));
    await report(pool.sftp(() => 1, { maxOutputBytes: 1 }));
    await report(pool.exec(42));
    await report(pool.sftp('ls'));
    await pool.drain();
    break;
  }
  case 'bad-timeout': {
    const pool = createSshPool({ nodes: [node], username: 'deploy', password });
    for (const timeoutMs of [Number.NaN, '50', -1]) await report(pool.exec('echo x', { timeoutMs }));
    await report(pool.exec('echo x', { acquireTimeoutMs: Number.NaN }));
    await report(pool.sftp(() => 1, { timeoutMs: '50' }));
    await pool.drain();
    break;
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
