import { ClusterDnsError } from '../../errors';

const UNCHANGED = 'the hosted zone was not changed';

/**
 * One message per AWS failure a user can act on. `phase` says whether anything could have been
 * written: a read failure changes nothing; ChangeResourceRecordSets is atomic, so its failures don't either.
 */
export function route53Error(e: unknown, ctx: { hostedZoneId: string; phase: 'read' | 'apply' | 'wait' }): ClusterDnsError {
  if (e instanceof ClusterDnsError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const name = err.name ?? 'Error';
  const msg = (err.message ?? String(e)).replace(/\s+/g, ' ').trim();
  const code = ctx.phase === 'read' ? 'PARENT_READ' : 'PARENT_APPLY';
  const tail = ctx.phase === 'read' ? '' : `; ${UNCHANGED}`;
  switch (name) {
    case 'NoSuchHostedZone':
      return new ClusterDnsError('PARENT_NOT_FOUND', `Route53 has no hosted zone ${ctx.hostedZoneId} (NoSuchHostedZone)${tail}`, {
        details: ['list your zones with: aws route53 list-hosted-zones — and pass the parent zone\'s Id to --hosted-zone-id'],
      });
    case 'InvalidInput':
      return new ClusterDnsError(code, `Route53 rejected the request as invalid: ${msg}${tail}`, {
        details: ['check --hosted-zone-id (an Id such as Z0123456789ABC)'],
      });
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
    case 'ExpiredTokenException':
      return new ClusterDnsError('PARENT_AUTH', `AWS denied the Route53 request (${name}): ${msg}${tail}`, {
        details: [
          'check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID…, aws sts get-caller-identity)',
          `they need route53:GetHostedZone, route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and route53:GetChange on ${ctx.hostedZoneId}`,
        ],
      });
    case 'CredentialsProviderError':
      return new ClusterDnsError('PARENT_AUTH', `no AWS credentials found: ${msg}`, {
        details: ['configure them as for the aws CLI: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role'],
      });
    case 'InvalidChangeBatch':
      return new ClusterDnsError('PARENT_APPLY', `Route53 rejected the change batch: ${msg}${tail}`, {
        details: ['the records probably changed since they were read: run the plan again (without --apply), check it, then apply'],
      });
    case 'Throttling':
    case 'ThrottlingException':
    case 'PriorRequestNotComplete':
      return new ClusterDnsError(ctx.phase === 'read' ? 'PARENT_READ' : 'PARENT_APPLY', `Route53 kept throttling the requests (${name}) after ${err.$metadata?.attempts ?? 'several'} attempts${tail}`, {
        details: ['wait a minute and run again; other tools may be using this account\'s Route53 request rate'],
      });
  }
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || name === 'TimeoutError' || err.code === 'ETIMEDOUT') {
    return new ClusterDnsError('PARENT_TIMEOUT', `cannot reach the Route53 API (${err.code ?? name}): ${msg}${tail}`, {
      details: ['check the network and --endpoint-url / AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL if you set one'],
    });
  }
  return new ClusterDnsError(code, `Route53 request failed (${name}${err.$metadata?.httpStatusCode ? `, HTTP ${err.$metadata.httpStatusCode}` : ''}): ${msg}${tail}`);
}
