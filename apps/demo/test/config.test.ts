import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { scrub } from '../src/scrub.js';

describe('loadConfig', () => {
  it('defaults: port 3000 on 127.0.0.1, 8 ops/s, every server embedded', () => {
    expect(loadConfig([], {})).toEqual({ host: '127.0.0.1', port: 3000, rate: 8, external: {} });
  });

  it('reads the DEMO_* variables: each external server replaces its embedded one', () => {
    const config = loadConfig([], {
      DEMO_PORT: '0',
      DEMO_RATE: '3',
      DEMO_PG_URL: 'postgres://app:s3cret-pw@db.internal:5432/app',
      DEMO_HTTP2_ORIGIN: 'https://api.internal:8443',
      DEMO_HTTP2_PATH: '/healthz',
      DEMO_GRPC_TARGET: 'grpc.internal:50051',
      DEMO_GRPC_TLS: '1',
      DEMO_SSH_HOST: 'box.internal',
      DEMO_SSH_USER: 'deploy',
      DEMO_SSH_PASSWORD: 'hunter22',
      DEMO_SSH_HOSTKEY: 'SHA256:abc',
      DEMO_TCP_HOST: 'echo.internal',
      DEMO_TCP_PORT: '7',
    });
    expect(config.port).toBe(0);
    expect(config.rate).toBe(3);
    expect(config.external).toEqual({
      pg: [{ id: 'pg-ext', connectionString: 'postgres://app:s3cret-pw@db.internal:5432/app' }],
      http2: { nodes: [{ id: 'h2-ext', origin: 'https://api.internal:8443' }], path: '/healthz' },
      grpc: { nodes: [{ id: 'grpc-ext', target: 'grpc.internal:50051' }], tls: true },
      ssh: {
        nodes: [{ id: 'ssh-ext', host: 'box.internal', port: 22, username: 'deploy', password: 'hunter22', hostKey: 'SHA256:abc' }],
        command: 'echo pool-demo',
      },
      tcp: [{ id: 'tcp-ext', host: 'echo.internal', port: 7 }],
    });
  });

  it('reads --config file.json, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-demo-config-'));
    const file = join(dir, 'demo.json');
    writeFileSync(file, JSON.stringify({
      port: 4000,
      rate: 12,
      tcp: { nodes: [{ id: 'a', host: '10.0.0.1', port: 7000 }, { id: 'b', host: '10.0.0.2', port: 7000 }] },
      grpc: { nodes: [{ id: 'g', target: '10.0.0.3:50051' }] },
    }));
    const config = loadConfig(['--config', file], { DEMO_PORT: '4001' });
    expect(config.port).toBe(4001);
    expect(config.rate).toBe(12);
    expect(config.external.tcp?.map((node) => node.id)).toEqual(['a', 'b']);
    expect(config.external.grpc).toEqual({ nodes: [{ id: 'g', target: '10.0.0.3:50051' }], tls: false });
    expect(config.external.pg).toBeUndefined();
  });

  it('rejects bad values with a message naming the setting, never echoing a secret', () => {
    expect(() => loadConfig([], { DEMO_PORT: 'abc' })).toThrow(/DEMO_PORT must be an integer from 0 to 65535; got "abc"/);
    expect(() => loadConfig([], { DEMO_RATE: '1000' })).toThrow(ConfigError);
    expect(() => loadConfig([], { DEMO_SSH_HOST: 'h', DEMO_SSH_USER: 'u', DEMO_SSH_HOSTKEY: 'k' })).toThrow(/DEMO_SSH_PASSWORD or DEMO_SSH_KEY_FILE/);
    expect(() => loadConfig(['--config'], {})).toThrow(/--config needs a file path/);
    const dir = mkdtempSync(join(tmpdir(), 'pool-demo-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"pg": {"nodes": [{"connectionString": "postgres://u:topsecret@h/db"}]');
    let message = '';
    try {
      loadConfig(['--config', file], {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/is not a valid JSON object/);
    expect(message).not.toContain('topsecret');
  });
});

describe('scrub', () => {
  it('DEMO_OTEL=console turns the OpenTelemetry console export on; anything but console or off is refused', () => {
    expect(loadConfig([], { DEMO_OTEL: 'console' }).otel).toBe('console');
    expect(loadConfig([], { DEMO_OTEL: 'off' }).otel).toBeUndefined();
    expect(() => loadConfig([], { DEMO_OTEL: 'otlp' })).toThrow(new ConfigError('DEMO_OTEL must be console or off; got "otlp"'));
  });

  it('hides known secrets and URL passwords', () => {
    expect(scrub('connect postgres://app:pw1234@db:5432/x failed for pw1234', ['pw1234'])).toBe('connect postgres://app:***@db:5432/x failed for ***');
    expect(scrub('http://127.0.0.1:3000/metrics', [])).toBe('http://127.0.0.1:3000/metrics');
  });
});
