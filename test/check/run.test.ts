import { describe, expect, it } from 'vitest';
import { formatReport, reportToJson } from '../../src/check/format';
import { evaluate } from '../../src/check/report';
import { runCheck } from '../../src/check/run';
import type { Observations } from '../../src/check/types';
import { observe } from './scenario';

/** A gatherer that returns the given observations in turn, and the waits runCheck asked for. */
function scripted(...steps: Observations[]) {
  const waits: number[] = [];
  let calls = 0;
  return {
    waits,
    calls: () => calls,
    gather: async () => steps[Math.min(calls++, steps.length - 1)],
    wait: async (ms: number) => void waits.push(ms),
  };
}

describe('asking again once', () => {
  it('a failover still under way is asked about again after the detection time, and the second answer counts', async () => {
    const s = scripted(observe({ dead: ['node3'], detectionMs: 1250 }), observe({ dead: ['node3'], targets: { node3: 'node1' } }));
    const r = await runCheck(s.gather, s.wait);
    expect(s.calls()).toBe(2);
    expect(s.waits).toEqual([1500]);
    expect(r).toMatchObject({ exitCode: 1, reasked: true });
  });
  it('a problem that is still there the second time stays broken; nobody asks a third time', async () => {
    const s = scripted(observe({ dead: ['node3'] }));
    const r = await runCheck(s.gather, s.wait);
    expect(s.calls()).toBe(2);
    expect(r).toMatchObject({ exitCode: 2, reasked: true });
  });
  it('a lasting problem (wrong glue) is not asked about again', async () => {
    const s = scripted(observe({ glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.3'], 'ns3.cluster.test': ['127.0.8.3'] } }));
    const r = await runCheck(s.gather, s.wait);
    expect(s.calls()).toBe(1);
    expect(s.waits).toEqual([]);
    expect(r).toMatchObject({ exitCode: 2, reasked: false });
  });
  it('healthy is asked once', async () => {
    const s = scripted(observe());
    expect((await runCheck(s.gather, s.wait)).exitCode).toBe(0);
    expect(s.calls()).toBe(1);
  });
});

describe('the report', () => {
  it('names the failed-over node in the verdict line and says what to do', () => {
    const text = formatReport(evaluate(observe({ dead: ['node3'], targets: { node3: 'node2' } })));
    expect(text).toMatch(/node3\.cluster\.test\s+127\.0\.8\.2\s+127\.0\.8\.3\s+2\s+failed over to node2/);
    expect(text).toContain('cluster.test: degraded: node3 down, failed over (exit 1)');
    expect(text).toContain('fix: bring node3 back');
  });
  it('healthy says so, with the worst-case times', () => {
    const text = formatReport(evaluate(observe({ answerTtl: 30, parentTtl: 60 })));
    expect(text).toContain('No problems found.');
    expect(text).toContain('via NS and glue:  + parent TTL 60 = 91.25 s (threshold 120 s)');
    expect(text).toContain('cluster.test: healthy (exit 0)');
  });
  it('JSON carries the verdict, the servers, the names and each finding with its code', () => {
    const json = JSON.parse(JSON.stringify(reportToJson(evaluate(observe({ glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.99'], 'ns3.cluster.test': ['127.0.8.3'] } })))));
    expect(json).toMatchObject({ zone: 'cluster.test', verdict: 'broken', exitCode: 2 });
    expect(json.parent[0].glue['ns2.cluster.test']).toEqual(['127.0.8.99']);
    expect(json.servers.map((s: { address: string }) => s.address)).toContain('127.0.8.99');
    expect(json.findings).toContainEqual(expect.objectContaining({ code: 'glue-mismatch', subject: 'ns2.cluster.test', severity: 'broken' }));
  });
});
