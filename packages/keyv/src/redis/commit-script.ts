import { type CommandParser, defineScript } from '@redis/client';

/**
 * commit: a whole transaction in ONE script call (EVALSHA), so it is atomic and costs one round
 * trip; `commit-plan.ts` builds the arguments (codes and layout documented there).
 *
 * 1. Preconditions in order, before any write: `present`/`absent` = EXISTS (Redis expires records
 *    natively), `room` = ZCOUNT(index, "(now", +inf) <= cap - adding, `count` = ZCOUNT == equals.
 *    The first that fails is returned (1-based) and nothing is written.
 * 2. A pass over the ops refusing index ops on a key of another type: a Redis script is not rolled
 *    back when a command fails, so the one failure a valid call can still meet is caught here,
 *    before the first write.
 * 3. The ops in order: SET PX (an overwrite of an existing key is noted), DEL (a key that existed is
 *    noted), index add = ZREMRANGEBYSCORE -inf now then ZADD (GT for keepGreater, as `indexAdd`),
 *    ZREM, index DEL.
 * 4. Each index added to expires at its highest score (PEXPIREAT, as `indexAdd`): an index dies
 *    with its last member.
 * 5. The noted keys are published on the invalidation channel, as `delete` does, so other
 *    processes drop them from their L1 caches.
 *
 * KEYS: every key of the transaction once; ARGV[1] channel, ARGV[2] now, ARGV[3] precondition
 * count, ARGV[4] op count, then the codes. Returns 0 when applied, else the failed precondition.
 */
export const COMMIT = defineScript({
  SCRIPT: `
local channel = ARGV[1]
local now = ARGV[2]
local since = '(' .. now
local nreq = tonumber(ARGV[3])
local nops = tonumber(ARGV[4])
local function num(s)
  if s == '+inf' then return math.huge end
  if s == '-inf' then return -math.huge end
  return tonumber(s)
end
local a = 5
for i = 1, nreq do
  local code = ARGV[a]
  local key = KEYS[tonumber(ARGV[a + 1])]
  local holds
  if code == 'p' then
    holds = redis.call('EXISTS', key) == 1
    a = a + 2
  elseif code == 'a' then
    holds = redis.call('EXISTS', key) == 0
    a = a + 2
  elseif code == 'r' then
    holds = redis.call('ZCOUNT', key, since, '+inf') <= num(ARGV[a + 2])
    a = a + 3
  else
    holds = redis.call('ZCOUNT', key, since, '+inf') == num(ARGV[a + 2])
    a = a + 3
  end
  if not holds then return i end
end
local first = a
local checked = {}
local function assertIndex(key)
  if checked[key] then return end
  checked[key] = true
  local t = redis.call('TYPE', key).ok
  if t ~= 'zset' and t ~= 'none' then
    return error({ err = 'WRONGTYPE commit: an index key holds a value of another type' })
  end
end
for _ = 1, nops do
  local code = ARGV[a]
  if code == 's' then
    a = a + 4
  elseif code == 'i' then
    assertIndex(KEYS[tonumber(ARGV[a + 1])])
    a = a + 5
  elseif code == 'm' then
    assertIndex(KEYS[tonumber(ARGV[a + 1])])
    a = a + 3 + tonumber(ARGV[a + 2])
  else
    a = a + 2
  end
end
local changed = {}
local added = {}
local seen = {}
a = first
for _ = 1, nops do
  local code = ARGV[a]
  local key = KEYS[tonumber(ARGV[a + 1])]
  if code == 's' then
    if redis.call('EXISTS', key) == 1 then changed[#changed + 1] = key end
    redis.call('SET', key, ARGV[a + 2], 'PX', ARGV[a + 3])
    a = a + 4
  elseif code == 'd' then
    if redis.call('DEL', key) == 1 then changed[#changed + 1] = key end
    a = a + 2
  elseif code == 'i' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    if ARGV[a + 4] == '1' then
      redis.call('ZADD', key, 'GT', ARGV[a + 3], ARGV[a + 2])
    else
      redis.call('ZADD', key, ARGV[a + 3], ARGV[a + 2])
    end
    if not seen[key] then
      seen[key] = true
      added[#added + 1] = key
    end
    a = a + 5
  elseif code == 'm' then
    local n = tonumber(ARGV[a + 2])
    redis.call('ZREM', key, unpack(ARGV, a + 3, a + 2 + n))
    a = a + 3 + n
  else
    redis.call('DEL', key)
    a = a + 2
  end
end
for _, key in ipairs(added) do
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then
    local s = tonumber(top[2])
    if s and s < 1e15 then redis.call('PEXPIREAT', key, string.format('%d', math.ceil(s))) end
  end
end
if #changed > 0 then redis.call('PUBLISH', channel, cjson.encode(changed)) end
return 0
`,
  // No NUMBER_OF_KEYS: the key count varies, it is pushed with the keys.
  parseCommand(parser: CommandParser, keys: string[], channel: string, args: string[]): void {
    parser.pushKeysLength(keys);
    parser.push(channel);
    // One by one: a spread of a large revocation's arguments could outgrow the call stack.
    for (const arg of args) parser.push(arg);
  },
  transformReply: (reply: number): number => reply,
});
