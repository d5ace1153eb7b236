-- `login-storm`'s second load: continuous logins (argon2 verification + a session insert),
-- alternating tenants. Runs beside read.lua; scripts/bench raises the login rate limits.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local logins

function init(args)
   logins = {}
   for _, t in ipairs(bench.tenants) do
      local body = string.format('{"email": "%s", "password": "%s"}', t.email, t.password)
      logins[t.slug] = wrk.format("POST", "/api/sales/auth/login",
         { ["X-Tenant"] = t.slug, ["Content-Type"] = "application/json" }, body)
   end
end

function request()
   return logins[bench.next_tenant().slug]
end
