/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { requireTool } from '../helpers/tools';
import { eventually, http } from './helpers';

/**
 * The status page in a real headless Chromium, served by a real agent of a three-node cluster on
 * 127.0.12.1–3 (block 127.0.12.0/24): three up cards, then node3 killed with SIGKILL and its card
 * turning down. Screenshots go to test-output/ at the repository root.
 */

const DNS = 5321;
const HTTP = 5323;
const A = ['127.0.12.1', '127.0.12.2', '127.0.12.3'];
const OUT = resolve(__dirname, '../../test-output');

let cluster: TestCluster;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];

const states = () => page.$$eval('.card', (cards) => cards.map((c) => [c.getAttribute('data-node'), c.getAttribute('data-state')]));

beforeAll(async () => {
  const executablePath = requireTool('chromium');
  mkdirSync(OUT, { recursive: true });
  cluster = new TestCluster(
    clusterYaml({
      dnsPort: DNS,
      httpPort: HTTP,
      nodes: [
        { name: 'node1', address: A[0], rack: 'a' },
        { name: 'node2', address: A[1], rack: 'b' },
        { name: 'node3', address: A[2], rack: 'c' },
      ],
    }),
  );
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
  await eventually('node1 to serve', async () => ((await http(`http://${A[0]}:${HTTP}/healthz`)).status === 200 ? true : undefined));
  browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A script blocked by the CSP, a thrown error or a failed request would show up here.
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await cluster?.cleanup();
});

describe('the status page in headless Chromium', () => {
  it('shows three up cards, with state in text as well as colour, and accessible structure', async () => {
    await page.goto(`http://${A[0]}:${HTTP}/`, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('.card[data-state="up"]').length === 3, undefined, { timeout: 10_000 });
    expect(await states()).toEqual([
      ['node1', 'up'],
      ['node2', 'up'],
      ['node3', 'up'],
    ]);
    expect(await page.$$eval('.card .badge', (b) => b.map((x) => x.textContent))).toEqual(['✓Up', '✓Up', '✓Up']);
    expect(await page.$$eval('.card .addr', (b) => b.map((x) => x.textContent))).toEqual(A);
    expect(await page.textContent('h1')).toBe('cluster.test');
    // No checks configured: that section stays hidden.
    expect(await page.$$eval('h2', (h) => h.filter((x) => !x.closest('[hidden]')).map((x) => x.firstChild?.textContent?.trim()))).toEqual(['Nodes', 'Current answers', 'Who hears whom', 'Recent events']);
    expect(await page.textContent('#summary')).toBe('All 3 nodes up');
    expect(await page.getAttribute('#summary', 'role')).toBe('status');
    // Tables have header cells with scope; the matrix has a row per observer.
    expect(await page.$$eval('#answers th[scope="col"]', (t) => t.map((x) => x.textContent))).toEqual(['Name', 'Kind', 'Answer', 'Node']);
    expect(await page.$$eval('#matrix tbody th[scope="row"]', (t) => t.length)).toBe(3);
    expect(await page.$$eval('#answers tr.failed-over', (t) => t.length)).toBe(0);
    expect(await page.title()).toMatch(/cluster\.test — clusterdns/);
    expect(problems).toEqual([]);
  });

  it('node3 killed with SIGKILL: its card turns down within seconds and its names are shown failed over', async () => {
    const killedAt = Date.now();
    cluster.agents.get('node3')!.kill('SIGKILL');
    await page.waitForFunction(() => document.querySelector('.card[data-node="node3"]')?.getAttribute('data-state') === 'down', undefined, { timeout: 6_000 });
    const elapsed = Date.now() - killedAt;
    expect(elapsed).toBeLessThan(6_000);
    expect(await states()).toEqual([
      ['node1', 'up'],
      ['node2', 'up'],
      ['node3', 'down'],
    ]);
    expect(await page.textContent('.card[data-node="node3"] .badge')).toBe('✕Down');
    expect(await page.textContent('.card[data-node="node3"] .reason')).toMatch(/^node3 down: not heard by node1, node2/);
    await page.waitForFunction(() => document.querySelectorAll('#answers tr.failed-over').length === 2, undefined, { timeout: 3_000 });
    const failed = await page.$$eval('#answers tr.failed-over', (rows) => rows.map((r) => [r.getAttribute('data-name'), r.querySelector('td.to')?.textContent]));
    expect(failed.map((f) => f[0])).toEqual(['node3.cluster.test', 'ns3.cluster.test']);
    for (const f of failed) expect(f[1]).toMatch(/^→ node[12]$/);
    expect(await page.textContent('#summary')).toMatch(/^Degraded: node3 down · failed over to node[12]$/);
    expect(await page.textContent('#events li')).toMatch(/verdict.*node3 down/);
    // Let the matrix show node3's silence before the picture is taken.
    await page.waitForTimeout(1200);
    await page.screenshot({ path: resolve(OUT, 'status-page.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(400); // the cards' border colour transition
    await page.screenshot({ path: resolve(OUT, 'status-page-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(problems).toEqual([]);
  });

  it('says so when its own agent stops answering, and keeps the last data on screen', async () => {
    cluster.agents.get('node1')!.kill('SIGKILL');
    await page.waitForFunction(() => document.getElementById('summary')?.textContent === 'No contact with the agent', undefined, { timeout: 8_000 });
    expect(await page.textContent('#banners')).toMatch(/^Cannot reach this agent \(.+\); the data below is from \d\d:\d\d:\d\d\. Retrying every second\.$/);
    expect(await page.$$eval('.card', (c) => c.length)).toBe(3);
    expect(await page.evaluate(() => document.documentElement.classList.contains('stale'))).toBe(true);
    await page.screenshot({ path: resolve(OUT, 'status-page-lost.png'), fullPage: true });
  });
});
