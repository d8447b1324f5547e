import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Where {@link RedisCommandMonitor.start} connects. */
export interface RedisMonitorOptions {
  port: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Sent with `AUTH` on both connections when the server requires it. */
  password?: string;
  /** How long to wait for a mark to come back through the feed. Default 10 s. */
  timeoutMs?: number;
  /**
   * Command names (any case) left out of every span, e.g. `['ping']`: a store's keep-alive PING
   * (node-redis `pingInterval`) lands in a measured window now and then, and belongs to no call.
   */
  ignoreCommands?: string[];
}

/** Commands the server ran between two marks (see {@link RedisCommandMonitor.measure}). */
export interface CommandSpan {
  /** Names (lower case) of the commands clients sent, in order; the monitor's own marks excluded. */
  clientCommands: string[];
  /** Names of the commands scripts ran inside `EVAL`/`EVALSHA`/`FCALL` (not round trips). */
  scriptCommands: string[];
  /**
   * Requests the clients waited on: every client command counts one, except that a whole
   * `MULTI … EXEC` block counts one (node-redis sends it as one write). Plain pipelining (several
   * commands in one write without MULTI) cannot be told apart on the server and counts per command,
   * so this is an upper bound on round trips.
   */
  roundTrips: number;
}

interface FeedLine {
  client: string;
  command: string;
  /** The whole line, to find a mark's argument. */
  text: string;
}

/** `+<unix.micros> [<db> <client>] "<command>" "<arg>" …`; `<client>` is `lua` inside scripts. */
const FEED_LINE = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "((?:[^"\\]|\\.)*)"/;

function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

async function openSocket(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Count the round trips of one call from its side of `MONITOR` output. */
function countRoundTrips(lines: FeedLine[]): number {
  let trips = 0;
  const inMulti = new Set<string>();
  for (const { client, command } of lines) {
    if (inMulti.has(client)) {
      if (command === 'exec' || command === 'discard') inMulti.delete(client);
      continue;
    }
    trips += 1;
    if (command === 'multi') inMulti.add(client);
  }
  return trips;
}

/**
 * Counts the commands a Redis server runs for one call, from a `MONITOR` connection.
 *
 * Why MONITOR: `INFO commandstats` (and `total_commands_processed`) count the commands a Lua script
 * runs under their own names, indistinguishable from commands a client sent, so one `EVALSHA` of a
 * ten-command script looks like eleven; Redis 7.0 has no per-client command counter (`tot-cmds`
 * came later). The MONITOR feed names the sender of every command and marks the commands run by
 * scripts with `lua` as the client, so client-sent commands, i.e. round trips, can be counted apart.
 *
 * A measurement is delimited by marks: `ECHO <random>` on a second connection of the monitor's own,
 * seen in the feed before the call starts and after it ended. Redis runs commands one at a time and
 * feeds the monitor in that order, so everything the call made (after a short settle, which also
 * catches work it left running in the background) lies between the two marks. Commands of the mark
 * connection are left out; any other client's commands in that window are counted, so measure on a
 * server nobody else uses.
 */
export class RedisCommandMonitor {
  readonly #feed: Socket;
  readonly #marker: Socket;
  readonly #timeoutMs: number;
  readonly #ignored: Set<string>;
  #buffer = '';
  #lines: FeedLine[] = [];
  #waiters: Array<() => void> = [];

  private constructor(feed: Socket, marker: Socket, options: RedisMonitorOptions) {
    this.#feed = feed;
    this.#marker = marker;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#ignored = new Set((options.ignoreCommands ?? []).map((name) => name.toLowerCase()));
    feed.setEncoding('utf8');
    feed.on('data', (chunk: string) => this.#receive(chunk));
    // Mark replies are not needed (the feed shows the mark ran); drain them.
    marker.on('data', () => undefined);
    feed.on('error', () => undefined);
    marker.on('error', () => undefined);
  }

  /** Open the feed (`MONITOR`) and the mark connection; resolves once the feed is running. */
  static async start(options: RedisMonitorOptions): Promise<RedisCommandMonitor> {
    const host = options.host ?? '127.0.0.1';
    const [feed, marker] = await Promise.all([
      openSocket(host, options.port),
      openSocket(host, options.port),
    ]);
    const auth = options.password === undefined ? '' : resp('AUTH', options.password);
    const monitor = new RedisCommandMonitor(feed, marker, options);
    if (auth) marker.write(auth);
    feed.write(`${auth}${resp('MONITOR')}`);
    await monitor.#mark(); // the feed is live once it shows a mark
    return monitor;
  }

  /**
   * Run `call` and report what the server ran for it. `settleMs` (default 25) is waited after the
   * call resolved, so commands it issued without awaiting them are counted too.
   */
  async measure<T>(call: () => Promise<T>, settleMs = 25): Promise<{ result: T; span: CommandSpan }> {
    await this.#mark();
    const result = await call();
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    const end = await this.#mark();
    const lines = end.before.filter((line) => line.client !== end.client && !this.#ignored.has(line.command));
    const fromClients = lines.filter((line) => line.client !== 'lua');
    return {
      result,
      span: {
        clientCommands: fromClients.map((line) => line.command),
        scriptCommands: lines.filter((line) => line.client === 'lua').map((line) => line.command),
        roundTrips: countRoundTrips(fromClients),
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.#feed, this.#marker].map((socket) => new Promise<void>((resolve) => socket.end(() => resolve()))),
    );
    this.#feed.destroy();
    this.#marker.destroy();
  }

  /**
   * Send a mark and wait until the feed shows it. Resolves the mark connection's client address and
   * the lines fed before the mark (since the previous mark); they leave the buffer.
   */
  async #mark(): Promise<{ client: string; before: FeedLine[] }> {
    const token = `oc-monitor-mark-${randomBytes(9).toString('hex')}`;
    this.#marker.write(resp('ECHO', token));
    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const found = this.#lines.findIndex((line) => line.command === 'echo' && line.text.includes(token));
      if (found >= 0) {
        const client = this.#lines[found]?.client ?? '';
        const before = this.#lines.slice(0, found);
        this.#lines = this.#lines.slice(found + 1);
        return { client, before };
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('redis MONITOR feed did not show the mark in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    // Monitor lines escape CR and LF inside arguments, so a line ends only at a real CRLF.
    let end = this.#buffer.indexOf('\r\n');
    while (end >= 0) {
      const text = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const match = FEED_LINE.exec(text);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        this.#lines.push({ client: match[1], command: match[2].toLowerCase(), text });
      }
      end = this.#buffer.indexOf('\r\n');
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
