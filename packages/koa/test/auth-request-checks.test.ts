import { describe, expect, it } from 'vitest';
import { authorizationOf } from '../src/auth/bearer-auth.js';

describe('authorizationOf (raw header scan)', () => {
  it('finds the header whatever its case, and returns every value when repeated', () => {
    expect(authorizationOf(['Host', 'h', 'Authorization', 'Bearer a'])).toBe('Bearer a');
    expect(authorizationOf(['authorization', 'Bearer a'])).toBe('Bearer a');
    expect(authorizationOf(['AUTHORIZATION', 'Bearer a'])).toBe('Bearer a');
    expect(authorizationOf(['aUtHoRiZaTiOn', ''])).toBe('');
    expect(
      authorizationOf(['Authorization', 'Bearer a', 'x-other', '1', 'AUTHORIZATION', 'Bearer b']),
    ).toEqual(['Bearer a', 'Bearer b']);
    expect(
      authorizationOf(['authorization', 'Bearer a', 'authorization', 'Bearer a', 'Authorization', 'c']),
    ).toEqual(['Bearer a', 'Bearer a', 'c']);
  });

  it('ignores look-alike names', () => {
    expect(authorizationOf([])).toBeUndefined();
    expect(
      authorizationOf(['Proxy-Authorization', 'Bearer a', 'authorizations', 'x', 'authorizatio', 'y']),
    ).toBe(undefined);
  });
});
