/**
 * An `OAuthClientProvider` of the MCP SDK v2 client for a headless run: everything kept in memory,
 * dynamic client registration (RFC 7591), and instead of opening a browser it keeps the
 * authorization URL for the test to log in at (the real login form) and checks the `state`.
 */
import { randomBytes } from 'node:crypto';
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';

/** Where the "app" receives the code (nothing listens: the test reads the redirect itself). */
export const HEADLESS_REDIRECT_URI = 'http://127.0.0.1:41001/callback';

export class HeadlessOAuthProvider implements OAuthClientProvider {
  /** The URL the SDK asked to send the user to (set by {@link redirectToAuthorization}). */
  authorizationUrl: URL | undefined;
  /** Registered client, as the SDK stored it. */
  registered: StoredOAuthClientInformation | undefined;
  private stored: StoredOAuthTokens | undefined;
  private discovery: OAuthDiscoveryState | undefined;
  private verifier: string | undefined;
  private readonly expectedState = randomBytes(16).toString('base64url');

  get redirectUrl(): string {
    return HEADLESS_REDIRECT_URI;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'third-party gate (MCP SDK v2 client)',
      redirect_uris: [HEADLESS_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    return this.expectedState;
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.registered;
  }

  saveClientInformation(information: StoredOAuthClientInformation): void {
    this.registered = information;
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.stored;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.stored = tokens;
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    this.authorizationUrl = authorizationUrl;
  }

  /** Kept with the verifier so the SDK binds the callback leg to the same authorization server (SEP-2352). */
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no PKCE verifier saved');
    return this.verifier;
  }

  /** The callback's parameters, after checking `state` (the SDK leaves that to the app). */
  callbackParams(callback: URL): URLSearchParams {
    if (`${callback.origin}${callback.pathname}` !== HEADLESS_REDIRECT_URI) {
      throw new Error(`redirected to ${callback.origin}${callback.pathname}, not ${HEADLESS_REDIRECT_URI}`);
    }
    if (callback.searchParams.get('state') !== this.expectedState) throw new Error('state mismatch');
    return callback.searchParams;
  }
}
