-- `login-storm`'s second load: continuous logins (argon2 verification + a session insert),
-- alternating tenants. Runs beside read.lua; scripts/bench raises the login rate limits.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

bench.per_tenant(function(t)
   local body = string.format('{"email": "%s", "password": "%s"}', t.email, t.password)
   return wrk.format("POST", "/api/sales/auth/login",
      { ["X-Tenant"] = t.slug, ["Content-Type"] = "application/json" }, body)
end)
