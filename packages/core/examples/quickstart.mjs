// Runnable: node examples/quickstart.mjs (after `pnpm build`), or copy into a project that installed @oauth-cache/core.
import { createTokenCache, MemoryStore } from '@oauth-cache/core';

const cache = createTokenCache({ store: new MemoryStore(), environment: 'development' });

const { familyId } = await cache.storeToken({
  userId: 'ivanov',
  accessToken: 'access-token-from-your-authorization-server',
  refreshToken: 'refresh-token-from-your-authorization-server',
  scopes: ['mcp'],
  userData: { login: 'ivanov', password: '1C password, sealed at rest' },
});
const check = await cache.validateAccessToken('access-token-from-your-authorization-server');
console.log('valid:', check?.valid, 'user:', check?.userId, 'family:', familyId === check?.familyId);

const { tokens } = await cache.rotateRefreshToken('refresh-token-from-your-authorization-server');
console.log(
  'rotated; new access token validates:',
  (await cache.validateAccessToken(tokens.accessToken)) !== null,
);

const stats = await cache.stats();
console.log('active tokens:', stats.summary.totalActiveTokens, 'hit rate %:', stats.summary.cacheHitRate);
await cache.close();
