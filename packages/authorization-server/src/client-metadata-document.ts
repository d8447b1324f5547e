/**
 * Client ID Metadata Documents (MCP authorization 2025-11-25; draft-ietf-oauth-client-id-metadata-document):
 * a `client_id` that is an https URL names a JSON document describing the client. This module
 * decides which URLs can be such client ids and validates a fetched document into a
 * {@link ClientRecord}. Fetching and caching live in `client-metadata-resolver.ts`.
 */
import type { ClientRecord, GrantType } from './clients.js';
import { stringArray } from './metadata-fields.js';
import { isScopeToken } from './params.js';
import { redirectUriProblem } from './redirect-uri.js';

/** Longest client id URL accepted. */
export const MAX_CLIENT_ID_URL_LENGTH = 2000;
const MAX_TEXT = 200;
const MAX_REDIRECT_URIS = 10;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Unicode format characters (bidi overrides such as U+202E, zero-width joiners...): they disguise names. */
const FORMAT = /\p{Cf}/u;

/** A refused document: `description` is safe to show (no document content beyond field names). */
export class ClientMetadataDocumentError extends Error {
  readonly description: string;
  constructor(description: string) {
    super(description);
    this.name = 'ClientMetadataDocumentError';
    this.description = description;
  }
}

/**
 * True when `clientId` has the form of a client id metadata document URL: https, a path other than
 * `/`, no fragment, no user info, no `.`/`..` segments. Registered client ids never look like this.
 */
export function isClientIdUrl(clientId: string): boolean {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH || !clientId.startsWith('https://')) return false;
  return clientIdUrlProblem(clientId) === undefined;
}

/** Why `clientId` cannot be a client id metadata document URL, or `undefined`. */
export function clientIdUrlProblem(clientId: string): string | undefined {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return 'the client id URL is too long';
  if (/\s/.test(clientId) || CONTROL.test(clientId)) return 'the client id URL contains whitespace';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'the client id is not an absolute URL';
  }
  if (url.protocol !== 'https:') return 'a client id URL must use https';
  if (clientId.includes('#')) return 'a client id URL must not contain a fragment';
  if (url.username || url.password) return 'a client id URL must not contain user information';
  // Judged on the characters sent: `new URL` would already have removed dot segments.
  const rawPath = /^https:\/\/[^/?#]+(\/[^?#]*)?/i.exec(clientId)?.[1];
  if (rawPath === undefined || rawPath === '/') return 'a client id URL must have a path';
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    return 'a client id URL must not contain dot segments';
  }
  return undefined;
}

/**
 * Validate the document fetched from `url` (already parsed JSON or the raw body) and turn it into
 * the public client it describes. Throws {@link ClientMetadataDocumentError}.
 */
export function clientFromMetadataDocument(
  url: string,
  document: unknown,
  scopesSupported: readonly string[],
  now = Date.now(),
): ClientRecord {
  let value = document;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw refused('the document is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refused('the document must be a JSON object');
  }
  const m = value as Record<string, unknown>;

  if (m.client_id !== url) throw refused('the document client_id does not equal its URL');

  if ('client_secret' in m || 'client_secret_expires_at' in m) {
    throw refused('the document must not carry a client secret');
  }
  const authMethod = m.token_endpoint_auth_method ?? 'none';
  if (authMethod !== 'none') {
    throw refused("token_endpoint_auth_method must be 'none' (absent): only public clients with PKCE");
  }

  const redirectUris = m.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw refused('redirect_uris must be a non-empty array of URIs');
  }
  if (redirectUris.length > MAX_REDIRECT_URIS) {
    throw refused(`at most ${MAX_REDIRECT_URIS} redirect_uris are accepted`);
  }
  for (const uri of redirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw refused(`redirect_uris: ${problem}`);
  }

  const grantTypes = stringArray(m.grant_types, 'grant_types', refused) ?? [
    'authorization_code',
    'refresh_token',
  ];
  for (const g of grantTypes) {
    if (g !== 'authorization_code' && g !== 'refresh_token') {
      throw refused('grant_types: only authorization_code and refresh_token are supported');
    }
  }
  if (!grantTypes.includes('authorization_code'))
    throw refused('grant_types must include authorization_code');
  const responseTypes = stringArray(m.response_types, 'response_types', refused) ?? ['code'];
  if (responseTypes.length !== 1 || responseTypes[0] !== 'code') {
    throw refused("response_types must be ['code']");
  }

  const record: ClientRecord = {
    client_id: url,
    client_id_issued_at: Math.floor(now / 1000),
    redirect_uris: [...new Set(redirectUris as string[])],
    grant_types: [...new Set(grantTypes)] as GrantType[],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  for (const field of ['client_name', 'software_id', 'software_version'] as const) {
    const text = optionalText(m[field], field);
    if (text !== undefined) record[field] = text;
  }
  if (m.client_uri !== undefined) record.client_uri = webUrl(m.client_uri, 'client_uri');
  if (m.scope !== undefined) {
    if (typeof m.scope !== 'string' || m.scope.length > 1000) throw refused('scope must be a string');
    const scopes = [...new Set(m.scope.split(' ').filter(Boolean))];
    for (const s of scopes) {
      if (!isScopeToken(s) || !scopesSupported.includes(s)) {
        throw refused(`scope: a scope is not supported (${scopesSupported.join(' ')})`);
      }
    }
    if (scopes.length > 0) record.scope = scopes.join(' ');
  }
  return record;
}

function refused(description: string): ClientMetadataDocumentError {
  return new ClientMetadataDocumentError(description);
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TEXT || CONTROL.test(value)) {
    throw refused(`${field} must be a string of at most ${MAX_TEXT} printable characters`);
  }
  if (FORMAT.test(value)) {
    throw refused(`${field} must not contain Unicode format characters (bidi overrides, zero-width)`);
  }
  return value;
}

function webUrl(value: unknown, field: string): string {
  if (typeof value === 'string' && value.length <= 2000 && !CONTROL.test(value) && !FORMAT.test(value)) {
    try {
      const url = new URL(value);
      if (url.protocol === 'https:' || url.protocol === 'http:') return value;
    } catch {
      // fall through to the error below
    }
  }
  throw refused(`${field} must be an http(s) URL`);
}
