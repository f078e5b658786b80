import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Lua scripts of the Redis store. A script runs atomically on the server, so each store call is one
 * round trip and no other client sees a half-done step. ARGV[1] is always the key prefix.
 *
 * Keys: dedup:<scope>… (string, PX ttl) · event:<id> (hash json, refs) · events (zset by seq) ·
 * run:<id> (hash; a retried failed run's names its retry in retriedBy) with run:<id>:nodes (hash
 * node id → JSON) and run:<id>:node-order (list) · runs, runs:unfinished, runs:finished (zsets by
 * seq) · seq (counter).
 */
export interface RedisScript {
  readonly lua: string;
  readonly sha: string;
}

const COMMON = `
local prefix = ARGV[1]
local function runKey(runId) return prefix .. 'run:' .. runId end
local function eventKey(eventId) return prefix .. 'event:' .. eventId end
local function addRun(runId, workflow, eventId)
  local seq = redis.call('INCR', prefix .. 'seq')
  redis.call('HSET', runKey(runId), 'runId', runId, 'workflow', workflow, 'eventId', eventId, 'status', 'queued', 'seq', seq)
  redis.call('ZADD', prefix .. 'runs', seq, runId)
  redis.call('ZADD', prefix .. 'runs:unfinished', seq, runId)
end
local function readRun(runId)
  local key = runKey(runId)
  local fields = redis.call('HGETALL', key)
  if #fields == 0 then return false end
  local order = redis.call('LRANGE', key .. ':node-order', 0, -1)
  local nodes = {}
  if #order > 0 then nodes = redis.call('HMGET', key .. ':nodes', unpack(order)) end
  return {fields, nodes}
end
local function dropEvent(eventId)
  redis.call('DEL', eventKey(eventId))
  redis.call('ZREM', prefix .. 'events', eventId)
end
`;

function script(body: string): RedisScript {
  const lua = COMMON + body;
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * ARGV: prefix, eventId, eventJson, dedupKey ('' for none), ttlMs, then runId, workflow pairs.
 * Replaying the same call (ioredis resends a command cut off by a reconnect) finds its own event
 * and answers accepted again instead of reporting itself as its own duplicate.
 */
export const ACCEPT = script(`
local eventId, dedupKey, ttl = ARGV[2], ARGV[4], ARGV[5]
if dedupKey ~= '' then
  local first = redis.call('GET', dedupKey)
  if first then
    redis.call('PEXPIRE', dedupKey, ttl)
    if first ~= eventId then return {'duplicate', first} end
    return {'accepted'}
  end
end
if redis.call('EXISTS', eventKey(eventId)) == 1 then return {'accepted'} end
if dedupKey ~= '' then redis.call('SET', dedupKey, eventId, 'PX', ttl) end
if #ARGV == 5 then return {'accepted'} end
local seq = redis.call('INCR', prefix .. 'seq')
redis.call('HSET', eventKey(eventId), 'json', ARGV[3], 'refs', (#ARGV - 5) / 2)
redis.call('ZADD', prefix .. 'events', seq, eventId)
for i = 6, #ARGV, 2 do addRun(ARGV[i], ARGV[i + 1], eventId) end
return {'accepted'}
`);

/**
 * ARGV: prefix, failedRunId, runId. Marks the failed run retried by the new run (its hash's
 * `retriedBy`, deleted with it when the history prunes it) and queues the new run on its event.
 * Returns {'created', workflow, eventId}, {'already-retried', retriedBy}, {'not-failed'} or
 * {'not-found'}. Replaying the same call (a command cut off by a reconnect) finds its own mark.
 */
export const RETRY_RUN = script(`
local failedId, runId = ARGV[2], ARGV[3]
local key = runKey(failedId)
local run = redis.call('HMGET', key, 'status', 'retriedBy', 'workflow', 'eventId')
if not run[1] then return {'not-found'} end
if run[2] == runId then return {'created', run[3], run[4]} end
if run[2] then return {'already-retried', run[2]} end
if run[1] ~= 'failed' then return {'not-failed'} end
redis.call('HSET', key, 'retriedBy', runId)
redis.call('HINCRBY', eventKey(run[4]), 'refs', 1)
addRun(runId, run[3], run[4])
return {'created', run[3], run[4]}
`);

/** ARGV: prefix, runId, nowIso. Returns the run as {fields, nodes} or nil. */
export const START_RUN = script(`
local key = runKey(ARGV[2])
if redis.call('HGET', key, 'status') == 'queued' then
  redis.call('HSET', key, 'status', 'running', 'startedAt', ARGV[3])
end
return readRun(ARGV[2])
`);

/** ARGV: prefix, runId. */
export const GET_RUN = script(`return readRun(ARGV[2])`);

/** ARGV: prefix, runId, nodeId, nodeJson. A node keeps the position of its first record. */
export const RECORD_NODE = script(`
local key = runKey(ARGV[2])
if redis.call('EXISTS', key) == 0 then return 0 end
if redis.call('HSET', key .. ':nodes', ARGV[3], ARGV[4]) == 1 then
  redis.call('RPUSH', key .. ':node-order', ARGV[3])
end
return 1
`);

/**
 * ARGV: prefix, runId, status, finishedAt, error, hasError ('1'/'0'), historyLimit. Prunes the
 * oldest finished runs beyond the limit, events no run references any more, and events recorded
 * with no workflow that are older than every kept run.
 */
export const FINISH_RUN = script(`
local runId = ARGV[2]
local key = runKey(runId)
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'status', ARGV[3], 'finishedAt', ARGV[4])
if ARGV[6] == '1' then redis.call('HSET', key, 'error', ARGV[5]) else redis.call('HDEL', key, 'error') end
local finished = prefix .. 'runs:finished'
redis.call('ZREM', prefix .. 'runs:unfinished', runId)
redis.call('ZADD', finished, redis.call('HGET', key, 'seq'), runId)
local excess = redis.call('ZCARD', finished) - tonumber(ARGV[7])
if excess <= 0 then return 1 end
for _, old in ipairs(redis.call('ZRANGE', finished, 0, excess - 1)) do
  local oldKey = runKey(old)
  local eventId = redis.call('HGET', oldKey, 'eventId')
  redis.call('DEL', oldKey, oldKey .. ':nodes', oldKey .. ':node-order')
  redis.call('ZREM', finished, old)
  redis.call('ZREM', prefix .. 'runs', old)
  if eventId and redis.call('EXISTS', eventKey(eventId)) == 1
      and redis.call('HINCRBY', eventKey(eventId), 'refs', -1) <= 0 then
    dropEvent(eventId)
  end
end
local cut = '+inf'
local oldest = redis.call('ZRANGE', prefix .. 'runs', 0, 0)[1]
if oldest then
  local oldestEvent = redis.call('HGET', runKey(oldest), 'eventId')
  local score = oldestEvent and redis.call('ZSCORE', prefix .. 'events', oldestEvent)
  if score then cut = '(' .. score end
end
for _, eventId in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'events', '-inf', cut)) do
  if tonumber(redis.call('HGET', eventKey(eventId), 'refs') or '0') <= 0 then dropEvent(eventId) end
end
return 1
`);

/** ARGV: prefix, workflow ('' for any), status ('' for any), limit. Newest first. */
export const LIST_RUNS = script(`
local workflow, status, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local page = 200
local found = {}
local start = 0
while #found < limit do
  local ids = redis.call('ZREVRANGE', prefix .. 'runs', start, start + page - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local meta = redis.call('HMGET', runKey(id), 'workflow', 'status')
    if (workflow == '' or meta[1] == workflow) and (status == '' or meta[2] == status) then
      local run = readRun(id)
      if run then found[#found + 1] = run end
      if #found >= limit then break end
    end
  end
  start = start + page
end
return found
`);

/** ARGV: prefix. Oldest first, as [runId, workflow, eventId] triples. */
export const LIST_UNFINISHED = script(`
local out = {}
for _, id in ipairs(redis.call('ZRANGE', prefix .. 'runs:unfinished', 0, -1)) do
  local meta = redis.call('HMGET', runKey(id), 'runId', 'workflow', 'eventId')
  if meta[1] then out[#out + 1] = meta end
end
return out
`);

/** EVALSHA, loading the script on the first NOSCRIPT (a fresh or flushed server). */
export async function runScript(
  redis: Redis,
  target: RedisScript,
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(target.sha, 0, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
    return redis.eval(target.lua, 0, ...args);
  }
}
