import { addressesOf, DemoCluster, newDemoError, type DemoOptions, type Snapshot } from './demo';
import { renderTable, seconds } from './render';

/**
 * The demo's story: start three agents, show what every name server answers, kill one, time the
 * failover, restart it, time the recovery, stop. On a terminal the table is redrawn live while it
 * waits; elsewhere (CI, pipes) the same story prints as plain lines.
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const out = opts.out;
  const live = out.isTTY === true;
  const c = new DemoCluster(opts);
  const say = (s = '') => out.write(`${s}\n`);
  let drawn = 0;
  const draw = (s: Snapshot) => {
    const text = renderTable(s, c.nodes, live, (name) => !c.exited(name));
    if (live && drawn) out.write(`\x1b[${drawn}A\x1b[0J`);
    out.write(`${text}\n`);
    drawn = live ? text.split('\n').length : 0;
  };
  const freeze = () => {
    drawn = 0;
  };

  /** Polls until `done(snapshot)` holds; redraws live on a terminal. Bounded by `limitMs`. */
  const waitFor = async (what: string, done: (s: Snapshot) => boolean, limitMs: number): Promise<{ ms: number; snap: Snapshot }> => {
    const start = Date.now();
    for (;;) {
      const snap = await c.snapshot();
      if (live) draw(snap);
      if (done(snap)) {
        freeze();
        return { ms: snap.at - start, snap };
      }
      const dead = c.nodes.find((n) => c.exited(n.name) && expectedRunning.has(n.name));
      if (dead) throw newDemoError(`${dead.name}'s agent exited:`, c.logOf(dead.name).trim().split('\n').slice(-5));
      if (Date.now() - start > limitMs) throw newDemoError(`timed out after ${seconds(limitMs)} waiting for ${what}`, [`agent logs are in ${c.dir}`]);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const expectedRunning = new Set<string>();
  const answer = (s: Snapshot, name: string, server: number) => addressesOf(s.rows.find((r) => r.name === name)!.answers[server]);

  try {
    const zone = opts.zone;
    say(`clusterdns demo: three agents serve ${zone} on ${c.nodes.map((n) => n.address).join(', ')} (DNS port ${opts.dnsPort}).`);
    say('Each node is an authoritative name server for the zone; when one dies, the others answer its name with a live node.');
    say();
    for (const n of c.nodes) {
      c.start(n.name, opts.keep);
      expectedRunning.add(n.name);
    }
    say('1. Starting the agents; they answer once each hears a majority.');
    const all = [0, 1, 2];
    const up = await waitFor('the cluster to answer', (s) => c.nodes.every((n, i) => all.every((srv) => answer(s, `${n.name}.${zone}`, srv)[0] === c.nodes[i].address)), 20_000);
    if (!live) draw(up.snap);
    say(`   All three agents answer every name with its own node (ready in ${seconds(up.ms)}).`);
    say();

    const victim = c.nodes[1];
    const survivors = [0, 2];
    say(`2. Killing ${victim.name}'s agent (kill -9, pid ${c.pid(victim.name)}).`);
    expectedRunning.delete(victim.name);
    c.kill(victim.name);
    const failed = await waitFor(
      `${victim.name} to fail over`,
      (s) => survivors.every((srv) => {
        const a = answer(s, `${victim.name}.${zone}`, srv);
        return a.length === 1 && a[0] !== victim.address;
      }),
      15_000,
    );
    if (!live) draw(failed.snap);
    const target = answer(failed.snap, `${victim.name}.${zone}`, 0)[0];
    const targetName = c.nodes.find((n) => n.address === target)?.name;
    say(`   ${victim.name}.${zone} now answers ${target} (${targetName}) from both survivors: failover in ${seconds(failed.ms)} after the kill.`);
    say(`   The apex ${zone} A lists only live nodes; a client connecting by name reaches a live node.`);
    say();

    say(`3. Restarting ${victim.name}'s agent. Its own address comes back after the hold-down (3 s): a returning node proves itself first.`);
    c.start(victim.name, opts.keep);
    expectedRunning.add(victim.name);
    const back = await waitFor(`${victim.name} to recover`, (s) => all.every((srv) => answer(s, `${victim.name}.${zone}`, srv)[0] === victim.address), 20_000);
    if (!live) draw(back.snap);
    say(`   ${victim.name}.${zone} answers ${victim.address} again everywhere, ${seconds(back.ms)} after the restart.`);
    say();

    if (opts.keep) {
      c.detach();
      const pids = c.nodes.map((n) => c.pid(n.name)).join(' ');
      say('The cluster keeps running. Try:');
      say(`   dig @${c.nodes[0].address} -p ${opts.dnsPort} ${victim.name}.${zone} +norec`);
      say(`   dig @${c.nodes[2].address} -p ${opts.dnsPort} ${zone} NS +norec`);
      say(`   dig @${c.nodes[0].address} -p ${opts.dnsPort} hostname.bind CH TXT +short`);
      say(`   kill -9 ${c.pid(c.nodes[2].name)}    # then dig again: node3's name moves to a live node`);
      say(`   curl http://${c.nodes[0].address}:${opts.dnsPort + 2}/v1/status    # the cluster as node1 sees it`);
      say(`Config and logs: ${c.dir}`);
      say(`Stop it with: kill ${pids}`);
      return 0;
    }
    say('4. Stopping the agents. Done: that is DNS failover with no load balancer and no client change.');
    c.stopAll();
    c.removeFiles();
    return 0;
  } catch (e) {
    c.stopAll();
    throw e;
  }
}
