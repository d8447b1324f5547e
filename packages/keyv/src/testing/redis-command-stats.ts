/**
 * Calls of each command, read from the text of `INFO commandstats` (`cmdstat_<name>:calls=<n>,…`).
 * Tests assert with it how many round trips a store made (one script call for a batch, no `MGET`
 * into an empty target): counts the server keeps itself, so no client is wrapped or mocked.
 */
export function parseCommandCalls(info: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match?.[1] && match[2]) calls[match[1]] = Number(match[2]);
  }
  return calls;
}
