import { describe, expect, it } from 'vitest';
import { matchRedirectUri, redirectUriProblem } from '../src/index.js';

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example.com/cb',
    'https://app.example.com/cb?x=1',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:33418/callback',
    'http://[::1]:8080/cb',
    'http://localhost:6274/oauth/callback',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['http://app.example.com/cb', /loopback/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['https://user:pw@app.example.com/cb', /user information/],
    ['javascript:alert(1)', /https/],
    ['data:text/html,hi', /https/],
    ['cursor://callback', /https/],
    ['/relative/cb', /absolute/],
    ['https://app.example.com/c b', /whitespace/],
    ['', /non-empty/],
    [`https://app.example.com/${'a'.repeat(2100)}`, /longer/],
  ])('rejects %s', (uri, why) => {
    expect(redirectUriProblem(uri)).toMatch(why);
  });

  it('rejects non-strings', () => {
    expect(redirectUriProblem(42)).toMatch(/string/);
    expect(redirectUriProblem(null)).toMatch(/string/);
  });
});

describe('matchRedirectUri', () => {
  const registered = ['https://app.example.com/cb', 'http://127.0.0.1:33418/callback', 'http://localhost/cb'];

  it('matches https URIs exactly', () => {
    expect(matchRedirectUri(registered, 'https://app.example.com/cb')).toBe('https://app.example.com/cb');
    expect(matchRedirectUri(registered, 'https://app.example.com/cb/')).toBeUndefined();
    expect(matchRedirectUri(registered, 'https://app.example.com:444/cb')).toBeUndefined();
    expect(matchRedirectUri(registered, 'https://app.example.com/cb?x=1')).toBeUndefined();
    expect(matchRedirectUri(registered, 'https://evil.example.com/cb')).toBeUndefined();
  });

  it('ignores the port of loopback URIs only (RFC 8252 §7.3)', () => {
    expect(matchRedirectUri(registered, 'http://127.0.0.1:5555/callback')).toBe(
      'http://127.0.0.1:33418/callback',
    );
    expect(matchRedirectUri(registered, 'http://127.0.0.1/callback')).toBe('http://127.0.0.1:33418/callback');
    expect(matchRedirectUri(registered, 'http://localhost:9999/cb')).toBe('http://localhost/cb');
    expect(matchRedirectUri(registered, 'http://127.0.0.1:5555/other')).toBeUndefined();
    expect(matchRedirectUri(registered, 'http://127.0.0.1:5555/callback?x')).toBeUndefined();
    expect(matchRedirectUri(registered, 'http://[::1]:5555/callback')).toBeUndefined();
    expect(matchRedirectUri(registered, 'http://127.0.0.1:99999/callback')).toBeUndefined();
    expect(matchRedirectUri(registered, 'http://127.0.0.1.evil.com:5555/callback')).toBeUndefined();
  });
});
