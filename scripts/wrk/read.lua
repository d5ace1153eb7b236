-- `read`: the first page of customers, alternating tenants (session cookie + X-Tenant).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")
bench.get_only(bench.READ_PAGE)
