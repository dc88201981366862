import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPageAssets } from '../../src/api/assets';

/** The status page's files as the installed package holds them (dist/api/page, written by npm run build). */
const BUILT = resolve(__dirname, '../../dist/api/page');

describe('the status page files', () => {
  it('are the page, its script and its style, each with its type; only the page carries the CSP', () => {
    const assets = loadPageAssets(BUILT);
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

  it('a missing file is an error that says the installation is incomplete, not a crash later', () => {
    expect(() => loadPageAssets('/nonexistent/page')).toThrow(/index\.html cannot be read \(ENOENT\): this installation is incomplete/);
  });
});
