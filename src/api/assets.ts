import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The status page's static files (src/api/page/, built into dist/api/page/ by scripts/build-page.mjs),
 * read once when the API starts and served from memory: a page view never touches the disk.
 */

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
  /** Extra headers (the page's CSP). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Only this origin's script and style may run, and the script may only fetch from its own agent. */
const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = { 'Content-Security-Policy': STATUS_PAGE_CSP, 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' };

/** URL path → file in the page folder. Anything else is not an asset (404). */
const FILES: ReadonlyArray<readonly [path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/index.html', 'index.html', 'text/html; charset=utf-8'],
  ['/assets/page.css', 'page.css', 'text/css; charset=utf-8'],
  ['/assets/page.js', 'page.js', 'text/javascript; charset=utf-8'],
];

export interface PageAssets {
  readonly assets: ReadonlyMap<string, Asset>;
  /** Why some files are missing; the API still starts: a broken page must not stop DNS. */
  readonly problem?: string;
}

export function loadPageAssets(dir = join(__dirname, 'page')): PageAssets {
  const assets = new Map<string, Asset>();
  const unreadable: string[] = [];
  for (const [path, file, type] of FILES) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, file));
    } catch (e) {
      unreadable.push(`${join(dir, file)} (${(e as NodeJS.ErrnoException).code ?? e})`);
      continue;
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(path, { type, body, etag, headers: type.startsWith('text/html') ? PAGE_HEADERS : {} });
  }
  if (unreadable.length === 0) return { assets };
  const files = [...new Set(unreadable)].join(', ');
  return { assets, problem: `the status page cannot be served: ${files} cannot be read; this installation is incomplete: reinstall clusterdns, or run npm run build in a checkout` };
}

/**
 * `no-cache`: the browser keeps a copy but asks each time, so an upgraded agent's page is used at
 * once and an unchanged one costs a 304 without a body.
 */
export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  for (const [k, v] of Object.entries(asset.headers)) res.setHeader(k, v);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', asset.etag);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  const known = req.headers['if-none-match'];
  if (known !== undefined && known.split(',').some((t) => t.trim().replace(/^W\//, '') === asset.etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Content-Length', asset.body.length);
  res.end(asset.body);
}
