/**
 * A burst of complete logins (login form + PKCE code exchange) by `concurrency` parallel users,
 * keeping every token response that was received: those are the tokens the server acknowledged,
 * and every one of them must validate later, whatever crashed in between.
 */
import { HttpFailure } from './http.js';
import { FlowError, loginForTokens, type Tokens } from './oauth-flow.js';

/** A token the server acknowledged (HTTP 200 from `/token`). */
export interface AcknowledgedToken {
  tokens: Tokens;
  /** `performance.now()` when the 200 arrived. */
  receivedAt: number;
}

/** Options of {@link runLoginBurst}. */
export interface LoginBurstOptions {
  base: string;
  clientId: string;
  /** Parallel users; worker `i` logs in as `user-i` (see `loadUsers`) from its own 127.0.x.y address. */
  concurrency: number;
  maxLogins: number;
  maxDurationMs: number;
  signal?: AbortSignal;
  /** Called with each acknowledged token as it arrives. */
  onToken?: (token: AcknowledgedToken) => void;
}

/** What a burst saw. */
export interface LoginBurstResult {
  acknowledged: AcknowledgedToken[];
  /** Failed flows by `step:status` (`step:timeout` / `step:network` without an answer). */
  failures: Record<string, number>;
}

/** Run the burst to one of its bounds; flows that fail are counted and the worker goes on. */
export async function runLoginBurst(options: LoginBurstOptions): Promise<LoginBurstResult> {
  const acknowledged: AcknowledgedToken[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  let begun = 0;
  const count = (key: string) => {
    failures[key] = (failures[key] ?? 0) + 1;
  };
  const worker = async (user: number) => {
    while (
      begun < options.maxLogins &&
      performance.now() - started < options.maxDurationMs &&
      !options.signal?.aborted
    ) {
      begun++;
      try {
        // Each worker is another person on another machine: the login limits count attempts in
        // flight per user name and per address, so a shared identity would slow itself down.
        const tokens = await loginForTokens(options.base, options.clientId, {
          username: `user-${user}`,
          password: `pw-${user}`,
          localAddress: `127.0.${1 + Math.floor(user / 200)}.${10 + (user % 200)}`,
          timeoutMs: 10_000,
        });
        const token = { tokens, receivedAt: performance.now() };
        acknowledged.push(token);
        options.onToken?.(token);
      } catch (error) {
        if (error instanceof FlowError) count(`${error.step}:${error.response.status}`);
        else if (error instanceof HttpFailure) {
          count(`flow:${error.kind}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        } else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  return { acknowledged, failures };
}
