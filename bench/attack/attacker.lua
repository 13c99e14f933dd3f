-- attacker.lua: run A's attacker for bench/attack/run.sh. Every request
-- comes from one client address (ATTACK_ADDR, default 198.51.100.1, in the
-- forwarded header that htgate believes from its trusted loopback proxy) and
-- carries the right user name (ATTACK_USER, default "bench") with a password
-- never sent before ("wrong-1", "wrong-2", ...), as a password-guessing
-- client would: no cache and no shared in-flight check can answer it, so
-- each request that reaches the password check costs one bcrypt hash.
-- run.sh prepends common.lua (response(), done(), b64()).
local user = os.getenv("ATTACK_USER") or "bench"
local addr = os.getenv("ATTACK_ADDR") or "198.51.100.1"
local counter = 0

request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers[fwd_header] = fwd_value(addr)
  headers["Authorization"] = "Basic " .. b64(user .. ":wrong-" .. counter)
  return wrk.format(nil, nil, headers)
end
