-- `dashboard`: the tenant dashboard (one statement of many aggregates), alternating tenants.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
bench.get_only("/api/sales/dashboard")
