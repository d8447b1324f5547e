import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/store-worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

type Message = Record<string, unknown> & { id?: number; event?: string; error?: string };

/** A child node process running test/fixtures/store-worker.mjs against the built package. */
export class StoreWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  readonly #eventWaiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  readonly #events: Message[] = [];
  #nextId = 1;
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr?.on('data', (c: Buffer) => {
      this.#stderr += c.toString();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Message;
      if (message.event) {
        const waiter = this.#eventWaiters.findIndex((w) => w.match(message));
        if (waiter >= 0) this.#eventWaiters.splice(waiter, 1)[0]!.resolve(message);
        else this.#events.push(message);
        return;
      }
      const pending = this.#pending.get(message.id!);
      this.#pending.delete(message.id!);
      if (message.error) pending?.reject(new Error(message.error));
      else pending?.resolve(message);
    });
    child.once('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`worker exited (${code}): ${this.#stderr}`));
      this.#pending.clear();
    });
  }

  static async start(): Promise<StoreWorker> {
    if (!existsSync(dist)) throw new Error('multi-process tests run the built package: pnpm build first');
    const worker = new StoreWorker(spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await worker.nextEvent((m) => m.event === 'ready');
    return worker;
  }

  /** Send a command; resolves its reply (rejects with the worker's error). */
  request(cmd: string, args: Record<string, unknown> = {}): Promise<Message> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** The next unsolicited event matching `match`. */
  nextEvent(match: (m: Message) => boolean, timeoutMs = 15_000): Promise<Message> {
    const queued = this.#events.findIndex(match);
    if (queued >= 0) return Promise.resolve(this.#events.splice(queued, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no event within ${timeoutMs} ms: ${this.#stderr}`)),
        timeoutMs,
      );
      this.#eventWaiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Send a signal to the worker process (SIGKILL: a crash). */
  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Resolves when the worker process has exited. */
  async exited(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    await new Promise((r) => this.#child.once('exit', r));
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    await this.request('close').catch(() => undefined);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * The two workers' busy windows overlapped: the race was real. (Who wins how often is not
 * asserted: SQLite's busy handler is not fair, one writer can starve the other for a while.)
 */
export function expectOverlap(a: Message, b: Message): void {
  const [startA, endA, startB, endB] = [a.startedAt, a.endedAt, b.startedAt, b.endedAt].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  if (!(startA < endB && startB < endA)) {
    throw new Error(`workers did not run concurrently: A ${startA}-${endA}, B ${startB}-${endB}`);
  }
}
