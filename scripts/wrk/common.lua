-- Shared by the scenario scripts (loaded with dofile): the benchmark data, tenant
-- alternation, a status counter and a JSON summary that scripts/bench parses.
--
-- Environment: BENCH_DATA names a Lua file returning { tenants = { {slug, token, email,
-- password, customers, products}, ... } }; BENCH_RUN_ID is unique per wrk invocation.

bench = dofile(os.getenv("BENCH_DATA"))
bench.run_id = os.getenv("BENCH_RUN_ID") or tostring(os.time())
-- The `read` page (read.lua, read-conditional.lua; benchlib/service.py READ_PAGE too).
bench.READ_PAGE = "/api/sales/customers?limit=20"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

-- The session cookie and the tenant header of tenant t, as a fresh table: wrk.format
-- adds Host and Content-Length to the table it is given.
function bench.headers(t, extra)
   local h = { ["X-Tenant"] = t.slug, ["Cookie"] = "sales-session-id=" .. t.token }
   for k, v in pairs(extra or {}) do h[k] = v end
   return h
end

-- Round robin over the tenants, each thread starting at a different one.
local turn = 0
function bench.next_tenant()
   turn = turn + 1
   return bench.tenants[(turn + (thread_id or 0)) % #bench.tenants + 1]
end

-- One prebuilt request per tenant for a GET that never changes.
function bench.prebuilt_get(path)
   local requests = {}
   for i, t in ipairs(bench.tenants) do
      requests[t.slug] = wrk.format("GET", path, bench.headers(t))
   end
   return requests
end

-- A scenario that sends each tenant's one unchanging request, alternating tenants:
-- `build(t)` makes tenant t's request once per thread. Defines wrk's init and request.
function bench.per_tenant(build)
   local prebuilt
   function init(args)
      prebuilt = {}
      for _, t in ipairs(bench.tenants) do
         prebuilt[t.slug] = build(t)
      end
   end
   function request()
      return prebuilt[bench.next_tenant().slug]
   end
end

-- A scenario that GETs one unchanging path, alternating tenants.
function bench.get_only(path)
   bench.per_tenant(function(t)
      return wrk.format("GET", path, bench.headers(t))
   end)
end

statuses = {}

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

local function json_object(map, format)
   local parts = {}
   for k, v in pairs(map) do
      parts[#parts + 1] = string.format('"%s": ' .. format, tostring(k), v)
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("statuses") or {}) do
         merged[code] = (merged[code] or 0) + n
      end
   end
   local percentiles = {}
   for _, p in ipairs({ 50, 90, 99, 99.9 }) do
      percentiles[tostring(p)] = latency:percentile(p)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"duration_us": %d, "requests": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"mean": %.1f, "max": %d, "percentiles": %s}, "statuses": %s}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.max, json_object(percentiles, "%d"), json_object(merged, "%d")))
end
