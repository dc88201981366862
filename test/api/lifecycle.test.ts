import { Agent as HttpAgent, request } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, clusterYaml, TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';
import { eventually, http } from './helpers';

/**
 * The HTTP API's life with the agent process: a taken port is a clear error, SIGTERM closes it even
 * with a client holding a keep-alive connection, `http.enabled: false` keeps it off. One-node
 * clusters on 127.0.11.51–53 (block 127.0.11.0/24).
 */

const clusters: TestCluster[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.cleanup()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function oneNode(address: string, dnsPort: number, yamlEdit: (y: string) => string = (y) => y): TestCluster {
  const c = new TestCluster(yamlEdit(clusterYaml({ dnsPort, nodes: [{ name: 'solo', address }] })));
  clusters.push(c);
  return c;
}

async function exitWithin(exited: Promise<{ code: number | null }>, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([exited.then((e) => e.code), new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]);
}

describe('the HTTP API and the agent process', () => {
  it('a taken http.port stops the agent with exit 2 and a message that says what to do', async () => {
    const squatter = net.createServer();
    servers.push(squatter);
    await new Promise<void>((r) => squatter.listen(5333, '127.0.11.51', r));
    const c = oneNode('127.0.11.51', 5331);
    const agent = c.procs.start(process.execPath, [CLI, 'agent', '--config', c.configPath, '--node', 'solo'], { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
    expect(await exitWithin(agent.exited, 10_000)).toBe(2);
    expect(agent.stderr).toMatch(/^clusterdns: the HTTP API cannot listen on 127\.0\.11\.51:5333: the port is in use — stop what holds it, set http\.port to a free port, or set http\.enabled: false\n$/);
    // It released the DNS port it had already bound.
    await expect(udpQuery('127.0.11.51', 5331, 'solo.cluster.test', 'A')).rejects.toThrow(/no answer/);
  });

  it('SIGTERM: the agent exits 0 and the port is closed, even with a keep-alive client connected', async () => {
    const c = oneNode('127.0.11.52', 5351);
    const agent = await c.startAgent('solo');
    const base = 'http://127.0.11.52:5353';
    await eventually('the agent to serve', async () => ((await http(`${base}/healthz`)).status === 200 ? true : undefined));
    const keepAlive = new HttpAgent({ keepAlive: true });
    try {
      const held = await new Promise<net.Socket>((resolve, reject) => {
        const req = request(`${base}/v1/status`, { agent: keepAlive }, (res) => {
          res.resume();
          res.on('end', () => resolve(req.socket!));
        });
        req.on('error', reject);
        req.end();
      });
      expect(held.destroyed).toBe(false);
      agent.kill('SIGTERM');
      expect(await exitWithin(agent.exited, 5000)).toBe(0);
      await expect(http(`${base}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      keepAlive.destroy();
    }
  });

  it('behind NAT: the public address is not on the machine, so the API listens where `listen` says', async () => {
    // 198.51.100.7 (TEST-NET-2) stands for an EC2 public address; 127.0.11.56 is the private one.
    const c = oneNode('198.51.100.7', 5391, (y) => y.replace('address: 198.51.100.7 }', 'address: 198.51.100.7, listen: [127.0.11.56], peerAddress: 127.0.11.56 }'));
    const agent = await c.startAgent('solo');
    const r = await eventually('the API on the private address', async () => {
      const x = await http('http://127.0.11.56:5393/v1/status');
      return x.status === 200 ? x : undefined;
    });
    expect(JSON.parse(r.body)).toMatchObject({ node: 'solo', nodes: [{ name: 'solo', address: '198.51.100.7' }] });
    expect(agent.stdout).toMatch(/"event":"http-listening","urls":\["http:\/\/127\.0\.11\.56:5393"\]/);
  });

  it('http.enabled: false: DNS is served, nothing listens on http.port, and status says why it cannot ask', async () => {
    const c = oneNode('127.0.11.53', 5361, (y) => y.replace('http: { port: 5363 }', 'http: { port: 5363, enabled: false }'));
    await c.startAgent('solo');
    const reply = await eventually('an answer', async () => {
      const r = await udpQuery('127.0.11.53', 5361, 'solo.cluster.test', 'A');
      return r.rcode === 'NOERROR' ? r : undefined;
    });
    expect(reply.answers?.[0]?.data).toBe('127.0.11.53');
    await expect(http('http://127.0.11.53:5363/healthz')).rejects.toThrow(/ECONNREFUSED/);
    const out = await run(process.execPath, [CLI, 'status', '--config', c.configPath]);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('clusterdns: the HTTP API is disabled in this config (http.enabled: false): enable it on the agents, or pass --url\n');
  });
});

describe('clusterdns status: usage errors exit 2 without a stack', () => {
  it.each([
    [['status'], /say which cluster: --config <file> .* or --url <agent URL>/],
    [['status', '--url', 'ftp://127.0.11.1:5313'], /--url must be http:\/\/ \(the agent serves plain HTTP\), not ftp:/],
    [['status', '--url', 'http://127.0.11.1:5313', '--node', 'node1'], /--url asks one agent directly: leave out --config and --node/],
    [['status', '--timeout', 'soon', '--url', '127.0.11.1:5313'], /--timeout must be a positive number of milliseconds, not "soon"/],
  ])('%j', async (args, message) => {
    const out = await run(process.execPath, [CLI, ...args]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown --node names the nodes there are', async () => {
    const c = oneNode('127.0.11.54', 5371);
    const out = await run(process.execPath, [CLI, 'status', '--config', c.configPath, '--node', 'nosuch']);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('clusterdns: no node named "nosuch" in the config — use one of: solo\n');
  });

  it('a URL that is not a clusterdns agent is unreachable, with the reason', async () => {
    const other = net.createServer((s) => {
      s.on('error', () => undefined);
      s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', () => s.destroy());
    });
    servers.push(other);
    await new Promise<void>((r) => other.listen(5381, '127.0.11.55', r));
    const out = await run(process.execPath, [CLI, 'status', '--url', 'http://127.0.11.55:5381']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^clusterdns: no agent answered on its HTTP API .*\n {2}- http:\/\/127\.0\.11\.55:5381\/v1\/status: not a clusterdns \/v1\/status document\n$/);
  });
});
