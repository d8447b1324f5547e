/**
 * RFC 7591 dynamic client registration for public clients, persisted in the cache's store so that
 * registrations survive restarts and are shared by every instance using the same store.
 */
import { randomBytes } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';
import { isClientIdUrl } from './client-metadata-document.js';
import type { ClientMetadataResolver } from './client-metadata-resolver.js';
import { OAuthError } from './errors.js';
import { stringArray } from './metadata-fields.js';
import { isScopeToken } from './params.js';
import { redirectUriProblem } from './redirect-uri.js';

/** A registered client as stored and as answered by the registration endpoint. */
export interface ClientRecord {
  client_id: string;
  /** Seconds since the epoch (RFC 7591 §3.2.1). */
  client_id_issued_at: number;
  redirect_uris: string[];
  client_name?: string;
  client_uri?: string;
  software_id?: string;
  software_version?: string;
  grant_types: GrantType[];
  response_types: ['code'];
  token_endpoint_auth_method: 'none';
  scope?: string;
  /** Epoch ms of the last time the record's lifetime was extended (sliding expiry). */
  touched_at?: number;
}

export type GrantType = 'authorization_code' | 'refresh_token';

/** Limits and defaults of {@link ClientRegistry}. */
export interface ClientRegistryOptions {
  /** Scopes a client may register (`scope` metadata must be a subset). */
  scopesSupported: readonly string[];
  /** Idle lifetime of a registration in ms; each use extends it (sliding). Default 90 days. */
  ttlMs?: number;
  /** Most redirect URIs per client. Default 10. */
  maxRedirectUris?: number;
  /**
   * Resolves client ids that are https URLs (client ID metadata documents). Without it such ids
   * are unknown clients.
   */
  metadataDocuments?: ClientMetadataResolver;
}

const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_TTL_MS = 90 * DAY_MS;
/** A use extends the registration at most once per day, so reads do not turn into writes. */
const TOUCH_EVERY_MS = DAY_MS;
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const MAX_TEXT = 200;
/**
 * Unicode format characters (general category Cf): bidi overrides and isolates (U+202A-202E,
 * U+2066-2069), zero-width joiners, soft hyphens... They let a name display differently from what
 * it is ("U+202E" turns text around), so metadata holding any is refused.
 */
const FORMAT_CHARACTER = /\p{Cf}/u;
/**
 * The IANA "OAuth Token Endpoint Authentication Methods" registry. A request for any of them is
 * registered as `none`; anything else is not a method at all and is refused.
 */
const TOKEN_ENDPOINT_AUTH_METHODS: ReadonlySet<string> = new Set([
  'none',
  'client_secret_post',
  'client_secret_basic',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]);

/** Registers and looks up clients. */
export class ClientRegistry {
  readonly #cache: TokenCache;
  readonly #scopes: readonly string[];
  readonly #ttlMs: number;
  readonly #maxRedirectUris: number;
  readonly #metadataDocuments: ClientMetadataResolver | undefined;

  constructor(cache: TokenCache, options: ClientRegistryOptions) {
    this.#cache = cache;
    this.#scopes = options.scopesSupported;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#maxRedirectUris = options.maxRedirectUris ?? 10;
    this.#metadataDocuments = options.metadataDocuments;
  }

  /**
   * Validate RFC 7591 client metadata and store a new public client. Throws {@link OAuthError}
   * `invalid_redirect_uri` / `invalid_client_metadata` (400). Unknown metadata fields are ignored.
   */
  async register(metadata: unknown, now = Date.now()): Promise<ClientRecord> {
    refuseFormatCharacters(metadata);
    const record = this.#validate(metadata, now);
    await this.#cache.store.set(this.#key(record.client_id), record, this.#ttlMs);
    return record;
  }

  /**
   * The client registered under `clientId`, or `undefined` (also for ids that cannot be ours, which
   * are not looked up at all). Extends the registration's lifetime at most once a day.
   * An https URL client id is resolved through its metadata document (when enabled); that throws
   * {@link OAuthError} `invalid_client` / `temporarily_unavailable` when the document is refused
   * or cannot be fetched.
   */
  async get(clientId: string, now = Date.now()): Promise<ClientRecord | undefined> {
    if (isClientIdUrl(clientId)) return this.#metadataDocuments?.resolve(clientId, now);
    const value = await this.peek(clientId);
    if (value === undefined) return undefined;
    if (now - (value.touched_at ?? 0) > TOUCH_EVERY_MS) {
      const touched: ClientRecord = { ...value, touched_at: now };
      await this.#cache.store.set(this.#key(clientId), touched, this.#ttlMs);
      return touched;
    }
    return value;
  }

  /**
   * The client as {@link get} finds it, without side effects: the registration's lifetime is not
   * extended, and a metadata document is only read from the cache, never fetched. For readers that
   * act for nobody (the operator console).
   */
  async peek(clientId: string): Promise<ClientRecord | undefined> {
    if (isClientIdUrl(clientId)) return this.#metadataDocuments?.peek(clientId);
    if (!CLIENT_ID_PATTERN.test(clientId)) return undefined;
    const value = await this.#cache.store.get(this.#key(clientId));
    return isClientRecord(value) && value.client_id === clientId ? value : undefined;
  }

  /** The registration response body (RFC 7591 §3.2.1): the record without internal fields. */
  static toResponse(record: ClientRecord): Omit<ClientRecord, 'touched_at'> {
    const { touched_at: _internal, ...publicFields } = record;
    return publicFields;
  }

  #key(clientId: string): string {
    return this.#cache.key(`x:client:${clientId}`);
  }

  #validate(metadata: unknown, now: number): ClientRecord {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw metadataError('the request body must be a JSON object');
    }
    const m = metadata as Record<string, unknown>;

    const redirectUris = m.redirect_uris;
    if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
      throw new OAuthError('invalid_redirect_uri', 'redirect_uris must be a non-empty array of URIs');
    }
    if (redirectUris.length > this.#maxRedirectUris) {
      throw new OAuthError(
        'invalid_redirect_uri',
        `at most ${this.#maxRedirectUris} redirect_uris are accepted`,
      );
    }
    for (const uri of redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new OAuthError('invalid_redirect_uri', problem);
    }

    // Every client here is public. A client asking for a secret or a key is answered with a public
    // registration (RFC 7591 §3.2.1 lets the server replace requested values): the response says
    // `none`, no secret is issued, and PKCE protects its codes. Refusing instead would stop clients
    // that default to `client_secret_basic` (RFC 7591 §2) before they can fall back.
    const authMethod = m.token_endpoint_auth_method ?? 'none';
    if (typeof authMethod !== 'string') throw metadataError('token_endpoint_auth_method must be a string');
    if (!TOKEN_ENDPOINT_AUTH_METHODS.has(authMethod)) {
      throw metadataError(
        `token_endpoint_auth_method: '${truncate(authMethod)}' is not a registered method (${[...TOKEN_ENDPOINT_AUTH_METHODS].join(', ')})`,
      );
    }

    const grantTypes = stringArray(m.grant_types, 'grant_types', metadataError) ?? [
      'authorization_code',
      'refresh_token',
    ];
    for (const g of grantTypes) {
      if (g !== 'authorization_code' && g !== 'refresh_token') {
        throw metadataError(
          `grant_types: '${truncate(g)}' is not supported (authorization_code, refresh_token)`,
        );
      }
    }
    if (!grantTypes.includes('authorization_code')) {
      throw metadataError('grant_types must include authorization_code');
    }
    const responseTypes = stringArray(m.response_types, 'response_types', metadataError) ?? ['code'];
    if (responseTypes.length !== 1 || responseTypes[0] !== 'code') {
      throw metadataError("response_types must be ['code']");
    }

    const record: ClientRecord = {
      client_id: randomBytes(24).toString('base64url'),
      client_id_issued_at: Math.floor(now / 1000),
      redirect_uris: [...new Set(redirectUris as string[])],
      grant_types: [...new Set(grantTypes)] as GrantType[],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      touched_at: now,
    };
    const clientName = optionalText(m.client_name, 'client_name');
    if (clientName !== undefined) record.client_name = clientName;
    const softwareId = optionalText(m.software_id, 'software_id');
    if (softwareId !== undefined) record.software_id = softwareId;
    const softwareVersion = optionalText(m.software_version, 'software_version');
    if (softwareVersion !== undefined) record.software_version = softwareVersion;
    if (m.client_uri !== undefined) record.client_uri = webUrl(m.client_uri, 'client_uri');
    if (m.scope !== undefined) {
      if (typeof m.scope !== 'string' || m.scope.length > 1000) throw metadataError('scope must be a string');
      const scopes = [...new Set(m.scope.split(' ').filter(Boolean))];
      for (const s of scopes) {
        if (!isScopeToken(s) || !this.#scopes.includes(s)) {
          throw metadataError(`scope: '${truncate(s)}' is not supported (${this.#scopes.join(' ')})`);
        }
      }
      if (scopes.length > 0) record.scope = scopes.join(' ');
    }
    return record;
  }
}

/** Throw `invalid_client_metadata` when any string field (or array element) holds a Cf character. */
function refuseFormatCharacters(metadata: unknown): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return;
  for (const [field, value] of Object.entries(metadata)) {
    const strings = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    if (strings.some((v) => typeof v === 'string' && FORMAT_CHARACTER.test(v))) {
      throw metadataError(
        `${truncate(field)} contains invisible Unicode format or bidi characters (category Cf)`,
      );
    }
  }
}

function metadataError(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
  if (typeof value !== 'string' || value.length > MAX_TEXT || /[\u0000-\u001f\u007f]/.test(value)) {
    throw metadataError(`${field} must be a string of at most ${MAX_TEXT} printable characters`);
  }
  return value;
}

function webUrl(value: unknown, field: string): string {
  if (typeof value === 'string' && value.length <= 2000) {
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value;
    } catch {
      // fall through to the error below
    }
  }
  throw metadataError(`${field} must be an http(s) URL`);
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}...` : value;
}

function isClientRecord(value: unknown): value is ClientRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ClientRecord>;
  return typeof v.client_id === 'string' && Array.isArray(v.redirect_uris) && Array.isArray(v.grant_types);
}
