import { type CommandParser, defineScript } from '@redis/client';
import { COMMIT } from './commit-script.js';

/*
 * The store's Lua scripts, registered on its node-redis client (`createClient({ scripts })`): each
 * becomes a client method that sends EVALSHA and, when the server has no copy (first use, a
 * restart, a failover, SCRIPT FLUSH), sends the script itself once with EVAL (node-redis does that on
 * NOSCRIPT). Every script here but `indexPage` and `getWithGrant` writes; those are sent the same
 * way (a single node needs no EVALSHA_RO).
 */

/**
 * delete: DEL the keys, publish them when at least one existed. Resolves how many existed.
 * KEYS: keys; ARGV[1] channel; ARGV[2] message.
 */
const DELETE = defineScript({
  SCRIPT: `
local n = redis.call('DEL', unpack(KEYS))
if n > 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n
`,
  // No NUMBER_OF_KEYS: the key count varies, it is pushed with the keys.
  parseCommand(parser: CommandParser, keys: string[], channel: string, message: string): void {
    parser.pushKeysLength(keys);
    parser.push(channel, message);
  },
  transformReply: (reply: number): number => reply,
});

/**
 * indexAdd on a sorted set (score = member expiry, epoch ms): ZADD, drop dead members
 * (score <= now), evict the lowest scores beyond cap (the member just added last, so only when cap
 * is 0), then PEXPIREAT the key to its highest score so an index dies with its last member.
 * KEYS[1] index; ARGV[1] member; ARGV[2] score; ARGV[3] now; ARGV[4] cap (-1 = none);
 * ARGV[5] '1' = keepGreater (ZADD GT: an existing member's score only rises).
 * Returns the evicted members, lowest score first.
 */
const INDEX_ADD = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local key = KEYS[1]
local member = ARGV[1]
if ARGV[5] == '1' then
  redis.call('ZADD', key, 'GT', ARGV[2], member)
else
  redis.call('ZADD', key, ARGV[2], member)
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local evicted = {}
local cap = tonumber(ARGV[4])
if cap >= 0 then
  local excess = redis.call('ZCARD', key) - cap
  if excess > 0 then
    local candidates = redis.call('ZRANGE', key, 0, excess)
    for _, m in ipairs(candidates) do
      if #evicted >= excess then break end
      if m ~= member or cap == 0 then evicted[#evicted + 1] = m end
    end
    for _, m in ipairs(evicted) do redis.call('ZREM', key, m) end
  end
end
local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if top[2] then
  local s = tonumber(top[2])
  if s and s < 1e15 then redis.call('PEXPIREAT', key, string.format('%d', math.ceil(s))) end
end
return evicted
`,
  parseCommand(
    parser: CommandParser,
    key: string,
    member: string,
    score: number,
    now: number,
    cap: number,
    keepGreater: boolean,
  ): void {
    parser.pushKey(key);
    parser.push(member, String(score), String(now), String(cap), keepGreater ? '1' : '0');
  },
  transformReply: (reply: string[]): string[] => reply,
});

/**
 * Compare-and-delete of a lock: only the holder (who knows the exact stored text) releases it.
 * KEYS[1] lock key; ARGV[1] the text written at acquisition.
 */
const RELEASE_LOCK = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  parseCommand(parser: CommandParser, key: string, text: string): void {
    parser.pushKey(key);
    parser.push(text);
  },
  transformReply: (reply: number): number => reply,
});

/**
 * Drop dead members of the index keys given (used by the incremental sweep).
 * KEYS: index keys; ARGV[1] now.
 */
const SWEEP_INDEXES = defineScript({
  SCRIPT: `
local removed = 0
for _, k in ipairs(KEYS) do removed = removed + redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[1]) end
return removed
`,
  parseCommand(parser: CommandParser, keys: string[], now: number): void {
    parser.pushKeysLength(keys);
    parser.push(String(now));
  },
  transformReply: (reply: number): number => reply,
});

/**
 * writeBatch (bulk import) in one atomic call; batch-plan.ts builds the payload. ARGV[1] is ONE
 * JSON array (`ScriptPayload`): one string for the client to send and for Redis to decode (cjson, in
 * C), where one argument per value cost node-redis and Redis a string object each (~10 per token).
 * The keys travel inside the payload, so KEYS is empty: fine on the single node this store supports
 * (a cluster would need them declared, and the script touches keys of many slots anyway).
 * Each index key gets its ZADDs (at most UNPACK_ARGS arguments per unpack: Lua's C stack holds
 * ~8000), then PEXPIREAT NX (a key without expiry gets one) or, when it had one, PEXPIREAT GT (an
 * expiry only ever grows), so an index dies with its highest member. Returns the record count.
 */
const WRITE_BATCH = defineScript({
  NUMBER_OF_KEYS: 0,
  SCRIPT: `
local UNPACK_ARGS = 1000
local p = cjson.decode(ARGV[1])
local n = #p
local records = p[1]
local a = 2
for i = 1, records do
  redis.call('SET', p[a], p[a + 1], 'PX', p[a + 2])
  a = a + 3
end
local function zadd(key, greater, first, count)
  local last = first + count * 2 - 1
  for s = first, last, UNPACK_ARGS do
    local e = math.min(s + UNPACK_ARGS - 1, last)
    if greater then
      redis.call('ZADD', key, 'GT', unpack(p, s, e))
    else
      redis.call('ZADD', key, unpack(p, s, e))
    end
  end
  return last + 1
end
while a <= n do
  local key = p[a]
  local plain = p[a + 1]
  local greater = p[a + 2]
  local at = p[a + 3]
  a = zadd(key, false, a + 4, plain)
  a = zadd(key, true, a, greater)
  if redis.call('PEXPIREAT', key, at, 'NX') == 0 then redis.call('PEXPIREAT', key, at, 'GT') end
end
return records
`,
  // Sent as bytes: node-redis writes a Buffer argument as it is, where a string argument of this
  // size (~300 KB a batch) is measured, concatenated into the command text and copied again on its
  // way to the socket.
  parseCommand(parser: CommandParser, payload: Buffer): void {
    parser.push(payload);
  },
  transformReply: (reply: number): number => reply,
});

/**
 * indexPage: one page of live members in descending (score, member) order, after a cursor, in one
 * atomic read. The cursor member still in the set with the cursor's score gives the page's start
 * rank (ZREVRANK + 1: ties at that score are skipped by rank, never compared in Lua, whose string
 * comparison follows the server's locale); otherwise the script answers nil and the caller pages
 * by score. Dead members (score <= now) sort last, so the page stops at the first one.
 * KEYS[1] index; ARGV[1] now; ARGV[2] limit (>= 1); ARGV[3] cursor score ('' = first page);
 * ARGV[4] cursor member. Returns [member, score, member, score, ...] or nil.
 */
const INDEX_PAGE = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local start = 0
if ARGV[3] ~= '' then
  local score = redis.call('ZSCORE', key, ARGV[4])
  if not score or tonumber(score) ~= tonumber(ARGV[3]) then return false end
  start = redis.call('ZREVRANK', key, ARGV[4]) + 1
end
local rows = redis.call('ZRANGE', key, start, start + tonumber(ARGV[2]) - 1, 'REV', 'WITHSCORES')
local out = {}
for i = 1, #rows, 2 do
  if tonumber(rows[i + 1]) <= now then break end
  out[#out + 1] = rows[i]
  out[#out + 1] = rows[i + 1]
end
return out
`,
  parseCommand(
    parser: CommandParser,
    key: string,
    now: number,
    limit: number,
    after: { score: number; member: string } | undefined,
  ): void {
    parser.pushKey(key);
    parser.push(String(now), String(limit), after ? String(after.score) : '', after ? after.member : '');
  },
  transformReply: (reply: string[] | null): string[] | null => reply,
});

/**
 * getWithGrant: a record and, when it is linked to a grant, the grant, in one atomic read. The
 * record's text is a Keyv envelope `{"value": <record>, "expires": <ms>}`; when `value.g` is a
 * string, the grant key is ARGV[1] .. g. Keyv's serializer writes a string starting with ':' with
 * one more ':' in front, and `:base64:…` is a Buffer (not a string: nothing to follow). A text
 * cjson cannot decode (not ours, too deep) is passed on unfollowed, never an error: the caller
 * decodes it as `get` does. The grant key is not declared in KEYS (it is known only inside the
 * script): fine on the single node this store supports.
 * KEYS[1] record key; ARGV[1] grant key prefix. Returns [record text, grant text, g followed]:
 * a missing text is nil, and the third item is absent when no grant was followed.
 */
const GET_WITH_GRANT = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local raw = redis.call('GET', KEYS[1])
if not raw then return {false, false} end
local ok, doc = pcall(cjson.decode, raw)
if not ok or type(doc) ~= 'table' or type(doc.value) ~= 'table' then return {raw, false} end
local g = doc.value.g
if type(g) ~= 'string' then return {raw, false} end
if string.sub(g, 1, 1) == ':' then
  if string.sub(g, 1, 8) == ':base64:' then return {raw, false} end
  g = string.sub(g, 2)
end
return {raw, redis.call('GET', ARGV[1] .. g), g}
`,
  parseCommand(parser: CommandParser, key: string, grantKeyPrefix: string): void {
    parser.pushKey(key);
    parser.push(grantKeyPrefix);
  },
  transformReply: (reply: Array<string | null>): Array<string | null> => reply,
});

/**
 * The scripts as client methods (`client.deleteAndPublish(keys, channel, message)`…). Names that no
 * node-redis command has: a script of the same name would replace the command on the client.
 */
export const STORE_SCRIPTS = {
  deleteAndPublish: DELETE,
  indexAdd: INDEX_ADD,
  releaseLock: RELEASE_LOCK,
  sweepIndexes: SWEEP_INDEXES,
  writeBatch: WRITE_BATCH,
  commitTransaction: COMMIT,
  indexPageFrom: INDEX_PAGE,
  getWithGrant: GET_WITH_GRANT,
};
