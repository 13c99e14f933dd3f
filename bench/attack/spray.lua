-- spray.lua: run B's attacker for bench/attack/run.sh: a new client address
-- on every request, 10.a.b.c from a counter over SPRAY_ADDRS addresses
-- (default 100,000; they are only header values in the forwarded header
-- that htgate believes from its trusted loopback proxy, no traffic goes to
-- them), wrapping around after that. Run with -t1 so that one counter
-- covers every connection. SPRAY_MODE says what each request carries:
--   malformed (default)  Basic credentials without a ':' ("u<n>" encoded):
--                        a failure counted against the address, no hash.
--   users                a new user name and a wrong password ("u<n>:wrong-<n>"):
--                        three new counters per request (pair, address,
--                        user), but one bcrypt hash each (the dummy hash of
--                        an unknown user), so ~20 requests/s per core.
-- run.sh prepends common.lua (response(), done(), b64()) and stops the run
-- after STOP_AFTER responses.
local addrs = tonumber(os.getenv("SPRAY_ADDRS") or "100000")
local mode = os.getenv("SPRAY_MODE") or "malformed"
local counter = 0

request = function()
  local i = counter % addrs
  counter = counter + 1
  local addr = string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers[fwd_header] = fwd_value(addr)
  if mode == "users" then
    headers["Authorization"] = "Basic " .. b64("u" .. counter .. ":wrong-" .. counter)
  else
    headers["Authorization"] = "Basic " .. b64("u" .. counter)
  end
  return wrk.format(nil, nil, headers)
end
