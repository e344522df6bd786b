import net from 'node:net';
import { performance } from 'node:perf_hooks';

// The adaptive bench's backend, run as its own process so its queue and timers do not share an
// event loop with the 64 callers. Each node is a line server on 127.0.0.1 with a fixed number of
// workers and one FIFO queue: a request ("<n>\n") waits for a free worker, which holds it for the
// node's service time and then writes the line back.
//
// Service time model: a timer (setTimeout), not a busy-wait: a worker is a slot that is busy for
// the service time, as a database worker waiting on its disk or a downstream is. A busy-wait would
// need one core per worker, and this machine has two shared by many processes. The measured mean
// service time is reported, since timers fire late by up to a millisecond.
//
// Control over IPC: { type: 'service', node, serviceMs } changes a node's service time (the gray
// failure); { type: 'report' } answers { type: 'report', nodes: [{ served, meanServiceMs }] }.

interface NodeSpec {
  workers: number;
  serviceMs: number;
}

interface Job {
  socket: net.Socket;
  line: string;
}

class WorkerNode {
  readonly server: net.Server;
  private readonly queue: (Job | undefined)[] = [];
  private head = 0;
  private busy = 0;
  private served = 0;
  private serviceTotalMs = 0;

  constructor(private readonly workers: number, public serviceMs: number) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  report(): { served: number; meanServiceMs: number } {
    const report = { served: this.served, meanServiceMs: this.served > 0 ? this.serviceTotalMs / this.served : NaN };
    this.served = 0;
    this.serviceTotalMs = 0;
    return report;
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        this.enqueue({ socket, line: pending.slice(0, newline + 1) });
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    this.startNext();
  }

  private startNext(): void {
    while (this.busy < this.workers && this.head < this.queue.length) {
      const job = this.queue[this.head] as Job;
      this.queue[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.busy++;
      const started = performance.now();
      setTimeout(() => {
        this.busy--;
        this.served++;
        this.serviceTotalMs += performance.now() - started;
        if (!job.socket.destroyed) job.socket.write(job.line);
        this.startNext();
      }, this.serviceMs);
    }
  }
}

const specs = JSON.parse(process.argv[2] ?? '[]') as NodeSpec[];
const nodes = specs.map((spec) => new WorkerNode(spec.workers, spec.serviceMs));
const ports = await Promise.all(
  nodes.map(
    (node) =>
      new Promise<number>((resolve) => {
        node.server.listen(0, '127.0.0.1', () => resolve((node.server.address() as net.AddressInfo).port));
      }),
  ),
);

process.on('message', (message: { type: string; node?: number; serviceMs?: number }) => {
  if (message.type === 'service' && message.node !== undefined && message.serviceMs !== undefined) {
    const node = nodes[message.node];
    if (node !== undefined) node.serviceMs = message.serviceMs;
  } else if (message.type === 'report') {
    process.send?.({ type: 'report', nodes: nodes.map((node) => node.report()) });
  }
});
// The parent going away ends the backend.
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', ports });
