-- wrk script for bench-intake: one POST per request with a unique id, as slad's ticket
-- intake (external_id) or an Alertmanager alert (a unique label, so nothing is merged).
-- Usage: wrk ... -s intake.lua URL -- PREFIX ticket|alert [TOKEN]
-- done() prints the same key=value line as intake_client.

local threads = {}
local made = 0

function setup(thread)
   made = made + 1
   thread:set("tid", made)
   table.insert(threads, thread)
end

function init(args)
   prefix = args[1] or "w"
   kind = args[2] or "ticket"
   n = 0
   errors = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if args[3] and args[3] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[3]
   end
end

function request()
   n = n + 1
   local id = prefix .. "-" .. tid .. "-" .. n
   local body
   if kind == "alert" then
      body = '[{"labels":{"alertname":"bench","instance":"' .. id .. '"}}]'
      return wrk.format(nil, "/api/v2/alerts", nil, body)
   end
   body = '{"title":"bench intake","severity":3,"source":"bench","external_id":"' .. id .. '"}'
   return wrk.format(nil, "/v1/tickets", nil, body)
end

function done(summary, latency, requests)
   local seconds = summary.duration / 1e6
   local bad = summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout
   io.write(string.format(
      "requests=%d errors=%d seconds=%.3f rate=%.1f p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, bad, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99), latency.max))
end
