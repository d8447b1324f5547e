import { readFile } from 'node:fs/promises';
import { parseCommandCalls } from '@oauth-cache/keyv/testing';
import { createClient } from 'redis';

/** Every byte of a SQLite database: the main file and its WAL (recent writes live there). */
export async function sqliteBytes(path: string): Promise<Buffer> {
  const parts = await Promise.all([path, `${path}-wal`].map((p) => readFile(p).catch(() => Buffer.alloc(0))));
  return Buffer.concat(parts);
}

/** Every key and value of a Redis database, as one text (SCAN + type-aware reads). */
export async function redisDump(url: string): Promise<string> {
  const client = createClient({ url });
  await client.connect();
  try {
    const out: string[] = [];
    for await (const keys of client.scanIterator({ COUNT: 1000 })) {
      for (const key of keys) {
        out.push(key);
        const type = await client.type(key);
        if (type === 'string') out.push((await client.get(key)) ?? '');
        else if (type === 'zset') out.push(...(await client.zRange(key, 0, -1)));
        else if (type === 'hash') out.push(JSON.stringify(await client.hGetAll(key)));
        else if (type === 'set') out.push(...(await client.sMembers(key)));
        else if (type === 'list') out.push(...(await client.lRange(key, 0, -1)));
      }
    }
    return out.join('\n');
  } finally {
    await client.quit();
  }
}

/** Remaining TTL (ms) of every key with a `prefix`, as Redis sees it. */
export async function redisTtls(url: string, prefix: string): Promise<Map<string, number>> {
  const client = createClient({ url });
  await client.connect();
  try {
    const ttls = new Map<string, number>();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      for (const key of keys) ttls.set(key, await client.pTTL(key));
    }
    return ttls;
  } finally {
    await client.quit();
  }
}

/** Calls of each command the Redis server at `url` has run since it started (INFO commandstats). */
export async function redisCommandCalls(url: string): Promise<Record<string, number>> {
  const client = createClient({ url });
  await client.connect();
  try {
    return parseCommandCalls(await client.info('commandstats'));
  } finally {
    await client.quit();
  }
}
