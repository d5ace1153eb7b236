-- `read-conditional`: the `read` page with its current ETag in If-None-Match, alternating
-- tenants: every answer should be a 304 from the worker's versions, with no round trip.
-- scripts/bench fetches each tenant's ETag into the data file just before the run.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

bench.per_tenant(function(t)
   return wrk.format("GET", bench.READ_PAGE, bench.headers(t, { ["If-None-Match"] = t.etag }))
end)
