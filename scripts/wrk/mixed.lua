-- `mixed`: 90% reads over the first pages of customers, products and orders; 10% order
-- placement (1 to 3 distinct well-stocked products) with a unique Idempotency-Key.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "common.lua")

local READS = {
   "/api/sales/customers?limit=20",
   "/api/sales/products?limit=20",
   "/api/sales/orders?limit=20",
}
local pages = {}
local placed = 0

function init(args)
   for i, path in ipairs(READS) do
      pages[i] = bench.prebuilt_get(path)
   end
   math.randomseed(os.time() * 1000 + thread_id)
end

local function order_body(t)
   local lines = {}
   local first = math.random(#t.products)
   for i = 0, math.random(3) - 1 do
      -- steps of 7 keep the products of one order distinct
      local product = t.products[(first + i * 7 - 1) % #t.products + 1]
      lines[#lines + 1] = string.format('{"product_id": "%s", "quantity": 1}', product)
   end
   local customer = t.customers[math.random(#t.customers)]
   return string.format('{"customer_id": "%s", "lines": [%s]}', customer, table.concat(lines, ", "))
end

local function place_order(t)
   placed = placed + 1
   local key = string.format("bench-%s-%d-%d-%d", bench.run_id, thread_id, placed, math.random(1e9))
   local headers = bench.headers(t, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key })
   return wrk.format("POST", "/api/sales/orders", headers, order_body(t))
end

function request()
   local t = bench.next_tenant()
   if math.random() < 0.1 then
      return place_order(t)
   end
   return pages[math.random(#READS)][t.slug]
end
