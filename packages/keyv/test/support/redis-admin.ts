import { createClient } from '@keyv/redis';

/**
 * A plain node-redis client for test set-up and raw reads: it goes around the store class on
 * purpose (raw checks must see what is really in Redis).
 */
export async function adminClient(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Every key of the current database with its type, TTL and value(s), as text. */
export async function redisRawDump(url: string): Promise<string> {
  const client = await adminClient(url);
  try {
    const lines: string[] = [];
    for await (const keys of client.scanIterator({ COUNT: 500 })) {
      for (const key of keys) {
        const type = await client.type(key);
        if (type === 'string') lines.push(`${key} = ${await client.get(key)}`);
        else if (type === 'zset') {
          const members = await client.zRangeWithScores(key, 0, -1);
          lines.push(`${key} (zset) = ${members.map((m) => `${m.value}@${m.score}`).join(',')}`);
        } else lines.push(`${key} (${type})`);
      }
    }
    return lines.join('\n');
  } finally {
    client.destroy();
  }
}

let nextDb = 0;
/**
 * A Redis URL on a database of its own (1..15, round robin), flushed: test stores open at the
 * same time (the conformance suite opens two) never see each other's keys.
 */
export async function freshDbUrl(baseUrl: string): Promise<string> {
  nextDb = (nextDb % 15) + 1;
  const url = `${baseUrl}/${nextDb}`;
  const client = await adminClient(url);
  try {
    await client.flushDb();
  } finally {
    client.destroy();
  }
  return url;
}
