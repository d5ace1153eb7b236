-- `dashboard`: the tenant dashboard (one statement of many aggregates), alternating tenants.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local pages

function init(args)
   pages = bench.prebuilt_get("/api/sales/dashboard")
end

function request()
   return pages[bench.next_tenant().slug]
end
