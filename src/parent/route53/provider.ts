import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change as AwsChange,
  type ResourceRecordSet,
  type RRType,
} from '@aws-sdk/client-route-53';
import { ClusterDnsError } from '../../errors';
import type { Plan } from '../plan';
import type { ParentZoneProvider } from '../provider';
import { canonicalName, rrset, type DesiredDelegation, type RRset } from '../records';
import { route53Error } from './errors';

export interface Route53Options {
  readonly hostedZoneId: string;
  /** Unset: the SDK's own resolution, which honours AWS_ENDPOINT_URL_ROUTE_53 and AWS_ENDPOINT_URL. */
  readonly endpointUrl?: string;
  readonly waitTimeoutMs: number;
  readonly pollIntervalMs?: number;
  readonly client?: Route53Client;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Bounds the page loop, so an API that never stops saying IsTruncated cannot loop forever. */
const MAX_PAGES = 10_000;

/** Route53 escapes some characters in names as \NNN octal; our names never contain them, others are compared as given. */
function awsName(name: string): string {
  return canonicalName(name.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

function under(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

function toAws(r: RRset): ResourceRecordSet {
  return {
    Name: `${r.name}.`,
    Type: r.type as RRType,
    TTL: r.ttl,
    ResourceRecords: r.values.map((v) => ({ Value: r.type === 'NS' ? `${v}.` : v })),
  };
}

/**
 * Each plan change as Route53 changes. A replaced RRset is DELETEd with its exact old records and
 * CREATEd anew instead of UPSERTed: Route53 rejects the whole batch if the old records changed in
 * the meantime, which is the same protection the RFC 2136 prerequisites give.
 */
function route53Changes(plan: Plan): AwsChange[] {
  return plan.changes.flatMap((c): AwsChange[] => [
    ...(c.before ? [{ Action: 'DELETE' as const, ResourceRecordSet: toAws(c.before) }] : []),
    ...(c.after ? [{ Action: 'CREATE' as const, ResourceRecordSet: toAws(c.after) }] : []),
  ]);
}

/**
 * A client from the SDK's standard chains (credentials; region from AWS_REGION or the profile).
 * Route53 is global and signed for us-east-1 in the commercial partition, so a missing region is
 * not worth an error: the client falls back to us-east-1.
 */
async function makeClient(endpointUrl?: string): Promise<Route53Client> {
  const base = endpointUrl ? { endpoint: endpointUrl } : {};
  const client = new Route53Client(base);
  try {
    await client.config.region();
    return client;
  } catch {
    client.destroy();
    return new Route53Client({ ...base, region: 'us-east-1' });
  }
}

export function route53Provider(opts: Route53Options): ParentZoneProvider {
  let clientPromise: Promise<Route53Client> | undefined;
  const client = () => (clientPromise ??= opts.client ? Promise.resolve(opts.client) : makeClient(opts.endpointUrl));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const id = opts.hostedZoneId.replace(/^\/?hostedzone\//, '');
  const ctx = (phase: 'read' | 'apply' | 'wait') => ({ hostedZoneId: id, phase });
  let parentZone = '';

  return {
    get where() {
      return `Route53 hosted zone ${id}${parentZone ? ` (${parentZone}.)` : ''}`;
    },
    async read(desired: DesiredDelegation): Promise<RRset[]> {
      try {
        const zone = await (await client()).send(new GetHostedZoneCommand({ Id: id }));
        parentZone = awsName(zone.HostedZone?.Name ?? '');
        if (!desired.zone.endsWith(`.${parentZone}`))
          throw new ClusterDnsError('PARENT_NOT_FOUND', `hosted zone ${id} is ${parentZone}., which is not a parent of the cluster zone ${desired.zone}`, {
            details: [`pass the Id of the hosted zone that contains ${desired.zone} (aws route53 list-hosted-zones-by-name)`],
          });
        return await listUnder(desired.zone);
      } catch (e) {
        throw route53Error(e, ctx('read'));
      }
    },
    async apply(plan: Plan, progress): Promise<string> {
      let changeId: string;
      try {
        const out = await (await client()).send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: id,
            ChangeBatch: { Comment: `clusterdns delegate ${plan.zone}`, Changes: route53Changes(plan) },
          }),
        );
        changeId = (out.ChangeInfo?.Id ?? '').replace(/^\/change\//, '');
      } catch (e) {
        throw route53Error(e, ctx('apply'));
      }
      return waitInsync(changeId, plan, progress);
    },
  };

  async function listUnder(zone: string): Promise<RRset[]> {
    const out: RRset[] = [];
    // Route53 lists in reversed-label order, so the zone and everything below it come contiguously from the zone's name on.
    let start: { name?: string; type?: RRType; identifier?: string } = { name: `${zone}.` };
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await (await client()).send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: id,
          StartRecordName: start.name,
          StartRecordType: start.type,
          StartRecordIdentifier: start.identifier,
        }),
      );
      let past = false;
      for (const s of r.ResourceRecordSets ?? []) {
        const name = awsName(s.Name ?? '');
        if (!under(name, zone)) {
          past = true;
          break;
        }
        // Alias and routing-policy records are someone's deliberate setup, never a plain delegation.
        if (s.AliasTarget || s.SetIdentifier || !(s.Type === 'NS' || s.Type === 'A' || s.Type === 'AAAA' || (s.Type === 'DS' && name === zone))) continue;
        out.push(rrset(name, s.Type, s.TTL ?? 0, (s.ResourceRecords ?? []).map((v) => v.Value ?? '')));
      }
      if (past || !r.IsTruncated) return out;
      start = { name: r.NextRecordName, type: r.NextRecordType, identifier: r.NextRecordIdentifier };
    }
    throw new ClusterDnsError('PARENT_READ', `Route53 returned more than ${MAX_PAGES} pages for ${zone}; giving up`);
  }

  async function waitInsync(changeId: string, plan: Plan, progress: (line: string) => void): Promise<string> {
    const interval = opts.pollIntervalMs ?? 2000;
    const started = Date.now();
    const applied = `${plan.changes.length} change${plan.changes.length > 1 ? 's' : ''} to the delegation of ${plan.zone} in ${parentZone}.`;
    for (;;) {
      let status: string | undefined;
      try {
        status = (await (await client()).send(new GetChangeCommand({ Id: changeId }))).ChangeInfo?.Status;
      } catch (e) {
        throw route53Error(e, ctx('wait'));
      }
      const waited = Math.round((Date.now() - started) / 1000);
      if (status === 'INSYNC') return `Route53 change ${changeId} is INSYNC after ${waited}s: ${applied}`;
      progress(`waiting for Route53 change ${changeId}: ${status ?? 'unknown'} (${waited}s)`);
      if (Date.now() - started + interval > opts.waitTimeoutMs) {
        throw new ClusterDnsError('PARENT_TIMEOUT', `Route53 accepted change ${changeId} but it was not INSYNC within ${opts.waitTimeoutMs} ms (still ${status})`, {
          details: [`the change is applied and propagating; check it with: aws route53 get-change --id ${changeId}`],
        });
      }
      await sleep(interval);
    }
  }
}
