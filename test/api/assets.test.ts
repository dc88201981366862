import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPageAssets } from '../../src/api/assets';

/** The status page's files as the installed package holds them (dist/api/page, written by npm run build). */
const BUILT = resolve(__dirname, '../../dist/api/page');

describe('the status page files', () => {
  it('are the page, its script and its style, each with its type; only the page carries the CSP', () => {
    const { assets, problem } = loadPageAssets(BUILT);
    expect(problem).toBeUndefined();
    expect([...assets].map(([path, a]) => [path, a.type, Object.keys(a.headers)])).toEqual([
      ['/', 'text/html; charset=utf-8', ['Content-Security-Policy', 'X-Frame-Options', 'Referrer-Policy']],
      ['/index.html', 'text/html; charset=utf-8', ['Content-Security-Policy', 'X-Frame-Options', 'Referrer-Policy']],
      ['/assets/page.css', 'text/css; charset=utf-8', []],
      ['/assets/page.js', 'text/javascript; charset=utf-8', []],
    ]);
    // The built script is plain JavaScript for the browser: its types are gone, its import too.
    const script = assets.get('/assets/page.js')!.body.toString('utf8');
    expect(script).not.toMatch(/^import |: StatusDocument|require\(/m);
    expect(assets.get('/')!.etag).toBe(assets.get('/index.html')!.etag);
  });

  it('missing files are a problem to log that says the installation is incomplete, never a throw: DNS must still start', () => {
    const { assets, problem } = loadPageAssets('/nonexistent/page');
    expect(assets.size).toBe(0);
    expect(problem).toBe(
      'the status page cannot be served: /nonexistent/page/index.html (ENOENT), /nonexistent/page/page.css (ENOENT), /nonexistent/page/page.js (ENOENT) cannot be read; this installation is incomplete: reinstall clusterdns, or run npm run build in a checkout',
    );
  });
});
