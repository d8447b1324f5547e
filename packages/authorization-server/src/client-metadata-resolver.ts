/**
 * Resolves a URL client id to its client: the document is fetched with {@link safeFetchJson},
 * validated by {@link clientFromMetadataDocument} and cached in the cache's store, so every
 * instance sharing the store shares the answer. Concurrent resolutions of one URL in this process
 * share one store read and at most one fetch.
 *
 * Cache lifetime (decided here, documented in the README): `max-age` / `s-maxage` from the
 * document's `Cache-Control`, clamped to [1 min, 24 h]; `no-store` / `no-cache` still cache for the
 * minimum (a fetch per request would let any client make this server fetch at will); no header:
 * 1 h. Failures are cached for 30 s, so a broken or hostile URL is fetched at most twice a minute.
 */
import type { TokenCache } from '@oauth-cache/core';
import { ClientMetadataDocumentError, clientFromMetadataDocument } from './client-metadata-document.js';
import type { ClientRecord } from './clients.js';
import { OAuthError } from './errors.js';
import { SafeFetchError, type SafeFetchOptions, safeFetchJson } from './safe-fetch.js';

/** Options of {@link ClientMetadataResolver}: the fetch's limits plus the cache's bounds (ms). */
export interface ClientMetadataFetchOptions extends SafeFetchOptions {
  /** Shortest time a document is cached. Default 60 000 (1 min). */
  minCacheMs?: number;
  /** Longest time a document is cached. Default 86 400 000 (24 h). */
  maxCacheMs?: number;
  /** Cache time when the document sends no `Cache-Control` lifetime. Default 3 600 000 (1 h). */
  defaultCacheMs?: number;
  /** Cache time of a failed fetch or a refused document. Default 30 000. */
  failureCacheMs?: number;
  /**
   * Most documents fetched at once by this process (distinct URLs; one URL is fetched once anyway).
   * Beyond it a resolution is `temporarily_unavailable` (not cached), so a flood of made-up URLs
   * cannot hold an unbounded number of outgoing connections. Default 16.
   */
  maxConcurrentFetches?: number;
}

type CachedAnswer =
  | { kind: 'client'; client: ClientRecord }
  | { kind: 'failure'; error: 'invalid_client' | 'temporarily_unavailable'; description: string };

/** Fetches, validates and caches client ID metadata documents. */
export class ClientMetadataResolver {
  readonly #cache: TokenCache;
  readonly #scopes: readonly string[];
  readonly #options: ClientMetadataFetchOptions;
  readonly #inFlight = new Map<string, Promise<ClientRecord>>();
  #fetching = 0;

  constructor(
    cache: TokenCache,
    scopesSupported: readonly string[],
    options: ClientMetadataFetchOptions = {},
  ) {
    this.#cache = cache;
    this.#scopes = scopesSupported;
    this.#options = options;
  }

  /**
   * The client the document at `url` describes. Throws {@link OAuthError} `invalid_client` (the
   * document is refused or cannot be fetched safely) or `temporarily_unavailable` (503: the host
   * did not answer in time or failed); both are cached briefly.
   */
  resolve(url: string, now = Date.now()): Promise<ClientRecord> {
    const running = this.#inFlight.get(url);
    if (running) return running;
    const started = this.#resolve(url, now).finally(() => this.#inFlight.delete(url));
    this.#inFlight.set(url, started);
    return started;
  }

  /**
   * The client of the document at `url` if it is cached, else `undefined`: never fetches (the
   * operator console shows client names without making the server call out to a URL).
   */
  async peek(url: string): Promise<ClientRecord | undefined> {
    const cached = (await this.#cache.store.get(this.#key(url))) as CachedAnswer | undefined;
    return cached?.kind === 'client' && cached.client?.client_id === url ? cached.client : undefined;
  }

  #key(url: string): string {
    return this.#cache.key(`x:cimd:${this.#cache.digest(url)}`);
  }

  async #resolve(url: string, now: number): Promise<ClientRecord> {
    const key = this.#key(url);
    const cached = (await this.#cache.store.get(key)) as CachedAnswer | undefined;
    if (cached?.kind === 'client' && cached.client?.client_id === url) return cached.client;
    if (cached?.kind === 'failure') throw new OAuthError(cached.error, cached.description);

    if (this.#fetching >= (this.#options.maxConcurrentFetches ?? 16)) {
      throw new OAuthError(
        'temporarily_unavailable',
        'too many client metadata documents are being fetched at once; retry shortly',
      );
    }
    let answer: CachedAnswer;
    let ttlMs: number;
    this.#fetching += 1;
    try {
      const { body, cacheControl } = await safeFetchJson(url, this.#options);
      answer = { kind: 'client', client: clientFromMetadataDocument(url, body, this.#scopes, now) };
      ttlMs = this.#lifetime(cacheControl);
    } catch (error) {
      answer = failureOf(error);
      ttlMs = this.#options.failureCacheMs ?? 30_000;
    } finally {
      this.#fetching -= 1;
    }
    await this.#cache.store.set(key, answer, ttlMs);
    if (answer.kind === 'failure') throw new OAuthError(answer.error, answer.description);
    return answer.client;
  }

  #lifetime(cacheControl: string | undefined): number {
    const min = this.#options.minCacheMs ?? 60_000;
    const max = this.#options.maxCacheMs ?? 24 * 3600 * 1000;
    const fallback = this.#options.defaultCacheMs ?? 3600 * 1000;
    const seconds = cacheLifetimeSeconds(cacheControl);
    const wanted = seconds === undefined ? fallback : seconds * 1000;
    return Math.min(max, Math.max(min, wanted));
  }
}

/**
 * Seconds a response may be cached by a shared cache per its `Cache-Control` (`s-maxage` over
 * `max-age`); 0 for `no-store` / `no-cache`; `undefined` when the header says nothing about it.
 */
export function cacheLifetimeSeconds(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  const directives = new Map<string, string | undefined>();
  for (const part of cacheControl.split(',')) {
    const [name, raw] = part.trim().split('=', 2);
    if (name) directives.set(name.toLowerCase(), raw?.trim().replace(/^"(.*)"$/, '$1'));
  }
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  for (const name of ['s-maxage', 'max-age']) {
    const value = directives.get(name);
    if (value !== undefined && /^\d{1,10}$/.test(value)) return Number(value);
  }
  return undefined;
}

function failureOf(error: unknown): CachedAnswer & { kind: 'failure' } {
  const prefix = 'client metadata document';
  if (error instanceof ClientMetadataDocumentError) {
    return {
      kind: 'failure',
      error: 'invalid_client',
      description: `${prefix} refused: ${error.description}`,
    };
  }
  if (error instanceof SafeFetchError) {
    const transient =
      error.reason === 'timeout' ||
      error.reason === 'network' ||
      (error.reason === 'status' && (error.status ?? 0) >= 500);
    return {
      kind: 'failure',
      error: transient ? 'temporarily_unavailable' : 'invalid_client',
      description: `${prefix} could not be fetched: ${error.message}`,
    };
  }
  throw error;
}
