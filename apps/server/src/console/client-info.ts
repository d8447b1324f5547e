/**
 * Client names and redirect hosts for the user page, from the authorization server's registry
 * (registered clients, and client ID metadata documents, whose cached answer lives in the store).
 * A lookup that fails or takes too long leaves the client id shown instead: the page must not
 * wait on a remote metadata host.
 */
import type { ClientRecord } from '@oauth-cache/authorization-server';
import type { ClientInfo } from './views.js';

/** Longest wait for one client's record. */
const LOOKUP_TIMEOUT_MS = 1000;

export type ClientLookup = (clientId: string) => Promise<ClientRecord | undefined>;

/** Info of each distinct id in `clientIds` that could be looked up. */
export async function clientInfos(
  lookup: ClientLookup,
  clientIds: Iterable<string>,
): Promise<Map<string, ClientInfo>> {
  const ids = [...new Set(clientIds)];
  const found = await Promise.all(ids.map((id) => withTimeout(lookup(id))));
  const infos = new Map<string, ClientInfo>();
  ids.forEach((id, i) => {
    const record = found[i];
    if (!record) return;
    // Cf characters are refused at registration; stripped here too for older records.
    const name = record.client_name?.replace(/\p{Cf}/gu, '');
    infos.set(id, { ...(name ? { name } : {}), redirectHosts: redirectHosts(record.redirect_uris) });
  });
  return infos;
}

function redirectHosts(uris: readonly string[] | undefined): string[] {
  const hosts = new Set<string>();
  for (const uri of uris ?? []) {
    try {
      hosts.add(new URL(uri).host);
    } catch {
      // a stored URI that does not parse any more: nothing to show
    }
  }
  return [...hosts];
}

async function withTimeout(lookup: Promise<ClientRecord | undefined>): Promise<ClientRecord | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      lookup.catch(() => undefined),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
