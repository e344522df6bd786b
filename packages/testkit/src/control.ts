import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a child script can ask the test process to do, by name. */
export type ControlActions = Record<string, () => Promise<void> | void>;

export interface ControlServer {
  /** `http://127.0.0.1:<port>`; a script does `await fetch(`${url}/<action>`)`. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A tiny HTTP server in the test process that runs `actions[name]` for `GET /<name>` and answers
 * 200 once it is done (500 with the message if it threw, 404 for an unknown name). A plain-process
 * script uses it to have the test restart or stop its backend at an exact point of the script,
 * e.g. "the pool is idle now: restart the server", and waits for the answer with `fetch`.
 */
export async function startControlServer(actions: ControlActions): Promise<ControlServer> {
  const server = http.createServer((request, response) => {
    const name = new URL(request.url ?? '/', 'http://control').pathname.slice(1);
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (action === undefined) {
      response.writeHead(404).end(`no action ${name}`);
      return;
    }
    Promise.resolve()
      .then(action)
      .then(
        () => response.writeHead(200, { connection: 'close' }).end('done'),
        (error: unknown) => response.writeHead(500, { connection: 'close' }).end(String(error)),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
