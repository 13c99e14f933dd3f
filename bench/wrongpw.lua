-- wrongpw.lua: wrk request() hook for bench/run.sh's wrong-password
-- scenarios. Every request carries the right user name ($BENCH_USER, default
-- "bench") with a password never sent before ("wrong-1", "wrong-2", ...), as
-- a password-guessing client would. A server cannot answer these from a
-- cache or share one hash between concurrent requests: each costs a hash.
-- run.sh appends report.lua to this file (wrk takes one script).
local user = os.getenv("BENCH_USER") or "bench"
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local counter = 0

local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local i1 = math.floor(n / 262144) % 64 + 1
    local i2 = math.floor(n / 4096) % 64 + 1
    local i3 = math.floor(n / 64) % 64 + 1
    local i4 = n % 64 + 1
    out[#out + 1] = chars:sub(i1, i1) .. chars:sub(i2, i2) ..
      (b and chars:sub(i3, i3) or "=") .. (c and chars:sub(i4, i4) or "=")
  end
  return table.concat(out)
end

request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Authorization"] = "Basic " .. b64(user .. ":wrong-" .. counter)
  return wrk.format(nil, nil, headers)
end
