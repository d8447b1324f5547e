/** Check many tokens against `/mcp` with bounded parallelism. */
import { HttpFailure } from './http.js';
import { mcpToolsList } from './oauth-flow.js';

/** How each checked access token fared. */
export interface TokenCheckResult {
  checked: number;
  /** Answered 200 (the token validated and the call reached 1C). */
  valid: number;
  /** Everything else, by status (`timeout` / `network` without an answer). */
  rejected: Record<string, number>;
}

/** Call `tools/list` with every token in `accessTokens` (at most `parallel` at once). */
export async function checkAccessTokens(
  base: string,
  accessTokens: readonly string[],
  parallel = 8,
): Promise<TokenCheckResult> {
  const result: TokenCheckResult = { checked: 0, valid: 0, rejected: {} };
  let next = 0;
  const worker = async () => {
    while (next < accessTokens.length) {
      const token = accessTokens[next++] as string;
      let outcome: string;
      try {
        const response = await mcpToolsList(base, token, { timeoutMs: 10_000 });
        outcome = String(response.status);
      } catch (error) {
        if (!(error instanceof HttpFailure)) throw error;
        outcome = error.kind;
      }
      result.checked++;
      if (outcome === '200') result.valid++;
      else result.rejected[outcome] = (result.rejected[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return result;
}
