import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DASHBOARD_HTML } from './dashboard.js';
import type { DemoMetrics } from './metrics.js';
import { scrub } from './scrub.js';
import type { Snapshot } from './snapshot.js';

export interface HttpHandlers {
  host: string;
  port: number;
  snapshot(): Snapshot;
  /** Static facts sent once per dashboard connection: nodes and the fault buttons. */
  hello(): unknown;
  metrics: DemoMetrics;
  health(): Promise<{ healthy: boolean }>;
  setRate(rate: number): void;
  runFault(id: string): Promise<string>;
  secrets: readonly string[];
}

export interface DemoHttpServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** How often the dashboard gets a snapshot over server-sent events. */
export const SSE_INTERVAL_MS = 250;
const MAX_BODY_BYTES = 4_096;

/**
 * The dashboard's HTTP server: `/` (the page), `/events` (SSE snapshots), `/api/state`,
 * `/metrics` (Prometheus), `/health`, and the control endpoints `POST /api/load` and
 * `POST /api/fault`.
 */
export async function startHttpServer(handlers: HttpHandlers): Promise<DemoHttpServer> {
  const streams = new Set<http.ServerResponse>();
  let ticker: NodeJS.Timeout | undefined;

  // One snapshot per tick, shared by every open dashboard.
  const broadcast = () => {
    if (streams.size === 0) return;
    const data = `data: ${safeJson(handlers.snapshot(), handlers.secrets)}\n\n`;
    for (const stream of streams) stream.write(data);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: scrub((error as Error)?.message ?? 'internal error', handlers.secrets) });
      else response.destroy();
    });
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = `${request.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(DASHBOARD_HTML);
        return;
      case 'GET /events':
        openStream(response);
        return;
      case 'GET /api/state':
        sendJson(response, 200, handlers.snapshot());
        return;
      case 'GET /metrics': {
        const text = await handlers.metrics.render();
        response.writeHead(200, { 'content-type': handlers.metrics.contentType });
        response.end(scrub(text, handlers.secrets));
        return;
      }
      case 'GET /health': {
        const report = await handlers.health();
        sendJson(response, report.healthy ? 200 : 503, report);
        return;
      }
      case 'POST /api/load': {
        const body = await readJson(request, response);
        if (body === undefined) return;
        const rate = (body as { rate?: unknown }).rate;
        if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 200) {
          sendJson(response, 400, { error: 'rate must be a number from 0 to 200 (ops/s per operation)' });
          return;
        }
        handlers.setRate(rate);
        sendJson(response, 200, { rate });
        return;
      }
      case 'POST /api/fault': {
        const body = await readJson(request, response);
        if (body === undefined) return;
        const id = (body as { id?: unknown }).id;
        if (typeof id !== 'string') {
          sendJson(response, 400, { error: 'body must be {"id": "<fault id>"}' });
          return;
        }
        try {
          const message = await handlers.runFault(id);
          sendJson(response, 200, { ok: true, message });
        } catch (error) {
          const status = error instanceof RangeError ? 404 : 500;
          sendJson(response, status, { ok: false, error: scrub((error as Error)?.message ?? String(error), handlers.secrets) });
        }
        return;
      }
      default:
        sendJson(response, url.pathname === '/' || knownPaths.has(url.pathname) ? 405 : 404, { error: `no route ${route}` });
    }
  }

  function openStream(response: http.ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write(`retry: 1000\nevent: hello\ndata: ${safeJson(handlers.hello(), handlers.secrets)}\n\n`);
    response.write(`data: ${safeJson(handlers.snapshot(), handlers.secrets)}\n\n`);
    streams.add(response);
    response.on('close', () => streams.delete(response));
    if (!ticker) {
      ticker = setInterval(broadcast, SSE_INTERVAL_MS);
      ticker.unref();
    }
  }

  async function readJson(request: http.IncomingMessage, response: http.ServerResponse): Promise<unknown> {
    // A JSON content type makes a cross-site form post impossible without a CORS preflight we never allow.
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      sendJson(response, 415, { error: 'send Content-Type: application/json' });
      return undefined;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        sendJson(response, 413, { error: 'body too large' });
        return undefined;
      }
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
    } catch {
      sendJson(response, 400, { error: 'body is not valid JSON' });
      return undefined;
    }
  }

  function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(safeJson(body, handlers.secrets));
  }

  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: handlers.host, port: handlers.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    address: server.address() as AddressInfo,
    async close() {
      clearInterval(ticker);
      ticker = undefined;
      for (const stream of streams) stream.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const knownPaths = new Set(['/events', '/api/state', '/metrics', '/health', '/api/load', '/api/fault']);

function safeJson(value: unknown, secrets: readonly string[]): string {
  return scrub(JSON.stringify(value), secrets);
}
