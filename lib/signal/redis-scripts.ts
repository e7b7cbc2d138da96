/**
 * The Lua scripts of RedisStore (see redis-store.ts for the keys and messages): each changes a
 * room's member set and publishes the matching event in one step, so no node sees one without
 * the other.
 */

/** KEYS: room set, channel. ARGV: peer, expiresAt, maxPeers, now. */
export const JOIN = `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[4], '+inf')
if #live >= tonumber(ARGV[3]) then return false end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], 'J\\n' .. ARGV[1])
return live`;

/** KEYS: room set, channel. ARGV: peer. */
export const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('PUBLISH', KEYS[2], 'L\\n' .. ARGV[1])
end
return 1`;

/**
 * KEYS: room set, channel. ARGV: peer, expiresAt, this node's id. A member that expired
 * meanwhile (its old node died) is back: `join` again.
 */
export const ADOPT = `
if redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) == 1 then
  redis.call('PUBLISH', KEYS[2], 'J\\n' .. ARGV[1])
end
redis.call('PUBLISH', KEYS[2], 'T\\n' .. ARGV[1] .. '\\n' .. ARGV[3])
return 1`;

/** KEYS: room set, channel. ARGV: now, expiresAt, this node's peers… */
export const TICK = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, p in ipairs(dead) do
  if redis.call('ZREM', KEYS[1], p) == 1 then redis.call('PUBLISH', KEYS[2], 'L\\n' .. p) end
end
for i = 3, #ARGV do
  if redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i]) == 1 then
    redis.call('PUBLISH', KEYS[2], 'J\\n' .. ARGV[i])
  end
end
if #ARGV > 2 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return #dead`;
