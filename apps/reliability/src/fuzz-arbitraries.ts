/**
 * fast-check generators of hostile request parts: parameter strings with repeated keys, huge
 * values and invalid (or invalid-UTF-8) percent-encodings; Authorization header values; client
 * registration documents; redirect URI variants of a registered one.
 */
import fc from 'fast-check';

/** Percent-encodings that are malformed, or well-formed but not UTF-8 (overlong, surrogate, truncated). */
export const BAD_PERCENT_ENCODINGS = [
  '%',
  '%Z',
  '%G0',
  '%2',
  '%%',
  '%u0041',
  '%C3%28',
  '%FF',
  '%FE%FF',
  '%C0%AF',
  '%ED%A0%80',
  '%E2%82',
  '%F0%28%8C%BC',
  '%F8%88%80%80%80',
  '%00',
] as const;

const badEncoding = fc.constantFrom(...BAD_PERCENT_ENCODINGS);

/** A value as it appears on the wire (already encoded, or deliberately mis-encoded). */
export function wireValue(validValues: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...validValues).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: badEncoding },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...validValues), badEncoding, fc.string({ maxLength: 5 }))
        .map(([valid, bad, tail]) => `${encodeURIComponent(valid)}${bad}${encodeURIComponent(tail)}`),
    },
    // Raw, unencoded text: '&', '=', '+', spaces and controls change the structure.
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 30 }) },
    // Huge values: past the server's 16 KiB body and header limits, and just under them.
    { weight: 1, arbitrary: fc.constantFrom(2000, 15_000, 17_000, 70_000).map((n) => 'A'.repeat(n)) },
  );
}

/**
 * A parameter string (`a=1&b=2`) mixing the endpoint's own parameter names (valid and invalid
 * values), unknown names, repeated keys, empty pieces and mis-encodings.
 */
export function rawParams(names: readonly string[], validValues: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: badEncoding },
  );
  const pair = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(key, wireValue(validValues)).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: key },
    { weight: 1, arbitrary: fc.constantFrom('', '=', '&', '==', '=&=') },
  );
  return fc
    .array(pair, { maxLength: 14 })
    .chain((pairs) =>
      pairs.length === 0
        ? fc.constant(pairs)
        : fc.array(fc.constantFrom(...pairs), { maxLength: 3 }).map((repeats) => [...pairs, ...repeats]),
    )
    .chain((pairs) => fc.shuffledSubarray(pairs, { minLength: pairs.length, maxLength: pairs.length }))
    .map((pairs) => pairs.join('&'));
}

/** Authorization header values (latin1 bytes; some deliberately outside what a header may carry). */
export function authorizationValues(nearlyValidToken: string): fc.Arbitrary<string> {
  const token68 = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,60}=*$/);
  return fc.oneof(
    token68.map((t) => `Bearer ${t}`),
    fc.constantFrom(
      'Bearer',
      'Bearer ',
      'bearer',
      'BEARER  x',
      'Basic ZGVtbzpkZW1v',
      'Bearer a b',
      'Bearer "x"',
      '',
    ),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((t) => `Bearer ${t}`),
    fc
      .string({ unit: 'binary', maxLength: 40 })
      .map((t) => `Bearer ${Buffer.from(t, 'utf8').toString('latin1')}`),
    fc.string({ maxLength: 60 }),
    fc.constantFrom(1000, 4096, 4097, 10_000).map((n) => `Bearer ${'a'.repeat(n)}`),
    fc.string({ maxLength: 3 }).map((s) => `Bearer ${nearlyValidToken}${s}`),
    fc.constant(`Bearer ${nearlyValidToken.slice(0, -1)}`),
    fc.constant(`Bearer ${nearlyValidToken}, Bearer ${nearlyValidToken}`),
    fc.constant(`Token ${nearlyValidToken}`),
  );
}

/** Client registration documents (RFC 7591), well-formed or not, plus non-JSON bodies. */
export function registrationBodies(): fc.Arbitrary<string> {
  const uri = fc.oneof(
    fc.constantFrom(
      'http://127.0.0.1:3000/cb',
      'https://app.example/cb',
      'http://localhost/cb',
      'http://[::1]:1/x',
      'http://evil.example/cb',
      'https://app.example/cb#frag',
      'https://user:pw@app.example/cb',
      'javascript:alert(1)',
      'cursor://callback',
      'data:text/html,x',
      '//app.example/cb',
      'http://127.0.0.1/cb\n',
      '',
    ),
    fc.webUrl({ withFragments: true, withQueryParameters: true }),
    fc.string({ maxLength: 30 }),
    fc.constant(`https://app.example/${'a'.repeat(2100)}`),
  );
  const text = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const field = fc.oneof(
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(text, { maxLength: 3 }),
  );
  const document = fc.record(
    {
      redirect_uris: fc.oneof(fc.array(uri, { maxLength: 12 }), field),
      client_name: fc.oneof(fc.string({ maxLength: 60 }), field, fc.constant('x'.repeat(5000))),
      token_endpoint_auth_method: fc.oneof(
        fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt'),
        field,
      ),
      grant_types: fc.oneof(
        fc.subarray(['authorization_code', 'refresh_token', 'password', 'implicit']),
        field,
      ),
      response_types: fc.oneof(fc.subarray(['code', 'token']), field),
      scope: fc.oneof(
        fc.constantFrom('mcp', 'mcp admin', ''),
        field,
        text.map((t) => `mcp ${t}`),
      ),
      client_secret: field,
      extra: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  );
  // Documents a server should accept, with hostile extras: the 201 path gets exercised too.
  const plausible = fc.record(
    {
      redirect_uris: fc.array(
        fc.constantFrom(
          'http://127.0.0.1:3000/cb',
          'https://app.example/cb',
          'http://localhost/cb',
          'http://[::1]:1/x',
        ),
        { minLength: 1, maxLength: 3 },
      ),
      client_name: fc.oneof(fc.string({ maxLength: 60 }), text),
      grant_types: fc.oneof(
        fc.constant(['authorization_code', 'refresh_token']),
        fc.array(text, { maxLength: 2 }),
      ),
      scope: fc.oneof(fc.constant('mcp'), text),
      extra: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['redirect_uris'] },
  );
  return fc.oneof(
    { weight: 3, arbitrary: plausible.map((d) => JSON.stringify(d)) },
    { weight: 8, arbitrary: document.map((d) => JSON.stringify(d)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"redirect_uris":["http://127.0.0.1/cb"]',
        '{"redirect_uris":["http://127.0.0.1/cb"],"redirect_uris":["http://evil.example/cb"]}',
        '{"__proto__":{"redirect_uris":["http://evil.example/cb"]}}',
        `{"redirect_uris":${'['.repeat(5000)}`,
        `{"client_name":"${'x'.repeat(20_000)}"}`,
      ),
    },
  );
}

/**
 * Variants of a registered redirect URI that must NOT be redirected to (unless they are the same
 * URI, or the same loopback URI on another port), plus arbitrary strings.
 */
export function redirectUriVariants(): fc.Arbitrary<string> {
  const scheme = fc.constantFrom('http', 'https', 'HTTP', 'javascript', 'data', 'ftp', 'file', '');
  const host = fc.constantFrom(
    '127.0.0.1',
    'localhost',
    '[::1]',
    '127.0.0.2',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    'client.example.com',
    'CLIENT.example.com',
    'client.example.com.',
    'client.example.com.evil.example',
    'evil.example',
    'client.example.com@evil.example',
    'evil.example#@client.example.com',
    'evil.example\\@client.example.com',
    '127.0.0.1:41000@evil.example',
    'xn--clent-7ua.example.com',
  );
  const port = fc.constantFrom('', ':41000', ':41001', ':1', ':65535', ':65536', ':0', ':443', ':080');
  const path = fc.constantFrom(
    '/cb',
    '/cb/',
    '/CB',
    '/cb/../evil',
    '/%2e%2e/evil',
    '/cb%2F..%2Fevil',
    '//evil.example/cb',
    '/cb?x=1',
    '/cb?',
    '/cb#x',
    '/cb%23x',
    '/cb\\..\\evil',
    '/cb%00',
    '/cb\t',
    '/c%62',
    '',
    '/cb;x',
    '/cb/.',
  );
  const composed = fc
    .tuple(scheme, host, port, path)
    .map(([s, h, p, pa]) => `${s}${s ? '://' : '//'}${h}${p}${pa}`);
  return fc.oneof(
    { weight: 6, arbitrary: composed },
    { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1:41000/cb', 'https://client.example.com/cb') },
    { weight: 1, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );
}
