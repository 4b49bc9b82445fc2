"""The Lua scripts of ``RedisQueueStore`` (each runs atomically on the server).

WRITE, KEYS: meta, entries, index; ARGV: ``"<expected tag>:<expected entry count>"`` ('' = rewrite
whole), meta JSON, TTL in ms (0 = none), index score, guild, n, then n id/track pairs to HSET, then
ids to HDEL. Returns 0 when the stored tag or entry count is not the expected one (the caller then
rewrites whole: another writer, expiry, a restart or an evicted hash), an error when a key holds a
foreign type (nothing is changed), else 1.
"""

from __future__ import annotations

__all__ = ["EVICT", "PRUNE", "READ", "WRITE"]

WRITE = """
local meta, entries, index = KEYS[1], KEYS[2], KEYS[3]
local tm = redis.call('TYPE', meta)['ok']
local te = redis.call('TYPE', entries)['ok']
if (tm ~= 'none' and tm ~= 'string') or (te ~= 'none' and te ~= 'hash') then
  return redis.error_reply('FOREIGN ' .. meta .. ' or ' .. entries .. ' holds a ' .. tm .. '/' .. te)
end
if ARGV[1] ~= '' then
  local tag, count = string.match(ARGV[1], '^(%x+):(%d+)$')
  local cur = redis.call('GET', meta)
  if not cur or redis.call('HLEN', entries) ~= tonumber(count) then return 0 end
  local ok, doc = pcall(cjson.decode, cur)
  if not ok or type(doc) ~= 'table' or doc['w'] ~= tag then return 0 end
else
  redis.call('DEL', entries)
end
local n = tonumber(ARGV[6])
local i = 7
while n > 0 do
  local take = math.min(n, 500)
  redis.call('HSET', entries, unpack(ARGV, i, i + 2 * take - 1))
  i = i + 2 * take
  n = n - take
end
while i <= #ARGV do
  local last = math.min(#ARGV, i + 499)
  redis.call('HDEL', entries, unpack(ARGV, i, last))
  i = last + 1
end
redis.call('SET', meta, ARGV[2])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', meta, ttl)
  redis.call('PEXPIRE', entries, ttl)
else
  redis.call('PERSIST', meta)
  redis.call('PERSIST', entries)
end
redis.call('ZADD', index, ARGV[4], ARGV[5])
return 1
"""

# Evict guilds whose index score is still the one the caller saw (a newer write saves them).
# KEYS: index, then meta/entries pairs; ARGV: member/score pairs. Returns the evicted members.
EVICT = """
local out = {}
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call('DEL', KEYS[i + 1], KEYS[i + 2])
    redis.call('ZREM', KEYS[1], ARGV[i])
    out[#out + 1] = ARGV[i]
  end
end
return out
"""

# Drop index members whose meta expired, unless a write brought them back meanwhile.
# KEYS: index, then meta keys; ARGV: the members in the same order.
PRUNE = """
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 0
"""

# Read guilds atomically: per guild {1, meta, '{"<id>":track,...}'} (the entries assembled into one
# JSON object, so the client parses two strings instead of 2n + 1), {0} when absent, {2} when a key
# holds a foreign type. KEYS: meta/entries pairs.
READ = """
local out = {}
for i = 1, #KEYS, 2 do
  local meta = redis.pcall('GET', KEYS[i])
  if type(meta) == 'table' then
    out[#out + 1] = {2}
  elseif not meta then
    out[#out + 1] = {0}
  else
    local h = redis.pcall('HGETALL', KEYS[i + 1])
    if h['err'] then
      out[#out + 1] = {2}
    else
      local parts = {}
      local foreign = false
      for j = 1, #h, 2 do
        if not string.match(h[j], '^%d+$') then foreign = true end
        parts[#parts + 1] = '"' .. h[j] .. '":' .. h[j + 1]
      end
      if foreign then
        out[#out + 1] = {2}
      else
        out[#out + 1] = {1, meta, '{' .. table.concat(parts, ',') .. '}'}
      end
    end
  end
end
return out
"""
