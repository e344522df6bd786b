// Run by scripts/check-packages.mjs inside a fresh npm project holding the packed @pool/grpc and
// the OLDEST @grpc/grpc-js its peer range admits (the workspace tests run the newest): unary,
// callback and server-streaming calls against a grpc-js server (the workspace's), from import and
// require. The client side loads the schema with the project's own grpc-js and proto-loader.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// Not every version exports ./package.json: read it next to the resolved entry.
const installedVersion = (name) => {
  let dir = require.resolve(name);
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
};
const { startGrpcServer, testProtoJson } = await import(join(process.env.POOL_TESTKIT_DIST, 'grpc.js'));
const grpc = require('@grpc/grpc-js');
const protoLoader = await import('@grpc/proto-loader');
const { createGrpcPool, isPoolError } = await import('@pool/grpc');
assert.equal(require('@pool/grpc').createGrpcPool, createGrpcPool);

const definition = protoLoader.fromJSON(testProtoJson, { defaults: true });
const { TestService } = grpc.loadPackageDefinition(definition).pool.test;
const server = await startGrpcServer();
try {
  const pool = createGrpcPool({ nodes: [{ id: 'a', target: server.target }], credentials: grpc.credentials.createInsecure() });
  const reply = await pool.unary(TestService, 'Unary', { message: 'hello' });
  assert.equal(reply.message, 'hello');
  const client = pool.client(TestService);
  const viaCallback = await new Promise((resolve, reject) => client.Unary({ message: 'cb' }, (error, response) => (error ? reject(error) : resolve(response))));
  assert.equal(viaCallback.message, 'cb');
  const streamed = [];
  for await (const item of client.ServerStream({ message: 'x', count: 3 })) streamed.push(item.message);
  assert.ok(streamed.length >= 1, 'the server stream delivered messages');
  await pool.close();
  // A call after close fails as a grpc ServiceError (UNAVAILABLE) whose cause is the PoolError.
  await assert.rejects(pool.unary(TestService, 'Unary', { message: 'late' }), (error) => error.code === grpc.status.UNAVAILABLE && isPoolError(error.cause, 'POOL_CLOSED'));
  console.log(`@grpc/grpc-js ${installedVersion('@grpc/grpc-js')}: unary, callback and server-stream calls work`);
} finally {
  await server.stop();
}
