-- `read`: the first page of customers, alternating tenants (session cookie + X-Tenant).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local pages

function init(args)
   pages = bench.prebuilt_get("/api/sales/customers?limit=20")
end

function request()
   return pages[bench.next_tenant().slug]
end
