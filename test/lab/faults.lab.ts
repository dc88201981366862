// The fault lab on 3 and 5 nodes (npm run test:faults; root). Each scenario is one test: it breaks
// the cluster, undoes the fault, and fails with the invariant and the timeline that broke it.
// Scenarios marked "regression" found a defect of an earlier version and keep guarding its fix
// (test/lab/README.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcNetnsLeft, labNamespaces, labUnavailable, netemAvailable } from './netlab.mjs';
import { failureText, LabSession, markdownTable, summarize } from './runner.mjs';
import { scenariosFor, unavailableScenarios } from './scenarios.mjs';

const SIZES = (process.env.LAB_SIZES ?? '3,5').split(',').filter(Boolean).map(Number);
// The WAN profile's scenarios run on their own cluster (`peer: { profile: wan }`), on 3 nodes in CI
// to keep the run short; bench:faults runs them on 3 and 5.
const WAN_SIZES = (process.env.LAB_WAN_SIZES ?? '3').split(',').filter(Boolean).map(Number);
// 5 % loss for 20 s is 6 of the WAN profile's downAfter windows (3 s); bench:faults holds it 60 s.
const WAN_LOSS_SECONDS = Number(process.env.LAB_WAN_LOSS_SECONDS ?? 20);
const TRIALS = Number(process.env.LAB_TRIALS ?? 1);
const ONLY = process.env.LAB_ONLY?.split(',');
const LOSS_SECONDS = Number(process.env.LAB_LOSS_SECONDS ?? 10);
const NETEM = !labUnavailable() && netemAvailable();
const results: object[] = [];

describe('fault lab', () => {
  // Never a skip: a machine that cannot run the lab fails it with the reason (CI runs as root).
  it('can run here (root, ip netns, nft, unbound, nsd, redis-server, dnsperf, faketime)', () => {
    expect(labUnavailable()).toBeUndefined();
  });

  const sessions: { size: number; profile: 'lan' | 'wan' | 'rollout'; lossSeconds: number; members?: string[] }[] = [
    ...SIZES.map((size) => ({ size, profile: 'lan' as const, lossSeconds: LOSS_SECONDS })),
    ...WAN_SIZES.map((size) => ({ size, profile: 'wan' as const, lossSeconds: WAN_LOSS_SECONDS })),
    // Membership changes: room for 6 nodes, 3 configured at first (LAB_ROLLOUT=0 leaves it out).
    ...(process.env.LAB_ROLLOUT === '0' ? [] : [{ size: 6, profile: 'rollout' as const, lossSeconds: LOSS_SECONDS, members: ['node1', 'node2', 'node3'] }]),
  ];
  for (const { size, profile, lossSeconds, members } of sessions) {
    // A session none of whose scenarios LAB_ONLY selects (whether netem is here or not) builds no lab.
    if (scenariosFor(size, ONLY, { netem: true, profile }).length === 0) continue;
    describe(profile === 'lan' ? `${size} nodes` : profile === 'rollout' ? 'membership changes (3 to 5 of 6 nodes configured, LAN timing)' : `${size} nodes, peer.profile ${profile}`, () => {
      let session: LabSession;
      beforeAll(async () => {
        const why = labUnavailable();
        if (why) throw new Error(why);
        session = new LabSession({ size, profile, members, log: process.env.LAB_VERBOSE ? (s: string) => console.log(s) : () => undefined, lossSeconds });
        await session.open();
      });
      afterAll(async () => {
        const prefix = session?.lab.prefix;
        await session?.close();
        if (prefix) {
          expect(labNamespaces(prefix), 'namespaces left behind').toEqual([]);
          expect(etcNetnsLeft(prefix), '/etc/netns entries left behind').toEqual([]);
        }
      });

      // Delay and jitter need netem. Where the kernel lacks it (a kernel feature, not a tool to
      // install) those scenarios are not scheduled and this test says so; it fails if one were
      // scheduled anyway, since that could only mean the delay is faked.
      const unavailable = unavailableScenarios({ netem: NETEM, profile });
      it(`netem is probed, never faked${unavailable.length ? `: not run here: ${unavailable.map((u) => `${u.id} (${u.reason})`).join('; ')}` : ''}`, () => {
        const scheduled = scenariosFor(size, ONLY, { netem: NETEM, profile }).map((s) => s.id);
        for (const u of unavailable) expect(scheduled).not.toContain(u.id);
      });

      for (const s of scenariosFor(size, ONLY, { netem: NETEM, profile })) {
        const title = `${s.id}: ${s.title}${s.regressionOf ? ` [regression: ${s.regressionOf}]` : ''}`;
        it(title, async () => {
          if (session.broken) throw new Error('an earlier scenario left the lab broken');
          const n = s.coldStart ? 1 : TRIALS;
          const failures: string[] = [];
          for (let trial = 0; trial < n; trial++) {
            const r = await session.run(s, trial);
            results.push(r);
            if (process.env.LAB_VERBOSE) console.log(`${s.id} figures ${JSON.stringify(r.figures)}`);
            const text = failureText(r);
            if (text) failures.push(`trial ${trial + 1}/${n}:\n${text}`);
          }
          if (failures.length) throw new Error(`${s.id} on ${size} nodes\n${failures.join('\n\n')}`);
        });
      }
    });
  }

  afterAll(() => {
    if (results.length) console.log(`\n${markdownTable(summarize(results))}\n`);
  });
});
