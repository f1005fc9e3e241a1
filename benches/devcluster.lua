-- wrk script: the same create+get+list+delete mix of Secrets as
-- benches/devcluster.rs, one connection per wrk thread, so each thread's
-- sequence stays in order. TOKEN comes from the environment.
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  n = 0
  step = 0
  token = os.getenv("TOKEN")
  -- Distinct names per run, so a run never trips over what the last one left.
  run = os.getenv("RUN") or "0"
end

function request()
  local name = "wrk" .. run .. "-" .. id .. "-" .. n
  local path = "/api/v1/namespaces/bench/secrets"
  local headers = { ["Authorization"] = "Bearer " .. token }
  -- wrk calls request() once at start-up and discards the result; spend
  -- that call on a harmless GET so the mix starts with a create.
  if not primed then
    primed = true
    return wrk.format("GET", "/version", headers)
  end
  local op = step % 4
  step = step + 1
  if op == 0 then
    headers["Content-Type"] = "application/json"
    local body = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"' .. name ..
      '","labels":{"bench-worker":"wrk' .. id .. '"}},"type":"Opaque",' ..
      '"stringData":{"token-id":"abcdef","token-secret":"0123456789abcdef"}}'
    return wrk.format("POST", path, headers, body)
  elseif op == 1 then
    return wrk.format("GET", path .. "/" .. name, headers)
  elseif op == 2 then
    return wrk.format("GET", path .. "?labelSelector=bench-worker%3Dwrk" .. id, headers)
  else
    n = n + 1
    return wrk.format("DELETE", path .. "/" .. name, headers)
  end
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("wrk: %d requests, %d non-2xx, %d socket errors\n", summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
