"""redis-py's Sentinel client, driven by the discovery tests and bench/clients.mjs.

usage: redis_py_sentinel.py discover HOST:PORT[,HOST:PORT...] SERVICE
       redis_py_sentinel.py write HOST:PORT[,...] SERVICE SECONDS [INTERVAL_MS [SETTINGS]]

`discover` prints one JSON object: the master and replicas redis-py finds (or the error).
`write` writes and reads back a key every INTERVAL_MS (default 50) for SECONDS, one JSON line per
operation: {"t": ms since epoch when it began, "done": when it ended, "ok": bool, "addr": "ip:port" of
the connection, "error": text}.
SETTINGS (bench/clients-sentinel.mjs): `timeouts` (the default: socket_timeout and
socket_connect_timeout 0.3 s, which Sentinel() also gives the sentinels), `kwargs` (the same with
`sentinel_kwargs={}`: redis-py then gives the sentinels no timeout), `kwargs-timeouts` (the timeouts
repeated inside sentinel_kwargs), `defaults` (no options at all), `retry` (`timeouts`, and the
master's in-call retries backing off at most 0.2 s), `sentinel-retry0` (`retry`, and no retries
on the sentinels' connections), `fast` (`sentinel-retry0`, the master retrying refused
connections only, not timeouts) or `sentinels-noretry` (`timeouts`, and no retries on the
sentinels' connections).
"""
import json
import sys
import time

from redis.backoff import FullJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError, RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel


def sentinels(spec):
    out = []
    for hp in spec.split(','):
        host, port = hp.rsplit(':', 1)
        out.append((host, int(port)))
    return out


def discover(spec, service):
    s = Sentinel(sentinels(spec), socket_timeout=0.5)
    try:
        master = s.discover_master(service)
        print(json.dumps({'master': '%s:%s' % master, 'replicas': ['%s:%s' % r for r in s.discover_slaves(service)]}))
    except RedisError as e:
        print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))


TIMEOUTS = {'socket_timeout': 0.3, 'socket_connect_timeout': 0.3}
SETTINGS = {
    'timeouts': ({}, TIMEOUTS),
    'kwargs': ({'sentinel_kwargs': {}}, TIMEOUTS),
    'kwargs-timeouts': ({'sentinel_kwargs': dict(TIMEOUTS)}, TIMEOUTS),
    'defaults': ({}, {}),
    # redis-py 6+ retries a failed command 10 times inside the call, backing off up to 1 s between
    # tries: the first write after a kill then ends 2-4 s later. Capped at 0.2 s it ends soon after
    # the master moves.
    'retry': ({}, TIMEOUTS, lambda: {'retry': Retry(FullJitterBackoff(cap=0.2, base=0.01), 10)}),
    # The sentinels' own connections retry the same way (10 times, up to 1 s apart): a dead or hung
    # sentinel listed first then costs seconds per discovery. No retries there, a timeout each.
    'sentinel-retry0': (
        {'sentinel_kwargs': dict(TIMEOUTS, retry=Retry(NoBackoff(), 0))},
        TIMEOUTS,
        lambda: {'retry': Retry(FullJitterBackoff(cap=0.2, base=0.01), 10)},
    ),
    # No retries on the sentinels' connections only; the master keeps redis-py's default retry.
    'sentinels-noretry': ({'sentinel_kwargs': dict(TIMEOUTS, retry=Retry(NoBackoff(), 0))}, TIMEOUTS),
    # An explicit Retry also retries timeouts (redis-py's default retry on the master does not),
    # and a hung master then holds the call (4 s after a SIGSTOP): retry refused connections only.
    'fast': (
        {'sentinel_kwargs': dict(TIMEOUTS, retry=Retry(NoBackoff(), 0))},
        TIMEOUTS,
        lambda: {'retry': Retry(FullJitterBackoff(cap=0.2, base=0.01), 10, supported_errors=(ConnectionError,))},
    ),
}


def write(spec, service, seconds, interval_ms, settings='timeouts'):
    if settings not in SETTINGS:
        sys.exit('unknown SETTINGS %r: one of %s' % (settings, ', '.join(SETTINGS)))
    extra, timeouts, *master = SETTINGS[settings]
    s = Sentinel(sentinels(spec), **extra, **timeouts)
    client = s.master_for(service, **timeouts, **(master[0]() if master else {}))
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1
        t = time.time()
        try:
            client.set('discovery-test', str(n))
            assert client.get('discovery-test') == str(n).encode()
            conn = client.connection_pool.get_connection('PING')
            addr = '%s:%s' % (conn.host, conn.port)
            client.connection_pool.release(conn)
            line = {'t': int(t * 1000), 'ok': True, 'addr': addr}
        except (RedisError, OSError, AssertionError) as e:
            line = {'t': int(t * 1000), 'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
        line['done'] = int(time.time() * 1000)
        print(json.dumps(line), flush=True)
        time.sleep(max(0, interval_ms / 1000 - (time.time() - t)))


if __name__ == '__main__':
    if sys.argv[1] == 'discover':
        discover(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'write':
        write(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]) if len(sys.argv) > 5 else 50, *sys.argv[6:7])
    else:
        sys.exit(__doc__)
