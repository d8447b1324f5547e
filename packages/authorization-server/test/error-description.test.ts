/**
 * RFC 6749 §5.2: `error_description` = 1*( %x20-21 / %x23-5B / %x5D-7E ). Every description the
 * package emits, including ones echoing client input, stays inside that set.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  errorDescription,
  MAX_ERROR_DESCRIPTION_LENGTH,
  OAuthError,
} from '../src/index.js';
import { authorizeParams, newPkce, newServer, REDIRECT } from './helpers.js';

const RFC6749_DESCRIPTION = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('errorDescription', () => {
  it('quotes with an apostrophe, replaces what RFC 6749 excludes, keeps the rest', () => {
    expect(errorDescription('must be "none"')).toBe("must be 'none'");
    expect(errorDescription('a\\b\u0001c\u007fd\ne')).toBe('a?b?c?d?e');
    expect(errorDescription('Ω é 日本 😀')).toBe('? ? ?? ??');
    expect(errorDescription("plain text: 0-9 A-Z a-z !#$%&'()*+,-./:;<=>?@[]^_`{|}~")).toBe(
      "plain text: 0-9 A-Z a-z !#$%&'()*+,-./:;<=>?@[]^_`{|}~",
    );
  });

  it('truncates long text', () => {
    const long = errorDescription('x'.repeat(5000));
    expect(long).toHaveLength(MAX_ERROR_DESCRIPTION_LENGTH);
    expect(long.endsWith('...')).toBe(true);
  });

  it('property: any string comes out inside the RFC set, bounded, and unchanged by a second pass', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), (text) => {
        const safe = errorDescription(text);
        expect(safe).toMatch(RFC6749_DESCRIPTION);
        expect(safe.length).toBeLessThanOrEqual(MAX_ERROR_DESCRIPTION_LENGTH);
        expect(errorDescription(safe)).toBe(safe);
      }),
      { numRuns: 500 },
    );
  });

  it('is applied by every error class, whatever the caller passes', () => {
    const raw = 'bad "value" \\ é\u0000';
    for (const error of [
      new OAuthError('invalid_request', raw),
      new AuthorizationPageError('invalid_request', raw),
      new AuthorizationRedirectError('invalid_request', raw, `${REDIRECT}?error=invalid_request`),
    ]) {
      expect(error.description).toBe("bad 'value' ? ??");
      expect(error.message).toBe("invalid_request: bad 'value' ? ??");
    }
    expect(new OAuthError('invalid_request', raw).toJSON()).toEqual({
      error: 'invalid_request',
      error_description: "bad 'value' ? ??",
    });
  });
});

describe('descriptions the server emits', () => {
  it('registration errors echoing client input', async () => {
    const as = newServer();
    const grant = await rejection(as.register({ redirect_uris: [REDIRECT], grant_types: ['é"x\u0001'] }));
    expect(grant).toBeInstanceOf(OAuthError);
    expect((grant as OAuthError).description).toBe(
      "grant_types: '?'x?' is not supported (authorization_code, refresh_token)",
    );
    const scope = await rejection(as.register({ redirect_uris: [REDIRECT], scope: 'mcp Ω\\' }));
    expect((scope as OAuthError).description).toMatch(/^scope: '\?\?' is not supported/);
    const method = await rejection(
      as.register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'secreté"x' }),
    );
    expect((method as OAuthError).description).toBe(
      "token_endpoint_auth_method: 'secret?'x' is not a registered method (none, client_secret_post, client_secret_basic, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth)",
    );
    const responseTypes = await rejection(
      as.register({ redirect_uris: [REDIRECT], response_types: ['token'] }),
    );
    expect((responseTypes as OAuthError).description).toBe("response_types must be ['code']");
  });

  it('a public client sending a secret to the token endpoint', async () => {
    const as = newServer();
    const client = await as.register({ redirect_uris: [REDIRECT] });
    const error = await rejection(
      as.token(
        new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: client.client_id,
          client_secret: 's',
          code: 'c',
          code_verifier: 'v'.repeat(43),
        }),
      ),
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).status).toBe(401);
    expect((error as OAuthError).toJSON().error_description).toMatch(RFC6749_DESCRIPTION);
    expect((error as OAuthError).description).toContain("token_endpoint_auth_method 'none'");
  });

  it('property: registration and authorization errors, whatever the input, stay inside the set', async () => {
    const as = newServer();
    const client = await as.register({ redirect_uris: [REDIRECT] });
    const anyText = fc.string({ unit: 'binary', maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            redirect_uris: fc.oneof(fc.constant([REDIRECT]), fc.array(anyText, { maxLength: 2 })),
            grant_types: fc.array(anyText, { maxLength: 2 }),
            scope: anyText,
            client_name: anyText,
          },
          { requiredKeys: [] },
        ),
        async (metadata) => {
          const error = await rejection(as.register(metadata));
          if (error instanceof OAuthError) expect(error.description).toMatch(RFC6749_DESCRIPTION);
        },
      ),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('scope', 'resource', 'response_type', 'state', 'code_challenge'),
          anyText,
        ),
        async (extra) => {
          const params = authorizeParams(client.client_id, newPkce(), extra);
          const error = await rejection(as.validateAuthorizationRequest(params));
          if (error instanceof AuthorizationRedirectError) {
            expect(error.description).toMatch(RFC6749_DESCRIPTION);
            const sent = new URL(error.location).searchParams.get('error_description') ?? '';
            expect(sent).toMatch(RFC6749_DESCRIPTION);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
