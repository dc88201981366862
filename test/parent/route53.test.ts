import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/errors';
import { loadConfig } from '../../src/config/load';
import { planDelegation } from '../../src/parent/plan';
import { delegate } from '../../src/parent/provider';
import { desiredDelegation } from '../../src/parent/records';
import { route53Provider } from '../../src/parent/route53/provider';
import { clusterdns } from './cli';
import { FULL, PLANNED_CREATES, SHRUNK, ZONE } from './fixtures';
import { Route53Standin } from './route53-standin';

const HOST = '127.0.7.20';
const ZONE_ID = 'Z0PARENT0TEST';

/** Records of the parent that are not the delegation: they bracket it in Route53's order and must survive. */
const NEIGHBOURS = [
  { name: 'a.example.test', type: 'A', ttl: 300, values: ['192.0.2.1'] },
  { name: 'www.cluster.example.test', type: 'TXT', ttl: 300, values: ['"not ours"'] },
  { name: 'db.example.test', type: 'A', ttl: 300, values: ['192.0.2.2'] },
  { name: 'zzz.example.test', type: 'A', ttl: 300, values: ['192.0.2.3'] },
];

/** Route53 holds one record set per name and type: the NS values joined. */
const DELEGATED_SETS = [
  `${ZONE}. 60 NS ns1.${ZONE}.,ns2.${ZONE}.,ns3.${ZONE}.`,
  `ns1.${ZONE}. 60 A 127.0.7.101`,
  `ns1.${ZONE}. 60 AAAA 2001:db8::11`,
  `ns2.${ZONE}. 60 A 127.0.7.102`,
  `ns3.${ZONE}. 60 A 127.0.7.103`,
];

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIASTANDIN0000TEST',
  AWS_SECRET_ACCESS_KEY: 'standin-secret-key-not-a-real-one',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

let standin: Route53Standin;
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [k, v] of Object.entries(AWS_ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  for (const k of ['AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_ROUTE_53', 'AWS_SESSION_TOKEN']) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

beforeEach(async () => {
  standin = new Route53Standin();
  standin.addZone(ZONE_ID, 'example.test', NEIGHBOURS);
  standin.addZone('Z0OTHER', 'example.org');
  await standin.start(HOST);
});
afterEach(async () => {
  await standin?.stop();
});

const ours = () => standin.records(ZONE_ID).filter((l) => /^(ns\d+\.)?cluster\.example\.test\. \d+ (NS|A|AAAA) /.test(l));
const neighbours = () => standin.records(ZONE_ID).filter((l) => !/^(ns\d+\.)?cluster\.example\.test\. \d+ (NS|A|AAAA) /.test(l));

function provider(zoneId = ZONE_ID) {
  return route53Provider({ hostedZoneId: zoneId, endpointUrl: standin.url, waitTimeoutMs: 5000, pollIntervalMs: 5 });
}

async function run(config: string, apply: boolean, zoneId = ZONE_ID) {
  const progress: string[] = [];
  const out = await delegate(provider(zoneId), desiredDelegation(loadConfig(config)), { apply, progress: (l) => progress.push(l) });
  return { ...out, progress };
}

describe('delegate route53 with the real AWS SDK against a Route53 stand-in', () => {
  it('reads the zone page by page, plans, and changes nothing without --apply', async () => {
    const before = standin.records(ZONE_ID);
    const out = await run(FULL, false);
    expect(out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual(PLANNED_CREATES);
    expect(standin.count('ChangeResourceRecordSets')).toBe(0);
    expect(standin.records(ZONE_ID)).toEqual(before);
    expect(standin.requests.every((r) => r.authorization?.startsWith('AWS4-HMAC-SHA256 Credential=AKIASTANDIN0000TEST/') && r.authorization.includes('/us-east-1/route53/'))).toBe(true);
  });

  it('applies one batch, waits for INSYNC showing progress, and the second run changes nothing', async () => {
    standin.pendingPolls = 3;
    const out = await run(FULL, true);
    expect(out.applied).toBe(true);
    expect(standin.count('ChangeResourceRecordSets')).toBe(1);
    expect(standin.count('GetChange')).toBe(4);
    expect(out.progress).toHaveLength(3);
    expect(out.progress[0]).toMatch(/^waiting for Route53 change C[0-9A-F]+: PENDING \(\d+s\)$/);
    expect(out.result).toMatch(/is INSYNC after \d+s: 5 changes to the delegation of cluster\.example\.test in example\.test\./);
    expect(ours()).toEqual(DELEGATED_SETS);

    const listed = standin.count('ListResourceRecordSets');
    const again = await run(FULL, true);
    // Two record sets a page: the delegation spans three pages, and all of it was seen.
    expect(standin.count('ListResourceRecordSets') - listed).toBe(4);
    expect(again.plan.changes).toEqual([]);
    expect(again.applied).toBe(false);
    expect(standin.count('ChangeResourceRecordSets')).toBe(1);
  });

  it('a removed node loses its glue and NS entry, the delete listed first, neighbours untouched', async () => {
    await run(FULL, true);
    const keep = neighbours();
    const out = await run(SHRUNK, true);
    expect(out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual([`delete ns3.${ZONE} A`, `update ${ZONE} NS`]);
    expect(ours()).toEqual(DELEGATED_SETS.filter((l) => !l.startsWith('ns3')).map((l) => l.replace(`,ns3.${ZONE}.`, '')));
    expect(neighbours()).toEqual(keep);
  });

  it('a change made between plan and apply fails the whole batch (InvalidChangeBatch) and nothing is changed', async () => {
    await run(FULL, true);
    const p = provider();
    const desired = desiredDelegation(loadConfig(SHRUNK));
    const plan = planDelegation(desired, await p.read(desired));
    standin.put(ZONE_ID, { name: `ns3.${ZONE}`, type: 'A', ttl: 60, values: ['127.0.7.233'] });
    const meanwhile = standin.records(ZONE_ID);
    const e = await rejection(p.apply(plan, () => undefined));
    expect(e.code).toBe('PARENT_APPLY');
    expect(e.message).toMatch(/^Route53 rejected the change batch: .*do not match the current values.*; the hosted zone was not changed$/);
    expect(e.format()).toMatch(/run the plan again/);
    expect(standin.records(ZONE_ID)).toEqual(meanwhile);
  });

  it('refuses a hosted zone that is not a parent of the cluster zone', async () => {
    const e = await rejection(run(FULL, true, 'Z0OTHER'));
    expect(e.code).toBe('PARENT_NOT_FOUND');
    expect(e.message).toBe('hosted zone Z0OTHER is example.org., which is not a parent of the cluster zone cluster.example.test');
  });

  it.each([
    ['NoSuchHostedZone', 'GetHostedZone', 404, 'PARENT_NOT_FOUND', /^Route53 has no hosted zone Z0PARENT0TEST \(NoSuchHostedZone\)$/],
    ['AccessDenied', 'ChangeResourceRecordSets', 403, 'PARENT_AUTH', /^AWS denied the Route53 request \(AccessDenied\): .*; the hosted zone was not changed$/],
    ['InvalidInput', 'ListResourceRecordSets', 400, 'PARENT_READ', /^Route53 rejected the request as invalid: /],
  ] as const)('%s from %s is one clear error and the zone is unchanged', async (code, op, status, ours, message) => {
    standin.inject(op, code, { status });
    const before = standin.records(ZONE_ID);
    const e = await rejection(run(FULL, true));
    expect(e.code).toBe(ours);
    expect(e.message).toMatch(message);
    expect(standin.records(ZONE_ID)).toEqual(before);
  });

  it('retries throttling with backoff and succeeds', async () => {
    standin.inject('ChangeResourceRecordSets', 'Throttling', { message: 'Rate exceeded', times: 2 });
    standin.inject('ListResourceRecordSets', 'PriorRequestNotComplete', { message: 'The request was rejected because Route 53 was still processing a prior request.', times: 1 });
    const started = Date.now();
    const out = await run(FULL, true);
    expect(out.applied).toBe(true);
    expect(standin.count('ChangeResourceRecordSets')).toBe(3);
    expect(Date.now() - started).toBeGreaterThan(50);
    expect(ours()).toEqual(DELEGATED_SETS);
  });

  it('gives up on throttling that does not stop, with one message', async () => {
    standin.inject('GetHostedZone', 'Throttling', { message: 'Rate exceeded', times: 100 });
    const e = await rejection(run(FULL, false));
    expect(e.code).toBe('PARENT_READ');
    expect(e.message).toMatch(/^Route53 kept throttling the requests \(Throttling\) after 3 attempts$/);
    expect(standin.count('GetHostedZone')).toBe(3);
  });

  it('times out waiting for INSYNC with a message that says the change is on its way', async () => {
    standin.pendingPolls = 1_000_000;
    const p = route53Provider({ hostedZoneId: ZONE_ID, endpointUrl: standin.url, waitTimeoutMs: 200, pollIntervalMs: 20 });
    const e = await rejection(delegate(p, desiredDelegation(loadConfig(FULL)), { apply: true, progress: () => undefined }));
    expect(e.code).toBe('PARENT_TIMEOUT');
    expect(e.format()).toMatch(/aws route53 get-change --id/);
    expect(ours()).toEqual(DELEGATED_SETS);
  });
});

describe('delegate route53 command', () => {
  const env = (extra: Record<string, string> = {}) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...AWS_ENV, ...extra };
    return e;
  };

  it.each([
    ['--endpoint-url', (url: string) => ({ args: ['--endpoint-url', url], env: {} })],
    ['AWS_ENDPOINT_URL_ROUTE_53', (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL_ROUTE_53: url } })],
    ['AWS_ENDPOINT_URL', (url: string) => ({ args: [], env: { AWS_ENDPOINT_URL: url } })],
  ])('reaches the API given by %s: plan, apply, no changes', async (_how, how) => {
    standin.pendingPolls = 1; // the command polls every 2 s
    const { args, env: extra } = how(standin.url);
    const base = ['delegate', 'route53', '--config', FULL, '--hosted-zone-id', ZONE_ID, ...args];
    const plan = await clusterdns(base, env(extra));
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^Plan for the delegation of cluster\.example\.test in Route53 hosted zone Z0PARENT0TEST \(example\.test\.\): 0 to delete, 0 to update, 5 to create\n/);
    expect(standin.count('ChangeResourceRecordSets')).toBe(0);

    const applied = await clusterdns([...base, '--apply'], env(extra));
    expect(applied.code).toBe(0);
    expect(applied.stderr).toMatch(/waiting for Route53 change .*: PENDING/);
    expect(applied.stdout).toMatch(/Applied: Route53 change .* is INSYNC/);
    expect(ours()).toEqual(DELEGATED_SETS);

    const again = await clusterdns([...base, '--apply', '--json'], env(extra));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: false, changes: [] });
  });

  it('without any region configured it signs for us-east-1, as Route53 wants', async () => {
    const { AWS_REGION: _region, ...e } = env();
    delete e.AWS_DEFAULT_REGION;
    const r = await clusterdns(['delegate', 'route53', '--config', FULL, '--hosted-zone-id', ZONE_ID, '--endpoint-url', standin.url], e);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(standin.requests.length).toBeGreaterThan(0);
    expect(standin.requests.every((q) => q.authorization?.includes('/us-east-1/route53/aws4_request'))).toBe(true);
  });

  it('no credentials anywhere is PARENT_AUTH saying how to configure them', async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...e } = env();
    const r = await clusterdns(['delegate', 'route53', '--config', FULL, '--hosted-zone-id', ZONE_ID, '--endpoint-url', standin.url], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clusterdns: no AWS credentials found: .*\n {2}- configure them as for the aws CLI/);
    expect(standin.requests).toEqual([]);
  });

  it('an endpoint that is not there is PARENT_TIMEOUT naming the endpoint settings', async () => {
    const closed = new Route53Standin();
    const url = await closed.start(HOST);
    await closed.stop();
    const r = await clusterdns(['delegate', 'route53', '--config', FULL, '--hosted-zone-id', ZONE_ID, '--endpoint-url', url], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clusterdns: cannot reach the Route53 API \(ECONNREFUSED\)/);
    expect(r.stderr).toMatch(/--endpoint-url/);
  });

  it('an AWS error is one line and exit 2, no stack', async () => {
    const r = await clusterdns(['delegate', 'route53', '--config', FULL, '--hosted-zone-id', 'Z0MISSING', '--endpoint-url', standin.url], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clusterdns: Route53 has no hosted zone Z0MISSING \(NoSuchHostedZone\)\n {2}- list your zones/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
