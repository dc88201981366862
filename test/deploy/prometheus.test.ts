import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * The shipped alert rules pass Prometheus's own checker and their unit tests
 * (deploy/prometheus/clusterdns.rules.test.yml: each alert fires on its case, not on a near miss).
 * That their metric names exist is test/deploy/metric-names.test.ts's job, against a live agent.
 */
const DIR = join(__dirname, '../../deploy/prometheus');

describe('deploy/prometheus', () => {
  it('promtool check rules accepts the rules', async () => {
    const r = await run(requireTool('promtool'), ['check', 'rules', join(DIR, 'clusterdns.rules.yml')]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('promtool test rules passes the alert unit tests', async () => {
    const r = await run(requireTool('promtool'), ['test', 'rules', join(DIR, 'clusterdns.rules.test.yml')]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });
});
