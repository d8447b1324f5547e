import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenCache } from '@oauth-cache/core';
import { type CliResult, type Env, runCli, startCli } from './cli.js';

/** How a killed child ended (`code` 0 when it finished before the kill landed). */
export interface KillOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Start the CLI with `args` and SIGKILL it `ms` after spawn (0: at once, before node has loaded
 * anything). When it exits first, nothing is killed and its own exit is returned.
 */
export async function killAfter(args: string[], env: Env, ms: number): Promise<KillOutcome> {
  const child = startCli(args, env);
  // Drain the pipes: a child blocked on a full pipe would not be where the timing says it is.
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  if (ms > 0) await Promise.race([sleep(ms), exited]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const [code, signal] = await exited;
  return { code, signal };
}

/** A CLI run to completion, with its wall time and the part of it the command itself spent. */
export interface TimedRun {
  result: CliResult;
  /** Spawn to exit. */
  wallMs: number;
  /** The command's own time (`seconds` of its `--json` summary): the wall time less node's start-up. */
  workMs: number;
}

/** Run the CLI with `args` (which must include `--json`) and time it. */
export async function timedRun(args: string[], env: Env): Promise<TimedRun> {
  const started = performance.now();
  const result = await runCli(args, env);
  const wallMs = performance.now() - started;
  const seconds = result.code === 0 ? (JSON.parse(result.stdout) as { seconds: number }).seconds : 0;
  return { result, wallMs, workMs: seconds * 1000 };
}

/**
 * As `killOnceLanded` of `cli.ts`, polling `target` every `pollMs` (default 10 ms, so a short run
 * is more often caught mid-way): SIGKILL the CLI once `target` holds `atLeast` active tokens, or
 * not at all when it exits first.
 */
export async function killOnceCount(
  args: string[],
  env: Env,
  target: TokenCache,
  atLeast: number,
  pollMs = 10,
): Promise<KillOutcome> {
  const child = startCli(args, env);
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  while (child.exitCode === null && child.signalCode === null) {
    if ((await target.stats()).summary.totalActiveTokens >= atLeast) {
      child.kill('SIGKILL');
      break;
    }
    await Promise.race([sleep(pollMs), exited]);
  }
  const [code, signal] = await exited;
  return { code, signal };
}
