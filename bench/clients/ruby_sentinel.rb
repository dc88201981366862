# redis-rb (Debian's ruby-redis, 4.8) through Sentinel, driven by bench/clients-sentinel.mjs.
#
# usage: ruby ruby_sentinel.rb HOST:PORT[,...] SERVICE SECONDS INTERVAL_MS SETTINGS
#
# SETTINGS: `timeouts` (connect_timeout and timeout 0.3 s: redis-rb uses the same options for the
# sentinels it asks) or `defaults` (redis-rb's own: 5 s). Writes and reads back a key every
# INTERVAL_MS, one JSON line per operation, as test/discovery/redis_py_sentinel.py does:
# {"t": ms since epoch, "done": ms since epoch, "ok": bool, "addr": "ip:port", "error": text}.
require 'json'
require 'redis'

spec, service, seconds, interval_ms, settings = ARGV
abort 'usage: ruby_sentinel.rb HOST:PORT[,...] SERVICE SECONDS INTERVAL_MS timeouts|defaults' unless settings
sentinels = spec.split(',').map do |hp|
  host, port = hp.split(':')
  { host: host, port: Integer(port) }
end
options = { url: "redis://#{service}", sentinels: sentinels, role: :master }
case settings
when 'timeouts' then options.merge!(connect_timeout: 0.3, timeout: 0.3)
when 'defaults' then nil
else abort "unknown SETTINGS #{settings}: timeouts or defaults"
end
client = Redis.new(**options)
$stdout.sync = true
finish = Time.now.to_f + Float(seconds)
n = 0
while Time.now.to_f < finish
  n += 1
  t = Time.now.to_f
  begin
    client.set('bench', n.to_s)
    raise 'read back another value' unless client.get('bench') == n.to_s
    c = client.connection
    line = { t: (t * 1000).to_i, ok: true, addr: "#{c[:host]}:#{c[:port]}" }
  rescue StandardError => e
    line = { t: (t * 1000).to_i, ok: false, error: "#{e.class}: #{e.message}" }
  end
  line[:done] = (Time.now.to_f * 1000).to_i
  puts JSON.generate(line)
  rest = Float(interval_ms) / 1000 - (Time.now.to_f - t)
  sleep(rest) if rest > 0
end
