// The fault lab's network: one network namespace per node, a bridge namespace joining them, and
// namespaces for the resolver (unbound + the parent zone's NSD), a Redis client and the observer
// (pollers). Addresses come from 198.51.100.0/24 and exist only inside these namespaces. Namespace
// names carry a per-run prefix (`cdl-<pid>-<random>`), so parallel runs never collide, and a run
// removes whatever it created: on down(), on process exit, on SIGINT/SIGTERM; namespaces left by a
// run that was SIGKILLed are swept by the next run (their pid is dead).
//
// Faults are nftables rules in the nodes' namespaces (one `inet cdlab` table per node with an input
// and an output chain) and signals to the agents' processes; heal() flushes every rule.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { accessSync, appendFileSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(REPO, 'bin/clusterdns.js');
/**
 * The Node flags of the installed command's shebang (`#!/usr/bin/env -S node …`), which
 * deploy/clusterdns.service runs with too: lab agents run as deployed, so bench:scale's RSS is what
 * a user gets (without the young-generation cap, formation on a busy machine grew it ~15 MB).
 */
const nodeFlags = (cli) => readFileSync(cli, 'utf8').split('\n', 1)[0].split(/\s+/).filter((w) => w.startsWith('--'));
const NODE_FLAGS = nodeFlags(CLI);
/**
 * The lab's agents on another Node (LAB_NODE: a node binary, e.g. Node 24 fetched as
 * test:node-versions does) with `dns.workers: LAB_DNS_WORKERS` answer threads (issue 17: the lab on
 * 2 answer threads, which need Node ≥ 22.12). Each agent's status must then show that many worker
 * threads serving, or its start fails: the lab never passes on one thread believing it ran on two.
 */
const AGENT_NODE = process.env.LAB_NODE || process.execPath;
export const DNS_WORKERS = process.env.LAB_DNS_WORKERS ? Number(process.env.LAB_DNS_WORKERS) : undefined;
const HERE = dirname(fileURLToPath(import.meta.url));

export const ZONE = 'cluster.lab.example';
export const PARENT = 'lab.example';
export const NET = '198.51.100';
export const RESOLVER_ADDR = `${NET}.2`;
export const PARENT_NS_ADDR = `${NET}.3`;
export const CLIENT_ADDR = `${NET}.4`;
export const OBSERVER_ADDR = `${NET}.5`;
/**
 * The DNS flood's source: a namespace and client prefix of its own (another /24, rate limiting's
 * IPv4 prefix), so nothing the flood does counts against the poller's prefix.
 */
export const FLOOD_NET = '203.0.113';
export const FLOOD_ADDR = `${FLOOD_NET}.6`;
export const nodeAddr = (i) => `${NET}.${10 + i}`;
const SECRET = 'lab-secret-0123456789abcdef-0123456789abcdef';

/**
 * The LAN lab's timing, written into its config as explicit keys: the agent's defaults (interval
 * 250 ms, downAfter 1 s, upAfter 3 s) and short TTLs. A lab run with a `peer.profile` writes only
 * the profile; either way the invariants use `lab.timing`, read back from the written config by
 * the agent's own parser (and checked against every agent's status API once they run).
 */
export const TIMING = { interval: 250, downAfter: 1000, upAfter: 3000, maxUpAfter: 60_000, ttl: 1, negativeTtl: 1 };
export const POLL_HZ = 20;

const PACKAGES = { ip: 'iproute2', nft: 'nftables', unbound: 'unbound', nsd: 'nsd', 'redis-server': 'redis-server', dnsperf: 'dnsperf', faketime: 'faketime' };

export function findTool(name) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Why the lab cannot run here, or undefined. The caller decides: in CI (CI=true) every reason is a
 * failure, never a skip.
 */
export function labUnavailable() {
  if (process.platform !== 'linux') return 'the fault lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the fault lab needs root (ip netns, nft): run it as root, as CI does';
  for (const t of Object.keys(PACKAGES)) if (!findTool(t)) return `${t} is not installed: apt-get install -y ${PACKAGES[t]}`;
  if (!fakeTimeLib()) return 'libfaketime.so.1 not found: apt-get install -y faketime';
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) return 'dist/ is missing: run npm run build';
  return undefined;
}

export function fakeTimeLib() {
  for (const p of ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1']) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

const sh = (cmd, args, input) => execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
const trySh = (cmd, args) => {
  try {
    return sh(cmd, args);
  } catch {
    return '';
  }
};

// ---------------------------------------------------------------------------------------------
// cleanup of every lab this process created, whatever way it ends

const live = new Set();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const lab of live) lab.downSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      for (const lab of live) lab.downSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Removes namespaces (and /etc/netns dirs) of earlier lab runs whose process is gone. */
export function sweepStale() {
  const names = trySh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => /^cdl-\d+-/.test(n));
  for (const n of names) {
    const pid = Number(n.split('-')[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) {
      killNetnsPids(n);
      trySh('ip', ['netns', 'del', n]);
      rmSync(`/etc/netns/${n}`, { recursive: true, force: true });
    }
  }
}

function killNetnsPids(ns) {
  for (const p of trySh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** A process started inside a namespace, in its own process group. */
class Proc {
  constructor(name, ns, argv, { env, logFile, onLine } = {}) {
    this.name = name;
    this.out = '';
    this.exited = false;
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.pid = this.child.pid;
    let partial = '';
    const take = (d) => {
      const s = d.toString();
      if (logFile) appendFileSync(logFile, s);
      if (this.out.length < 200_000) this.out += s;
      if (onLine) {
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop();
        for (const l of lines) if (l) onLine(l);
      }
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', (d) => {
      if (logFile) appendFileSync(logFile, d);
      if (this.out.length < 200_000) this.out += d.toString();
    });
    this.done = new Promise((r) =>
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        r({ code, signal });
      }),
    );
  }

  signal(sig) {
    try {
      process.kill(this.pid, sig);
    } catch {
      // gone
    }
  }

  killGroup(sig = 'SIGKILL') {
    try {
      process.kill(-this.pid, sig);
    } catch {
      // gone
    }
  }

  async waitFor(re, ms) {
    const end = Date.now() + ms;
    while (!re.test(this.out)) {
      if (this.exited) throw new Error(`${this.name} exited before ${re}:\n${this.out.slice(-3000)}`);
      if (Date.now() > end) throw new Error(`${this.name}: timed out after ${ms} ms waiting for ${re}:\n${this.out.slice(-3000)}`);
      await sleep(20);
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Lab {
  /**
   * `profile`: 'lan' (default: the LAN timings as explicit keys, TIMING) or a `peer.profile` name
   * ('wan'), written without interval, downAfter or upAfter so the agent applies the profile's own.
   * @param {{ size: number, log?: (s: string) => void, keep?: boolean, profile?: 'lan' | 'wan' }} opts
   */
  constructor({ size, log = () => undefined, keep = false, profile = 'lan', members }) {
    this.size = size;
    this.profile = profile;
    /**
     * The nodes the cluster config names (default: every node of the lab). A membership-change lab
     * has namespaces for more nodes than it configures at a time; the others are not started.
     */
    this.members = members ?? Array.from({ length: size }, (_, k) => `node${k + 1}`);
    this.log = log;
    this.keep = keep;
    this.prefix = `cdl-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
    this.nodes = Array.from({ length: size }, (_, k) => ({ name: `node${k + 1}`, ns: `${this.prefix}-n${k + 1}`, addr: nodeAddr(k + 1) }));
    this.ns = { br: `${this.prefix}-br`, res: `${this.prefix}-res`, cli: `${this.prefix}-cli`, obs: `${this.prefix}-obs`, flood: `${this.prefix}-fl` };
    this.created = [];
    this.procs = new Set();
    this.agents = new Map(); // node name -> { proc, listeningAt }
    this.redis = new Map();
    /** Poller changes, per `${agent}|${name}`: [t, value][] in time order. */
    this.answers = new Map();
    /** Send times of the poller's complete rounds (every pair answered or timed out). */
    this.rounds = [];
    /**
     * Flap history per node, as the majority's flap damping must hold it (invariants.mjs
     * holdDownFor): carried from one scenario's check to the next, forgotten when every agent restarts.
     */
    this.flaps = new Map();
    /** Client writes per name: { t, ok, addr }[] */
    this.writes = new Map();
    this.events = [];
    this.configPath = join(this.dir, 'cluster.yaml');
  }

  node(name) {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  mark(what, extra = {}) {
    const e = { t: Date.now(), what, ...extra };
    this.events.push(e);
    this.log(`${new Date(e.t).toISOString().slice(11, 23)} ${what} ${JSON.stringify(extra)}`);
    return e.t;
  }

  ip(args) {
    return sh('ip', args);
  }

  nsExec(ns, argv, input) {
    return sh('ip', ['netns', 'exec', ns, ...argv], input);
  }

  addNs(ns) {
    this.ip(['netns', 'add', ns]);
    this.created.push(ns);
    this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** A veth from `ns` (eth0, with `addrs`) to a port of the bridge. */
  link(ns, port, addrs) {
    this.ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.ns.br]);
    this.ip(['-n', this.ns.br, 'link', 'set', port, 'master', 'br0', 'up']);
    for (const a of addrs) this.ip(['-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    this.ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  /** A node's namespace: its veth, its address, a route to the flood's prefix, its nft table. */
  addNodeNs(n) {
    this.addNs(n.ns);
    this.link(n.ns, `p${n.name.slice(4)}`, [n.addr]);
    this.ip(['-n', n.ns, 'route', 'add', `${FLOOD_NET}.0/24`, 'dev', 'eth0']);
    this.nsExec(n.ns, ['nft', '-f', '-'], `table inet cdlab {\n chain in { type filter hook input priority 0; }\n chain out { type filter hook output priority 0; }\n}\n`);
  }

  /** `services: false`: agents only (no parent NSD, unbound, Redis or client), for bench:scale. */
  async up({ services = true } = {}) {
    hookExit();
    sweepStale();
    live.add(this);
    this.log(`lab ${this.prefix}: ${this.size} nodes, files in ${this.dir}`);
    this.addNs(this.ns.br);
    this.ip(['-n', this.ns.br, 'link', 'add', 'br0', 'type', 'bridge']);
    this.ip(['-n', this.ns.br, 'link', 'set', 'br0', 'up']);
    for (const n of this.nodes) this.addNodeNs(n);
    this.addNs(this.ns.res);
    this.link(this.ns.res, 'pres', [RESOLVER_ADDR, PARENT_NS_ADDR]);
    this.addNs(this.ns.cli);
    this.link(this.ns.cli, 'pcli', [CLIENT_ADDR]);
    this.addNs(this.ns.obs);
    this.link(this.ns.obs, 'pobs', [OBSERVER_ADDR]);
    this.addNs(this.ns.flood);
    this.link(this.ns.flood, 'pfl', [FLOOD_ADDR]);
    this.ip(['-n', this.ns.flood, 'route', 'add', `${NET}.0/24`, 'dev', 'eth0']);
    mkdirSync(`/etc/netns/${this.ns.cli}`, { recursive: true });
    writeFileSync(`/etc/netns/${this.ns.cli}/resolv.conf`, `nameserver ${RESOLVER_ADDR}\noptions timeout:1 attempts:3\n`);

    this.writeConfig();
    if (services) {
      await this.startParent();
      await this.startResolver();
      for (const n of this.nodes) this.startRedis(n.name);
    }
    await this.startPoller();
  }

  /** The configured nodes, in config order (which numbers the name servers: ns1..nsN). */
  memberNodes() {
    return this.members.map((m) => this.node(m));
  }

  /** The names the poller asks: every node's, and the name servers' unless the membership changes (nsK follows config order). */
  pollNames() {
    return this.profile === 'rollout' ? this.nodes.map((n) => n.name) : this.nodes.flatMap((n, k) => [n.name, `ns${k + 1}`]);
  }

  /** Writes the cluster config (naming `members`) and sets `this.timing` from it (see timingOf). */
  writeConfig(members = this.members) {
    this.members = [...members];
    writeFileSync(this.configPath, configText(this.memberNodes(), this.profile === 'wan' ? 'wan' : 'lan'));
    this.timing = timingOf(this.configPath);
    this.log(`lab ${this.prefix}: peer ${this.profile === 'lan' ? 'timing' : `profile ${this.profile}`}: ${JSON.stringify(this.timing)}`);
  }

  /**
   * Every running agent reports (GET /v1/status `peer`) the timing the invariants use; throws
   * otherwise, since invariants judged with other windows than the agents run would be wrong.
   */
  assertTiming() {
    const want = { intervalMs: this.timing.interval, downAfterMs: this.timing.downAfter, upAfterMs: this.timing.upAfter };
    for (const n of this.nodes) {
      const a = this.agents.get(n.name);
      if (!a || a.proc.exited) continue;
      const got = this.status(n.name)?.peer;
      if (!got || got.intervalMs !== want.intervalMs || got.downAfterMs !== want.downAfterMs || got.upAfterMs !== want.upAfterMs) {
        throw new Error(`${n.name} runs peer timing ${JSON.stringify(got)}, the lab judges with ${JSON.stringify(want)} (from ${this.configPath})`);
      }
    }
  }

  async startParent() {
    const d = join(this.dir, 'nsd');
    mkdirSync(d);
    const glue = this.nodes.map((n, k) => `ns${k + 1}.${ZONE}. 60 IN A ${n.addr}`).join('\n');
    const ns = this.nodes.map((n, k) => `${ZONE}. 60 IN NS ns${k + 1}.${ZONE}.`).join('\n');
    writeFileSync(
      join(d, 'zone'),
      `$ORIGIN ${PARENT}.\n@ 60 IN SOA ns.${PARENT}. hostmaster.${PARENT}. 1 60 60 600 60\n@ 60 IN NS ns.${PARENT}.\nns 60 IN A ${PARENT_NS_ADDR}\n${ns}\n${glue}\n`,
    );
    writeFileSync(
      join(d, 'nsd.conf'),
      `server:\n  ip-address: ${PARENT_NS_ADDR}\n  port: 53\n  username: ""\n  chroot: ""\n  zonesdir: "${d}"\n  database: ""\n  pidfile: "${d}/nsd.pid"\n  xfrdfile: "${d}/xfrd.state"\n  zonelistfile: "${d}/zone.list"\n  server-count: 1\n  verbosity: 1\nremote-control:\n  control-enable: no\nzone:\n  name: "${PARENT}"\n  zonefile: "${d}/zone"\n`,
    );
    this.nsd = this.start('nsd', this.ns.res, [findTool('nsd'), '-d', '-c', join(d, 'nsd.conf')], { logFile: join(this.dir, 'nsd.log') });
    await this.waitUdp(this.ns.res, PARENT_NS_ADDR, `${PARENT}`, 'SOA', this.nsd);
  }

  async startResolver() {
    const d = join(this.dir, 'unbound');
    mkdirSync(d);
    writeFileSync(
      join(d, 'unbound.conf'),
      [
        'server:',
        `  interface: ${RESOLVER_ADDR}`,
        '  port: 53',
        '  do-ip6: no',
        `  outgoing-interface: ${RESOLVER_ADDR}`,
        '  module-config: "iterator"',
        '  username: ""',
        '  chroot: ""',
        `  directory: "${d}"`,
        `  pidfile: "${d}/unbound.pid"`,
        '  use-syslog: no',
        '  logfile: ""',
        '  verbosity: 1',
        '  num-threads: 1',
        `  access-control: ${NET}.0/24 allow`,
        // The lab's "internet" is the parent zone only; nothing else is reachable.
        `  local-zone: "example." nodefault`,
        '  cache-max-negative-ttl: 1',
        '  infra-host-ttl: 2',
        'stub-zone:',
        `  name: "${PARENT}"`,
        `  stub-addr: ${PARENT_NS_ADDR}`,
        'remote-control:',
        '  control-enable: no',
        '',
      ].join('\n'),
    );
    this.unbound = this.start('unbound', this.ns.res, [findTool('unbound'), '-d', '-c', join(d, 'unbound.conf')], { logFile: join(this.dir, 'unbound.log') });
    await this.waitUdp(this.ns.res, RESOLVER_ADDR, `ns.${PARENT}`, 'A', this.unbound);
  }

  /** Waits until a DNS server in `ns` answers (dig inside the namespace). */
  async waitUdp(ns, addr, name, type, proc) {
    const end = Date.now() + 10_000;
    for (;;) {
      const out = trySh('ip', ['netns', 'exec', ns, 'dig', `@${addr}`, name, type, '+time=1', '+tries=1', '+short']);
      if (out.trim()) return;
      if (proc.exited) throw new Error(`${proc.name} exited:\n${proc.out}`);
      if (Date.now() > end) throw new Error(`${proc.name} on ${addr} does not answer ${name} ${type}:\n${proc.out}`);
      await sleep(100);
    }
  }

  start(name, ns, argv, opts = {}) {
    const p = new Proc(name, ns, argv, opts);
    this.procs.add(p);
    p.done.then(() => this.procs.delete(p));
    return p;
  }

  startRedis(name) {
    const n = this.node(name);
    const p = this.start(`redis-${name}`, n.ns, [findTool('redis-server'), '--bind', n.addr, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no'], {
      logFile: join(this.dir, `redis-${name}.log`),
    });
    this.redis.set(name, p);
    return p;
  }

  /** (Re)starts the poller: by default every agent × every node and name-server name at 20 Hz. */
  async startPoller({ names = this.pollNames(), hz = POLL_HZ } = {}) {
    await this.stopPoller();
    // Ahead of everything else on the machine (nice -10; the lab runs as root): the poller must
    // prove it sampled every pair in every 250 ms, and on a shared 2-core machine a poller starved
    // for a moment made a run blind (351 ms without a round once) though every agent answered.
    this.poller = this.start(
      'poller',
      this.ns.obs,
      ['nice', '-n', '-10', process.execPath, join(HERE, 'poller.mjs'), '--zone', ZONE, '--agents', this.nodes.map((n) => `${n.name}=${n.addr}`).join(','), '--names', names.join(','), '--hz', String(hz)],
      {
        onLine: (l) => {
          const e = JSON.parse(l);
          if (e.ready) return;
          if (e.r !== undefined) {
            this.rounds.push(e.r);
            return;
          }
          const key = `${e.a}|${e.n}`;
          let arr = this.answers.get(key);
          if (!arr) this.answers.set(key, (arr = []));
          arr.push([e.t, e.v]);
        },
      },
    );
    await this.poller.waitFor(/"ready":true/, 10_000);
  }

  async stopPoller() {
    if (!this.poller) return;
    this.poller.killGroup('SIGKILL');
    await Promise.race([this.poller.done, sleep(3000)]);
    this.poller = undefined;
  }

  startClient() {
    this.client = this.start('client', this.ns.cli, [process.execPath, join(HERE, 'client.mjs'), '--zone', ZONE, '--names', this.nodes.map((n) => n.name).join(',')], {
      logFile: join(this.dir, 'client.log'),
      onLine: (l) => {
        const e = JSON.parse(l);
        let arr = this.writes.get(e.n);
        if (!arr) this.writes.set(e.n, (arr = []));
        arr.push({ t: e.t, ok: e.ok, addr: e.addr });
      },
    });
  }

  /** Makes the client reconnect every name afresh; waits until each writes to its own node again. */
  async clientReconnect(ms = 8000) {
    if (!this.client) return false;
    const t = Date.now();
    this.client.signal('SIGUSR2');
    const end = t + ms;
    while (Date.now() < end) {
      if (this.memberNodes().every((n) => (this.writes.get(n.name) ?? []).some((w) => w.t > t && w.ok && w.addr === n.addr))) return true;
      await sleep(50);
    }
    return false;
  }

  /**
   * Starts a node's agent. `clock`: a libfaketime spec ("+300s") for a node whose wall clock is off;
   * `clockFile`: a file holding such a spec, re-read every second, to step the clock during a run.
   * The monotonic clock is never faked (FAKETIME_DONT_FAKE_MONOTONIC=1): timers keep real time.
   * `release`: another build's { cli, version } (the upgrade scenario's previous release; default this one).
   */
  async startAgent(name, { clock, clockFile, release } = {}) {
    const n = this.node(name);
    const env = { CLUSTERDNS_LOG_FORMAT: 'json' };
    if (clock || clockFile) {
      Object.assign(env, { LD_PRELOAD: fakeTimeLib(), FAKETIME_DONT_FAKE_MONOTONIC: '1' });
      if (clock) env.FAKETIME = clock;
      if (clockFile) Object.assign(env, { FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_CACHE_DURATION: '1' });
    }
    const cli = release?.cli ?? CLI;
    const p = this.start(`agent-${name}`, n.ns, [AGENT_NODE, ...(release ? nodeFlags(cli) : NODE_FLAGS), cli, 'agent', '--config', this.configPath, '--node', name], { env, logFile: join(this.dir, `agent-${name}.log`) });
    const rec = { proc: p, release: release?.version, startedAt: this.mark('agent start', { node: name, clock: clock ?? (clockFile ? 'file' : undefined), release: release?.version }), listeningAt: undefined };
    this.agents.set(name, rec);
    await p.waitFor(/"event":"listening"/, 15_000);
    rec.listeningAt = Date.now();
    if (DNS_WORKERS !== undefined && !release) await this.expectAnswerThreads(name, DNS_WORKERS);
    return rec;
  }

  async startAgents(opts = {}) {
    await Promise.all(this.memberNodes().map((n) => this.startAgent(n.name, opts[n.name])));
  }

  /** kill -9 of the agent (and, with `redis`, of the node's Redis: the node dies). */
  kill(name, { redis = true } = {}) {
    const t = this.mark('kill -9', { node: name, redis });
    this.agents.get(name)?.proc.signal('SIGKILL');
    if (redis) this.redis.get(name)?.signal('SIGKILL');
    return t;
  }

  async restart(name, opts = {}) {
    const a = this.agents.get(name);
    if (a && !a.proc.exited) await a.proc.done;
    const r = this.redis.get(name);
    if (r && r.exited) this.startRedis(name);
    return this.startAgent(name, opts);
  }

  pause(name) {
    const t = this.mark('SIGSTOP', { node: name });
    this.agents.get(name).proc.signal('SIGSTOP');
    return t;
  }

  resume(name) {
    const t = this.mark('SIGCONT', { node: name });
    this.agents.get(name).proc.signal('SIGCONT');
    return t;
  }

  /** Replaces a node's nft rules (input and output chains); [] clears them. */
  rules(name, { out = [], inp = [] }) {
    const table = 'inet cdlab';
    const text = [`flush chain ${table} in`, `flush chain ${table} out`, ...inp.map((r) => `add rule ${table} in ${r}`), ...out.map((r) => `add rule ${table} out ${r}`)].join('\n');
    this.nsExec(this.node(name).ns, ['nft', '-f', '-'], `${text}\n`);
  }

  /** Cuts `side` off from every other node and from the client (both directions). */
  partition(side, { client = true } = {}) {
    const others = this.nodes.filter((n) => !side.includes(n.name)).map((n) => n.addr);
    const cut = client ? [...others, CLIENT_ADDR] : others;
    const set = `{ ${cut.join(', ')} }`;
    for (const name of side) this.rules(name, { out: [`ip daddr ${set} drop`], inp: [`ip saddr ${set} drop`] });
    return this.mark('partition', { side, client });
  }

  /** Packets from `from` to `to` are dropped; `to` → `from` still flows. */
  oneWay(from, to) {
    this.rules(from, { out: [`ip daddr ${this.node(to).addr} drop`] });
    return this.mark('one-way', { from, to });
  }

  /** `pct` % loss on every node-to-node packet, each direction drawn independently. */
  loss(pct) {
    for (const n of this.nodes) {
      const peers = this.nodes.filter((m) => m !== n).map((m) => m.addr);
      this.rules(n.name, { out: [`ip daddr { ${peers.join(', ')} } numgen random mod 100 < ${pct} drop`] });
    }
    return this.mark('loss', { pct });
  }

  /**
   * Removes every fault. Returns when it began: rules go node by node, so some links work again
   * before the last one is flushed, and a node's minority ends with the first.
   */
  heal() {
    const t = Date.now();
    for (const n of this.nodes) this.rules(n.name, {});
    if (this.jittered) {
      for (const n of this.nodes) trySh('ip', ['netns', 'exec', n.ns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
      this.jittered = false;
    }
    this.mark('heal', { tookMs: Date.now() - t });
    return t;
  }

  /** netem on every node's eth0: delay ± jitter (only where netemAvailable(); never emulated). */
  jitter(delayMs, jitterMs) {
    this.jittered = true;
    for (const n of this.nodes) this.nsExec(n.ns, ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'delay', `${delayMs}ms`, `${jitterMs}ms`]);
    return this.mark('jitter', { delayMs, jitterMs });
  }

  /** Waits (5 s at most) for `name`'s status to show `count` worker answer threads, all serving. */
  async expectAnswerThreads(name, count) {
    let threads;
    for (const end = Date.now() + 5000; Date.now() < end; await sleep(200)) {
      threads = this.status(name)?.dns?.threads;
      if (threads?.length === count && threads.every((t) => t.where === 'worker' && t.state === 'serving')) return;
    }
    throw new Error(`${name} was to answer on ${count} worker threads (LAB_DNS_WORKERS, on ${AGENT_NODE}); its status shows ${JSON.stringify(threads)}`);
  }

  /** One agent's status document (GET /v1/status), fetched from inside the observer namespace. */
  status(name) {
    const out = trySh('ip', ['netns', 'exec', this.ns.obs, process.execPath, '-e', `fetch('http://${this.node(name).addr}:8053/v1/status').then(r=>r.text()).then(t=>process.stdout.write(t)).catch(()=>{})`]);
    try {
      return JSON.parse(out);
    } catch {
      return undefined;
    }
  }

  /**
   * The hold-down the cluster applies to `name`: the longest any running peer reports (status API),
   * or undefined. Flap histories differ between agents (a restarted agent has none), and an agent
   * publishes a node up only once no peer still holds it down, so the longest is the one every
   * agent's answers wait for; one peer's may be shorter. Read it once the node is back: a verdict
   * keeps the hold-down it last applied, so this is the one the recovery waited.
   */
  holdDownOf(name) {
    const peers = this.nodes.filter((n) => n.name !== name && this.agents.get(n.name) && !this.agents.get(n.name).proc.exited);
    const all = peers.map((p) => this.status(p.name)?.nodes?.find((n) => n.name === name)?.holdDownMs).filter((ms) => typeof ms === 'number');
    return all.length ? Math.max(...all) : undefined;
  }

  metrics(name) {
    return trySh('ip', ['netns', 'exec', this.ns.obs, process.execPath, '-e', `fetch('http://${this.node(name).addr}:8053/metrics').then(r=>r.text()).then(t=>process.stdout.write(t)).catch(()=>{})`]);
  }

  /** The agent's output so far, from character `from` on (see logMark). */
  agentLog(name, from = 0) {
    return (this.agents.get(name)?.proc.out ?? '').slice(from);
  }

  logMark() {
    return Object.fromEntries(this.nodes.map((n) => [n.name, this.agentLog(n.name).length]));
  }

  /** What `agent` answers for `name` now (latest poller value). */
  current(agent, name) {
    const arr = this.answers.get(`${agent}|${name}`);
    return arr?.length ? arr[arr.length - 1][1] : undefined;
  }

  /**
   * Waits until every agent answers every node's and name server's name with that node's own
   * address and has done so for `stableMs`: the cluster is whole again, hold-downs passed.
   */
  async waitSettled(ms = 30_000, stableMs = 600) {
    const end = Date.now() + ms;
    let since;
    const names = this.pollNames();
    for (;;) {
      const members = this.memberNodes();
      const ok = members.every((a) => members.every((n, k) => this.current(a.name, n.name) === n.addr && (!names.includes(`ns${k + 1}`) || this.current(a.name, `ns${k + 1}`) === n.addr)));
      if (ok) {
        since ??= Date.now();
        if (Date.now() - since >= stableMs) return Date.now();
      } else since = undefined;
      if (Date.now() > end) {
        const now = this.memberNodes().map((a) => `${a.name}: ${this.memberNodes().map((n) => `${n.name}=${this.current(a.name, n.name)}`).join(' ')}`).join('\n');
        // Which agents run, and the end of each one's output: an agent that went silent says why here.
        const agents = this.memberNodes().map((a) => {
          const p = this.agents.get(a.name)?.proc;
          return `--- ${a.name}'s agent: ${!p ? 'never started' : p.exited ? 'exited' : `running (pid ${p.pid})`}; its last output:\n${p?.out.slice(-1500) ?? ''}`;
        });
        throw new Error(`cluster did not settle within ${ms} ms:\n${now}\n${agents.join('\n')}`);
      }
      await sleep(50);
    }
  }

  /** Like waitSettled, but says whether it settled instead of throwing. */
  async settled(ms) {
    try {
      await this.waitSettled(ms);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Restarts every agent with its real clock (Redis keeps running). The peers forget what they
   * accepted from earlier boots, so this also ends a replay lock-out left by a node that ran with
   * its clock ahead.
   */
  async restartAllAgents() {
    this.mark('restart all agents', { members: this.members });
    this.flaps = new Map();
    for (const a of this.agents.values()) {
      a.proc.signal('SIGCONT');
      a.proc.signal('SIGKILL');
    }
    await Promise.all([...this.agents.values()].map((a) => Promise.race([a.proc.done, sleep(5000)])));
    await this.startAgents();
  }

  /**
   * SIGHUP to a node's agent; resolves when its log says the reload happened (throws on a failed or
   * missing reload): { at: the signal, done: when the reload was seen logged }.
   */
  async reload(name) {
    const a = this.agents.get(name);
    const count = () => (a.proc.out.match(/"event":"reload"/g) ?? []).length;
    const before = count();
    const t = this.mark('SIGHUP', { node: name, members: this.members });
    a.proc.signal('SIGHUP');
    const end = Date.now() + 5000;
    while (count() === before) {
      if (/"event":"reload-failed"/.test(a.proc.out)) throw new Error(`${name}: reload failed:\n${a.proc.out.slice(-1500)}`);
      if (Date.now() > end) throw new Error(`${name}: no reload logged within 5 s of SIGHUP`);
      await sleep(10);
    }
    return { at: t, done: Date.now() };
  }

  /** SIGTERM to a node's agent (a node taken out of service); resolves when it has exited. */
  async stop(name) {
    const a = this.agents.get(name);
    const t = this.mark('SIGTERM', { node: name });
    a.proc.signal('SIGTERM');
    await Promise.race([a.proc.done, sleep(5000)]);
    if (!a.proc.exited) throw new Error(`${name}: still running 5 s after SIGTERM`);
    return t;
  }

  /** Runs a command in a namespace to completion (bounded), e.g. dnsperf. */
  async runIn(ns, argv, timeoutMs) {
    const p = this.start(argv[0], ns, argv);
    const timer = setTimeout(() => p.killGroup('SIGKILL'), timeoutMs);
    const r = await p.done;
    clearTimeout(timer);
    return { ...r, out: p.out };
  }

  async down() {
    const waits = [...this.procs].map((p) => {
      p.signal('SIGCONT');
      p.killGroup('SIGKILL');
      return Promise.race([p.done, sleep(3000)]);
    });
    await Promise.all(waits);
    this.downSync();
  }

  downSync() {
    for (const p of this.procs) {
      p.signal('SIGCONT');
      p.killGroup('SIGKILL');
    }
    for (const ns of [...this.created].reverse()) {
      killNetnsPids(ns);
      trySh('ip', ['netns', 'del', ns]);
    }
    this.created = [];
    rmSync(`/etc/netns/${this.ns.cli}`, { recursive: true, force: true });
    if (!this.keep) rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}

/**
 * The lab's config. LAN: the explicit TIMING keys (as the lab always ran). A profile: only
 * `profile`, so the agent's PEER_PROFILES decide interval, downAfter and upAfter.
 */
export function configText(nodes, profile = 'lan') {
  const t = TIMING;
  const peer = profile === 'lan' ? `peer: { port: 7946, interval: ${t.interval}ms, downAfter: ${t.downAfter}ms, upAfter: ${t.upAfter}ms }` : `peer: { port: 7946, profile: ${profile} }`;
  return [
    `zone: ${ZONE}`,
    `ttl: ${t.ttl}`,
    `negativeTtl: ${t.negativeTtl}`,
    `secret: "${SECRET}"`,
    // The flood's prefix is exempt from rate limiting: the DNS flood measures the answer path at
    // full load from one client (the agent answers all of it) and whether every other client (the
    // poller, limited like any other) is still answered; rate limiting's own behaviour is tested in
    // test/server and by clock-step here.
    // The poller is never rate-limited: its busiest identity is a minority agent's REFUSED to every
    // name (one identity per prefix), 2 × 5 names × 20 Hz = 200/s, under the lab's 1000/s. Rate
    // limiting stays on for it, so a broken limiter (clock-step's defect: credit gone negative when
    // the wall clock stepped back) still limits every answer the poller gets.
    `dns: { port: 53,${DNS_WORKERS !== undefined ? ` workers: ${DNS_WORKERS},` : ''} rateLimit: { responsesPerSecond: 1000, exempt: [${FLOOD_NET}.0/24] } }`,
    peer,
    'http: { port: 8053 }',
    'nodes:',
    ...nodes.map((n) => `  - { name: ${n.name}, address: ${n.addr} }`),
    '',
  ].join('\n');
}

/**
 * The timing a config file gives the agents, read with the agent's own config loader (dist/), so a
 * profile's values are never restated here: { interval, downAfter, upAfter, maxUpAfter, ttl, negativeTtl } in
 * ms (TTLs in seconds).
 */
export function timingOf(configPath) {
  const { loadConfig } = createRequire(import.meta.url)(join(REPO, 'dist/config/load.js'));
  let c;
  try {
    c = loadConfig(configPath, {});
  } catch (e) {
    // The loader's ClusterDnsError keeps the reasons in `details`; the message alone says only how many.
    throw new Error(`${String(e?.message ?? e).replace(/:$/, "")}${e?.details?.length ? `: ${e.details.join('; ')}` : ''}`);
  }
  return { interval: c.peer.intervalMs, downAfter: c.peer.downAfterMs, upAfter: c.peer.upAfterMs, maxUpAfter: c.peer.maxUpAfterMs, ttl: c.ttl, negativeTtl: c.negativeTtl };
}

/** netem works on this kernel: probed in a throwaway namespace with a dummy link, never assumed. */
export function netemAvailable() {
  const ns = `cdl-${process.pid}-probe${Math.random().toString(36).slice(2, 6)}`;
  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'dummy']);
    sh('ip', ['-n', ns, 'link', 'set', 'd0', 'up']);
    sh('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'd0', 'root', 'netem', 'delay', '10ms']);
    return true;
  } catch {
    return false;
  } finally {
    trySh('ip', ['netns', 'del', ns]);
  }
}

/** Namespaces of this lab still present (for the cleanup test). */
export function labNamespaces(prefix) {
  return trySh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(prefix));
}

export function etcNetnsLeft(prefix) {
  try {
    return readdirSync('/etc/netns').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
