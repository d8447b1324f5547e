import { describe, expect, it } from 'vitest';
import { type LoginAttempt, LoginRateLimiter, type LoginRefused } from '../src/index.js';
import { newCache } from './helpers.js';

async function fail(limiter: LoginRateLimiter, user: string, ip: string, now: number): Promise<LoginAttempt> {
  const attempt = await limiter.begin(user, ip, now);
  expect(attempt.allowed).toBe(true);
  await (attempt as LoginAttempt).failed();
  return attempt as LoginAttempt;
}

describe('LoginRateLimiter', () => {
  const options = {
    windowMs: 60_000,
    maxFailuresPerUser: 3,
    maxFailuresPerIp: 5,
    slowAfter: 1,
    delayStepMs: 100,
  };

  it('refuses a user name from one address with Retry-After; other addresses and users are only slowed or unaffected', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 1_000_000;
    expect((await fail(limiter, 'demo', '10.0.0.1', now)).delayMs).toBe(0);
    expect((await fail(limiter, 'Demo', '10.0.0.1', now + 1000)).delayMs).toBe(100);
    expect((await fail(limiter, ' demo', '10.0.0.1', now + 2000)).delayMs).toBe(200);
    const refused = (await limiter.begin('DEMO', '10.0.0.1', now + 3000)) as LoginRefused;
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 57, limit: 'user_address' });
    // The same user name from another address: not refused, slowed by the three failures.
    const owner = (await limiter.begin('demo', '10.0.0.3', now + 3000)) as LoginAttempt;
    expect(owner).toMatchObject({ allowed: true, delayMs: 300 });
    await owner.abandoned();
    const other = await limiter.begin('ivanov', '10.0.0.1', now + 3000);
    expect(other.allowed).toBe(true);
    // The first failure leaves the window: one more attempt from that address is allowed.
    expect((await limiter.begin('demo', '10.0.0.1', now + 60_001)).allowed).toBe(true);
  });

  it('failures of a user name spread over many addresses never refuse its owner: they only slow it down', async () => {
    const limiter = new LoginRateLimiter(newCache(), { ...options, maxDelayMs: 500 });
    const now = 2_000_000;
    // 60 guesses from 17 attackers' addresses: each address is refused after its 3 failures.
    let failures = 0;
    let refusals = 0;
    for (let i = 0; i < 60; i++) {
      const attempt = await limiter.begin('director', `198.51.100.${i % 17}`, now + i);
      if (attempt.allowed) {
        await attempt.failed();
        failures++;
      } else {
        expect(attempt.limit).toBe('user_address');
        refusals++;
      }
    }
    expect(failures).toBe(51);
    expect(refusals).toBe(9);
    const owner = (await limiter.begin('Director', '192.0.2.10', now + 100)) as LoginAttempt;
    // Allowed, with the longest delay.
    expect(owner).toMatchObject({ allowed: true, delayMs: 500 });
    await owner.succeeded();
    // The attackers' failures are not withdrawn by the owner's success: still slowed, still refused.
    expect(((await limiter.begin('director', '192.0.2.11', now + 100)) as LoginAttempt).delayMs).toBe(500);
    expect(await limiter.begin('director', '198.51.100.0', now + 100)).toMatchObject({
      allowed: false,
      limit: 'user_address',
    });
  });

  it('counts an IPv6 /64 as one address: rotating the interface identifier does not escape the limits', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 3_000_000;
    for (let i = 0; i < 3; i++) await fail(limiter, 'demo', `2001:db8:1:2::${i + 1}`, now);
    expect(await limiter.begin('demo', '2001:db8:1:2:abcd:ef01:2345:6789', now)).toMatchObject({
      allowed: false,
      limit: 'user_address',
    });
    for (let i = 0; i < 2; i++) await fail(limiter, `user${i}`, `2001:db8:1:2::${i + 100}`, now);
    expect(await limiter.begin('someone', '2001:0db8:0001:0002::ffff', now)).toMatchObject({
      allowed: false,
      limit: 'ip',
    });
    // The next /64 is another address.
    expect((await limiter.begin('someone', '2001:db8:1:3::1', now)).allowed).toBe(true);
    // An IPv4-mapped address is the IPv4 address.
    for (let i = 0; i < 3; i++) await fail(limiter, 'ivanov', '::ffff:192.0.2.44', now);
    expect(await limiter.begin('ivanov', '192.0.2.44', now)).toMatchObject({
      allowed: false,
      limit: 'user_address',
    });
  });

  it('refuses an IP after too many failures across user names', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 5_000_000;
    for (let i = 0; i < 5; i++) await fail(limiter, `user${i}`, '192.0.2.7', now);
    const refused = (await limiter.begin('someone', '192.0.2.7', now + 10)) as LoginRefused;
    expect(refused.allowed).toBe(false);
    expect(refused.limit).toBe('ip');
    expect(refused.retryAfterSeconds).toBe(60);
    expect((await limiter.begin('someone', '192.0.2.8', now + 10)).allowed).toBe(true);
  });

  it('a success clears the user name; an abandoned attempt is not counted', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 9_000_000;
    await fail(limiter, 'demo', '10.0.0.1', now);
    await fail(limiter, 'demo', '10.0.0.1', now);
    const ok = (await limiter.begin('demo', '10.0.0.1', now)) as LoginAttempt;
    await ok.succeeded();
    for (let i = 0; i < 3; i++) {
      const a = (await limiter.begin('demo', '10.0.0.1', now)) as LoginAttempt;
      expect(a.allowed).toBe(true);
      await a.abandoned();
    }
    await fail(limiter, 'demo', '10.0.0.1', now);
    await fail(limiter, 'demo', '10.0.0.1', now);
    expect((await limiter.begin('demo', '10.0.0.1', now)).allowed).toBe(true);
  });

  it('correct logins in flight from one address do not slow each other down', async () => {
    const limiter = new LoginRateLimiter(newCache(), { ...options, maxFailuresPerIp: 20 });
    const now = 30_000_000;
    // Ten colleagues behind one NAT address, all starting before any has finished.
    const attempts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => limiter.begin(`colleague${i}`, '198.51.100.1', now)),
    );
    expect(attempts.map((a) => a.allowed)).toEqual(Array(10).fill(true));
    expect(attempts.map((a) => (a as LoginAttempt).delayMs)).toEqual(Array(10).fill(0));
    // An eleventh while they are all still pending: not slowed either.
    const late = (await limiter.begin('colleague10', '198.51.100.1', now)) as LoginAttempt;
    expect(late.delayMs).toBe(0);
    for (const a of [...attempts, late]) await (a as LoginAttempt).succeeded();
    expect(((await limiter.begin('colleague0', '198.51.100.1', now)) as LoginAttempt).delayMs).toBe(0);
  });

  it('wrong passwords still slow the address down once they have failed, however they arrived', async () => {
    const limiter = new LoginRateLimiter(newCache(), { ...options, maxFailuresPerIp: 20 });
    const now = 40_000_000;
    const parallel = (await Promise.all(
      Array.from({ length: 3 }, (_, i) => limiter.begin(`guess${i}`, '203.0.113.5', now)),
    )) as LoginAttempt[];
    // In flight: nothing has failed yet.
    expect(parallel.map((a) => a.delayMs)).toEqual([0, 0, 0]);
    for (const a of parallel) await a.failed();
    // Three settled failures, slowAfter 1, 100 ms each: (3 - 1 + 1) x 100.
    const next = (await limiter.begin('someone-else', '203.0.113.5', now)) as LoginAttempt;
    expect(next.delayMs).toBe(300);
    await next.failed();
    expect(((await limiter.begin('another', '203.0.113.5', now)) as LoginAttempt).delayMs).toBe(400);
    // Another address is not slowed.
    expect(((await limiter.begin('another', '203.0.113.6', now)) as LoginAttempt).delayMs).toBe(0);
  });

  it('pending attempts still count for the refusal, settled or not', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 50_000_000;
    const pending = await Promise.all(
      Array.from({ length: 3 }, () => limiter.begin('demo', '10.1.1.1', now)),
    );
    expect(pending.every((a) => a.allowed)).toBe(true);
    expect(await limiter.begin('demo', '10.1.1.1', now)).toMatchObject({
      allowed: false,
      limit: 'user_address',
    });
  });

  it('reset() forgets the failures of a user name, so it is neither refused nor slowed', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 60_000_000;
    await fail(limiter, 'demo', '10.2.2.1', now);
    await fail(limiter, 'demo', '10.2.2.2', now);
    await limiter.reset('DEMO');
    const after = (await limiter.begin('demo', '10.2.2.3', now)) as LoginAttempt;
    expect(after).toMatchObject({ allowed: true, delayMs: 0 });
  });

  it('parallel attempts cannot exceed the limit', async () => {
    const limiter = new LoginRateLimiter(newCache(), options);
    const now = 20_000_000;
    const attempts = await Promise.all(
      Array.from({ length: 10 }, () => limiter.begin('demo', '10.9.9.9', now)),
    );
    expect(attempts.filter((a) => a.allowed).length).toBeLessThanOrEqual(3);
  });

  it('refuses a user name after maxSuccessesPerUser correct logins in the window, before the password check', async () => {
    const cache = newCache();
    const limiter = new LoginRateLimiter(cache, { ...options, maxSuccessesPerUser: 4 });
    const now = 70_000_000;
    for (let i = 0; i < 4; i++) {
      const attempt = (await limiter.begin('Demo', `10.3.3.${i}`, now + i * 1000)) as LoginAttempt;
      expect(attempt).toMatchObject({ allowed: true, delayMs: 0 });
      await attempt.succeeded();
    }
    // The fifth is refused whatever the address, until the first success leaves the window.
    const refused = (await limiter.begin(' demo', '10.3.3.99', now + 5000)) as LoginRefused;
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 55, limit: 'user_successes' });
    // Refused before it was counted: no attempt of it is left to slow down or refuse anyone.
    expect(await cache.store.indexCount(cache.key(`x:rl:u:${cache.digest('login:demo')}`), now + 5000)).toBe(
      0,
    );
    expect((await limiter.begin('ivanov', '10.3.3.99', now + 5000)).allowed).toBe(true);
    expect((await limiter.begin('demo', '10.3.3.99', now + 60_001)).allowed).toBe(true);
    // reset() (an administrator's unlock) forgets the successes too.
    await limiter.reset('demo');
    expect((await limiter.begin('demo', '10.3.3.98', now + 5000)).allowed).toBe(true);
  });

  it('counts 20 successes per user name by default', async () => {
    const limiter = new LoginRateLimiter(newCache());
    const now = 80_000_000;
    for (let i = 0; i < 20; i++)
      await ((await limiter.begin('demo', '10.4.4.4', now)) as LoginAttempt).succeeded();
    expect(await limiter.begin('demo', '10.4.4.4', now)).toMatchObject({
      allowed: false,
      limit: 'user_successes',
    });
  });

  it('keys counters by HMAC digests of the user name and IP, never the values', async () => {
    const cache = newCache();
    const limiter = new LoginRateLimiter(cache, options);
    const now = Date.now();
    await fail(limiter, 'Visible-Login', '203.0.113.99', now);
    const userKey = cache.key(`x:rl:u:${cache.digest('login:visible-login')}`);
    const ipKey = cache.key(`x:rl:ip:${cache.digest('ip:203.0.113.99')}`);
    expect(await cache.store.indexCount(userKey, now)).toBe(1);
    expect(await cache.store.indexCount(ipKey, now)).toBe(1);
    // The settled failure, in the failure indexes under the same digests.
    expect(
      await cache.store.indexCount(cache.key(`x:rl:uf:${cache.digest('login:visible-login')}`), now),
    ).toBe(1);
    expect(await cache.store.indexCount(cache.key(`x:rl:ipf:${cache.digest('ip:203.0.113.99')}`), now)).toBe(
      1,
    );
    expect(userKey).not.toContain('isible');
  });
});
