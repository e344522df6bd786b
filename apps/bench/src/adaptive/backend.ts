import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One node of the worker backend: `workers` slots, each busy `serviceMs` per request. */
export interface WorkerNodeSpec {
  workers: number;
  serviceMs: number;
}

export interface WorkerBackend {
  /** Where each node listens, in the order of the specs. */
  readonly ports: readonly number[];
  readonly host: string;
  /** Changes node `index`'s service time from now on (the gray failure and its healing). */
  setServiceMs(index: number, serviceMs: number): void;
  /** Requests served and their mean service time per node since the last report. */
  report(): Promise<{ served: number; meanServiceMs: number }[]>;
  stop(): Promise<void>;
}

/** Starts the backend process (see backend-process.ts) and waits until every node listens. */
export async function startWorkerBackend(specs: readonly WorkerNodeSpec[]): Promise<WorkerBackend> {
  const script = fileURLToPath(new URL('./backend-process.js', import.meta.url));
  const child: ChildProcess = fork(script, [JSON.stringify(specs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench backend did not start within 10 s')), 10_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the bench backend exited with ${code} before listening`)));
    child.on('message', function onReady(message: { type: string; ports?: number[] }) {
      if (message.type !== 'ready' || message.ports === undefined) return;
      clearTimeout(timer);
      child.off('message', onReady);
      resolve(message.ports);
    });
  });
  child.removeAllListeners('exit');
  return {
    ports,
    host: '127.0.0.1',
    setServiceMs: (index, serviceMs) => {
      child.send({ type: 'service', node: index, serviceMs });
    },
    report: () =>
      new Promise((resolve) => {
        child.on('message', function onReport(message: { type: string; nodes?: { served: number; meanServiceMs: number }[] }) {
          if (message.type !== 'report' || message.nodes === undefined) return;
          child.off('message', onReport);
          resolve(message.nodes);
        });
        child.send({ type: 'report' });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}
