-- common.lua: shared by attacker.lua and spray.lua (run.sh prepends it; wrk
-- takes one script). Base64 for the Authorization header, the forwarded
-- header that carries the client address, and status counting per thread
-- with one machine-readable ATTACK line at the end (latencies in
-- microseconds), so run.sh never parses wrk's human-readable units.
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function b64(s)
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

-- FWD_HEADER: X-Forwarded-For (run.sh's choice: htgate's quick-start flags
-- read only it from a trusted proxy) or Forwarded (RFC 7239 for=, for an
-- htgate configured with forwarded_header: Forwarded).
fwd_header = os.getenv("FWD_HEADER") or "X-Forwarded-For"
function fwd_value(addr)
  if fwd_header:lower() == "forwarded" then return "for=" .. addr end
  return addr
end

-- Per-thread counters (globals of the thread's Lua state, read by done()).
n, c200, c401, c429, cother, late401, first429 = 0, 0, 0, 0, 0, 0, 0
t_first, t_last = 0, 0 -- wall-clock seconds of the first and last response (os.time)
stop_after = tonumber(os.getenv("STOP_AFTER") or "0")

response = function(status, headers, body)
  n = n + 1
  t_last = os.time()
  if t_first == 0 then t_first = t_last end
  if status == 200 then
    c200 = c200 + 1
  elseif status == 401 then
    c401 = c401 + 1
    if c429 > 0 then late401 = late401 + 1 end -- a 401 after the ban began
  elseif status == 429 then
    c429 = c429 + 1
    if first429 == 0 then first429 = n end
  else
    cother = cother + 1
  end
  if stop_after > 0 and n >= stop_after then wrk.thread:stop() end
end

local threads = {}
setup = function(thread) table.insert(threads, thread) end

done = function(summary, latency, requests)
  local t = { n = 0, c200 = 0, c401 = 0, c429 = 0, cother = 0, late401 = 0, first429 = 0, t_first = 0, t_last = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do
      if k == "first429" or k == "t_first" then
        local f = th:get(k) or 0
        if f > 0 and (t[k] == 0 or f < t[k]) then t[k] = f end
      elseif k == "t_last" then
        t[k] = math.max(t[k], th:get(k) or 0)
      else
        t[k] = t[k] + (th:get(k) or 0)
      end
    end
  end
  local e = summary.errors
  io.write(string.format(
    "ATTACK requests=%d duration_us=%d responses=%d s200=%d s401=%d s429=%d sother=%d " ..
    "late401=%d first429=%d span_s=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, t.n, t.c200, t.c401, t.c429, t.cother,
    t.late401, t.first429, t.t_last - t.t_first, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout))
end
