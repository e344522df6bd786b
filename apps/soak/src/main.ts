import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readConfig, reportEnd } from './config.js';

/*
 * `npm run soak`: runs soak.ts in a child process, relays its report, and adds the one check the
 * soak cannot make on itself: once the report is printed (pools drained, peers stopped), the
 * process must exit by itself within EXIT_WITHIN_MS, i.e. no socket or timer was left behind.
 */

const EXIT_WITHIN_MS = 10_000;
/** Peers start first (initdb takes a while on a small machine); the run gets this on top of SOAK_SECONDS. */
const STARTUP_AND_SHUTDOWN_MS = 240_000;

const config = readConfig();
const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./soak.js', import.meta.url))], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let reportedAt: number | undefined;
let isReportPassed = false;
let killTimer: NodeJS.Timeout | undefined;
const kill = () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};

createInterface({ input: child.stdout }).on('line', (line) => {
  if (line !== reportEnd('PASS') && line !== reportEnd('FAIL')) {
    console.log(line);
    return;
  }
  reportedAt = performance.now();
  isReportPassed = line === reportEnd('PASS');
  clearTimeout(killTimer);
  killTimer = setTimeout(kill, EXIT_WITHIN_MS);
});
killTimer = setTimeout(kill, config.totalMs + STARTUP_AND_SHUTDOWN_MS);

child.on('exit', (code, signal) => {
  clearTimeout(killTimer);
  const exitedAt = performance.now();
  let isExitPassed: boolean;
  if (reportedAt === undefined) {
    isExitPassed = false;
    console.log(`FAIL  the soak printed its report — it did not (exit ${String(code)}, signal ${String(signal)})`);
  } else {
    const afterMs = exitedAt - reportedAt;
    isExitPassed = signal === null && afterMs <= EXIT_WITHIN_MS;
    console.log(`${isExitPassed ? 'PASS' : 'FAIL'}  the process exits by itself within ${EXIT_WITHIN_MS / 1000} s after the report`
      + ` — ${isExitPassed ? `exited ${(afterMs / 1000).toFixed(2)} s after it` : `killed after ${(afterMs / 1000).toFixed(1)} s (signal ${String(signal)})`}`);
  }
  const isPassed = isExitPassed && isReportPassed;
  console.log(isPassed ? '\nSOAK PASSED' : '\nSOAK FAILED');
  process.exitCode = isPassed ? 0 : 1;
});
