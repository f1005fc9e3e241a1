-- wrk: POST a new bootstrap-token-shaped Secret per request (unique names per thread).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
end

request = function()
  counter = counter + 1
  local name = string.format("bootstrap-token-w%d%05d", thread_id, counter)
  local body = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"' .. name ..
    '","namespace":"kube-system"},"type":"bootstrap.kubernetes.io/token",' ..
    '"stringData":{"token-id":"abcdef","token-secret":"0123456789abcdef",' ..
    '"usage-bootstrap-authentication":"true","usage-bootstrap-signing":"true"}}'
  return wrk.format("POST", "/api/v1/namespaces/kube-system/secrets",
    {["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json"}, body)
end
