import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgresServer } from '@pool/testkit/pg';

// The embedded server helper the tests, the bench and the demo rely on.
describe('startPostgresServer (testkit)', () => {
  it('fails loudly, with the server log, when PostgreSQL cannot start', async () => {
    const error = await startPostgresServer({ settings: { shared_buffers: 'lots' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/embedded PostgreSQL start failed/);
    expect((error as Error).message).toMatch(/shared_buffers/);
  });

  it('restarts on the same port with the same data', async () => {
    const server = await startPostgresServer();
    try {
      const connect = async () => {
        const client = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
        client.on('error', () => undefined);
        await client.connect();
        return client;
      };
      const before = await connect();
      await before.query('CREATE TABLE kept (id int)');
      await before.query('INSERT INTO kept VALUES (7)');
      const port = server.port;
      await server.restart();
      await expect(before.query('SELECT 1')).rejects.toBeDefined();
      expect(server.port).toBe(port);
      const after = await connect();
      expect((await after.query('SELECT id FROM kept')).rows).toEqual([{ id: 7 }]);
      await after.end();
    } finally {
      await server.stop();
    }
  });
});
