/**
 * The Lua scripts of RedisStore (see redis-store.ts for the keys and messages): each changes a
 * room's member set and publishes the matching event in one step, so no node sees one without
 * the other.
 */

/**
 * KEYS: room set, channel, room type. ARGV: peer, expiresAt, maxPeers, now, session type.
 * Returns the live members before this one, nil when full, or the room's type (a string) when
 * it has live members of the other type. The type key lives as long as the set (TICK).
 */
export const JOIN = `
local live = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[4], '+inf')
if #live >= tonumber(ARGV[3]) then return false end
local t = redis.call('GET', KEYS[3])
if #live > 0 and t and t ~= ARGV[5] then return t end
redis.call('SET', KEYS[3], ARGV[5])
redis.call('PEXPIREAT', KEYS[3], ARGV[2])
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

/** KEYS: room set, channel, room type. ARGV: now, expiresAt, this node's peers… */
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
if #ARGV > 2 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  redis.call('PEXPIREAT', KEYS[3], ARGV[2])
end
return #dead`;
