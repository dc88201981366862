// Builds, from the compiled dist/ (npm run build), with npm's and Debian's tools only:
//   build/clusterdns_<version>_all.deb   (dpkg-deb)
//   build/clusterdns-<version>.tgz       (npm pack)
// Both carry the same bundle (esbuild): the CLI and its runtime dependencies in one file, no
// node_modules and no dev dependency, plus the status page's files beside it (src/api/assets.ts
// reads them from the bundle's folder). Usage: npm run package
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.version;
const out = join(root, 'build');
const app = join(out, 'app');
const MAINTAINER = 'clusterdns maintainers <maintainers@clusterdns.example.org>';
const HOMEPAGE = 'https://github.com/clusterdns/clusterdns';
// Reproducible: file times and the changelog date come from the last commit.
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).trim());

rmSync(out, { recursive: true, force: true });
mkdirSync(app, { recursive: true });

// --- the bundle -------------------------------------------------------------------------------
// bin/clusterdns.js without its shebang is the entry: clusterdns.js runs the CLI when it is loaded,
// whether by /usr/bin/clusterdns, npm's bin, or the demo starting its agents from it. It picks one
// of two entries, each bundled into a file of its own beside it: agent.js (src/cli/agent-main.ts:
// the agent command alone) or cli.js (every command). V8 keeps a script's whole source for as long as
// any of its functions lives: the agent, which runs for months, holds 0.6 MB of it instead of 2.6 MB
// (README, "Threads"). src/cli/hangup.ts is a third (hangup.js): clusterdns.js catches SIGHUP before
// agent.js loads, and both must use the one copy of its state.
const SPLIT = new Map([
  ['cli/main.js', 'cli.js'],
  ['cli/agent-main.js', 'agent.js'],
  ['cli/hangup.js', 'hangup.js'],
  // Loaded only when used, so kept out of agent.js's source: the metrics registry and prom-client
  // at the first scrape of /metrics (api/server.ts), pino-pretty when a person watches the log.
  ['api/metrics.js', 'metrics.js'],
]);
const LAZY_PACKAGES = new Map([['pino-pretty', 'pretty.js']]);
/** A filter for esbuild's onResolve: any of the names (plain words, no regex characters). */
const anyOf = (names, before, after) => new RegExp(`${before}(${names.join('|')})${after}`);
// The Node flags of bin/clusterdns.js's shebang, for the installed commands' shebangs.
const NODE_FLAGS = readFileSync(join(root, 'bin/clusterdns.js'), 'utf8').split('\n')[0].replace(/^#!\/usr\/bin\/env -S node ?/, '');
if (!/^(--[a-z0-9-]+(=\S+)? ?)*$/.test(NODE_FLAGS)) throw new Error(`bin/clusterdns.js: unexpected shebang flags "${NODE_FLAGS}"`);
const split = {
  name: 'split',
  setup(b) {
    b.onResolve({ filter: anyOf([...LAZY_PACKAGES.keys()], '^', '$') }, (args) => (args.kind === 'entry-point' ? undefined : { path: `./${LAZY_PACKAGES.get(args.path)}`, external: true }));
    b.onResolve({ filter: anyOf([...SPLIT.keys()].map((k) => basename(k, '.js')), '(^|\\/)', '(\\.js)?$') }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const file = resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
      const out = SPLIT.get(relative(join(root, 'dist'), file));
      return out ? { path: `./${out}`, external: true } : undefined;
    });
  },
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  define: { CLUSTERDNS_BUNDLE: 'true' },
  // Whitespace only: measured on Node 20 (README, Packages), full minification made the agent's RSS
  // 14 MB larger (80 MB, against 66 MB unbundled and 63 MB with whitespace removed only).
  minifyWhitespace: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [split],
};
const entry = readFileSync(join(root, 'bin/clusterdns.js'), 'utf8').replace(/^#!.*\n/, '');
const result = await build({
  ...common,
  stdin: { contents: entry, resolveDir: join(root, 'bin'), sourcefile: 'bin/clusterdns.js', loader: 'js' },
  outfile: join(app, 'clusterdns.js'),
});
if (result.errors.length) process.exit(1);
const inputs = { ...result.metafile.inputs };
for (const [from, to] of SPLIT) {
  const r = await build({ ...common, entryPoints: [join(root, 'dist', from)], outfile: join(app, to) });
  if (r.errors.length) process.exit(1);
  Object.assign(inputs, r.metafile.inputs);
}
for (const [name, to] of LAZY_PACKAGES) {
  const r = await build({ ...common, entryPoints: [createRequire(join(root, 'package.json')).resolve(name)], outfile: join(app, to) });
  if (r.errors.length) process.exit(1);
  Object.assign(inputs, r.metafile.inputs);
}
// Worker threads (dist/<room>/worker.js, from src/<room>/worker.ts): each is bundled beside the CLI
// as <room>-worker.js, where the code that starts it must look when CLUSTERDNS_BUNDLE is true
// (`join(__dirname, '<room>-worker.js')`: in the bundle __dirname is the bundle's folder).
const rooms = readdirSync(join(root, 'dist'), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(root, 'dist', d.name, 'worker.js')));
for (const room of rooms) {
  const w = await build({ ...common, entryPoints: [join(root, 'dist', room.name, 'worker.js')], outfile: join(app, `${room.name}-worker.js`) });
  if (w.errors.length) process.exit(1);
  Object.assign(inputs, w.metafile.inputs);
}
// An answer thread gets its cookie keys as bytes (src/server/cookie-keys.ts): loading node:crypto
// would cost each of them about 1 MB (README, "Threads"). Whatever brings it back fails the build.
const ANSWER_WITHOUT = ['node:crypto', 'crypto'];
const answerRequires = [...readFileSync(join(app, 'answer-worker.js'), 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
const unwanted = answerRequires.filter((r) => ANSWER_WITHOUT.includes(r));
if (unwanted.length) throw new Error(`answer-worker.js loads ${unwanted.join(', ')}: answer threads must not (scripts/package.mjs)`);
mkdirSync(join(app, 'page'));
for (const f of ['index.html', 'page.css', 'page.js']) copyFileSync(join(root, 'dist/api/page', f), join(app, 'page', f));

// What the bundle holds: no dev dependency may be in it, and each package's licence goes into the
// Debian copyright file.
const bundled = new Map();
for (const input of Object.keys(inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m) continue;
  const dir = join(root, input.slice(0, m.index + m[0].length));
  if (!bundled.has(m[1])) {
    const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    bundled.set(m[1], { version: p.version, license: typeof p.license === 'string' ? p.license : (p.license?.type ?? 'see its package') });
  }
}
const dev = Object.keys(pkg.devDependencies ?? {}).filter((d) => bundled.has(d));
if (dev.length) throw new Error(`dev dependencies ended up in the bundle: ${dev.join(', ')}`);

// --- the Debian package -----------------------------------------------------------------------
const deb = join(out, 'deb');
const put = (path, data, mode = 0o644) => {
  const p = join(deb, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
  chmodSync(p, mode);
};
const gz = (text) => gzipSync(Buffer.from(text), { level: 9 });

for (const f of walk(app)) if (lstatSync(f).isFile()) put(join('usr/lib/clusterdns', relative(app, f)), readFileSync(f));
// The shebang's flags are bin/clusterdns.js's (the young generation's cap, gc for collectSoon).
// Linux gives a plain shebang's words after the interpreter as one argument, so with more than one
// flag the line goes through env -S (coreutils 8.30, Debian 10), still naming /usr/bin/node.
put('usr/bin/clusterdns', `#!/usr/bin/env -S /usr/bin/node ${NODE_FLAGS}\n'use strict';\nrequire('/usr/lib/clusterdns/clusterdns.js');\n`, 0o755);
put('lib/systemd/system/clusterdns.service', readFileSync(join(root, 'deploy/clusterdns.service')));
put('etc/clusterdns/cluster.yaml', readFileSync(join(root, 'deploy/cluster.example.yaml')));
// The service compares the conffile with this copy and does not start while they are equal.
put('usr/share/clusterdns/cluster.example.yaml', readFileSync(join(root, 'deploy/cluster.example.yaml')));
put('usr/share/clusterdns/prometheus/clusterdns.rules.yml', readFileSync(join(root, 'deploy/prometheus/clusterdns.rules.yml')));
put('usr/share/clusterdns/grafana/clusterdns.json', readFileSync(join(root, 'deploy/grafana/clusterdns.json')));
put('usr/share/man/man1/clusterdns.1.gz', gz(readFileSync(join(root, 'deploy/debian/clusterdns.1'), 'utf8')));
put('usr/share/doc/clusterdns/README.md.gz', gz(readFileSync(join(root, 'README.md'), 'utf8')));
put('usr/share/doc/clusterdns/changelog.gz', gz(debianChangelog()));
put('usr/share/doc/clusterdns/CHANGELOG.md.gz', gz(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')));
put('usr/share/doc/clusterdns/copyright', copyright());
put('usr/share/lintian/overrides/clusterdns', readFileSync(join(root, 'deploy/debian/lintian-overrides')));

const installedKb = Math.ceil(sizeOf(deb) / 1024);
put('DEBIAN/control', [
  'Package: clusterdns',
  `Version: ${version}`,
  'Architecture: all',
  `Maintainer: ${MAINTAINER}`,
  `Installed-Size: ${installedKb}`,
  // Node 20 is the oldest line the code runs on (README: Node.js lines); adduser makes the service's
  // user; procps has /bin/kill (ExecReload).
  'Depends: nodejs (>= 20), adduser, procps',
  'Section: net',
  'Priority: optional',
  `Homepage: ${HOMEPAGE}`,
  'Description: DNS-based failover for multi-node services',
  ' Every node of a cluster runs an agent that is an authoritative name server for',
  " the cluster's sub-zone. The agents exchange authenticated heartbeats; when the",
  " majority counts a node down, the others answer that node's names with a healthy",
  " node's address, so clients that connect by name reach a live node without a",
  ' load balancer. Includes tools to delegate the zone (Route53, RFC 2136), check',
  ' the delegation, sign the zone with DNSSEC, and a Sentinel-protocol discovery',
  ' service for Redis clients.',
  '',
].join('\n'));
put('DEBIAN/conffiles', '/etc/clusterdns/cluster.yaml\n');
for (const s of ['postinst', 'prerm', 'postrm']) put(`DEBIAN/${s}`, readFileSync(join(root, 'deploy/debian', s)), 0o755);
put('DEBIAN/md5sums', md5sums());
for (const d of walk(deb)) if (lstatSync(d).isDirectory()) chmodSync(d, 0o755);
const debFile = join(out, `clusterdns_${version}_all.deb`);
execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', deb, debFile], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) } });

// --- the npm tarball of the same bundle ---------------------------------------------------------
const npm = join(out, 'npm');
mkdirSync(join(npm, 'bin'), { recursive: true });
cpSync(app, join(npm, 'lib'), { recursive: true });
writeFileSync(join(npm, 'bin/clusterdns.js'), `#!/usr/bin/env -S node ${NODE_FLAGS}\n'use strict';\nrequire('../lib/clusterdns.js');\n`);
chmodSync(join(npm, 'bin/clusterdns.js'), 0o755);
mkdirSync(join(npm, 'deploy'));
for (const f of ['cluster.example.yaml', 'clusterdns.service']) copyFileSync(join(root, 'deploy', f), join(npm, 'deploy', f));
cpSync(join(root, 'deploy/prometheus'), join(npm, 'deploy/prometheus'), { recursive: true });
cpSync(join(root, 'deploy/grafana'), join(npm, 'deploy/grafana'), { recursive: true });
for (const f of ['README.md', 'CHANGELOG.md']) copyFileSync(join(root, f), join(npm, f));
const npmPkg = {
  name: pkg.name,
  version,
  description: pkg.description,
  license: pkg.license,
  homepage: HOMEPAGE,
  bin: { clusterdns: 'bin/clusterdns.js' },
  engines: pkg.engines,
  files: ['bin', 'lib', 'deploy', 'README.md', 'CHANGELOG.md'],
  // Bundled: nothing to install besides Node.js.
  dependencies: {},
};
writeFileSync(join(npm, 'package.json'), `${JSON.stringify(npmPkg, null, 2)}\n`);
execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: npm, stdio: ['ignore', 'ignore', 'inherit'] });
const tgz = join(out, `clusterdns-${version}.tgz`);

const kb = (f) => `${(statSync(f).size / 1024).toFixed(0)} KiB`;
process.stdout.write(
  `bundle      ${relative(root, app)}/: cli.js ${kb(join(app, 'cli.js'))} (${bundled.size} npm packages inside), agent.js ${kb(join(app, 'agent.js'))}, clusterdns.js ${kb(join(app, 'clusterdns.js'))}, metrics.js ${kb(join(app, 'metrics.js'))}, pretty.js ${kb(join(app, 'pretty.js'))}${rooms.map((r) => `, ${r.name}-worker.js ${kb(join(app, `${r.name}-worker.js`))}`).join('')}\n` +
    `deb         ${relative(root, debFile)}  ${kb(debFile)}, installed ${installedKb} KiB\n` +
    `npm         ${relative(root, tgz)}  ${kb(tgz)}\n`,
);

function walk(dir) {
  const all = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) all.push(...walk(p));
    else all.push(p);
  }
  return all;
}

function sizeOf(dir) {
  let total = 0;
  for (const p of walk(dir)) {
    const s = lstatSync(p);
    // Installed-Size counts blocks roughly as dpkg-gencontrol does: each file and directory at least 1 KiB.
    total += s.isDirectory() ? 1024 : Math.max(1024, s.size);
  }
  return total;
}

function md5sums() {
  const lines = [];
  for (const p of walk(deb).sort()) {
    const rel = relative(deb, p);
    if (rel.startsWith('DEBIAN') || !lstatSync(p).isFile()) continue;
    lines.push(`${createHash('md5').update(readFileSync(p)).digest('hex')}  ${rel}`);
  }
  return `${lines.join('\n')}\n`;
}

function debianChangelog() {
  const date = new Date(epoch * 1000).toUTCString().replace(/GMT$/, '+0000');
  return [
    `clusterdns (${version}) unstable; urgency=medium`,
    '',
    `  * Release ${version}: see /usr/share/doc/clusterdns/CHANGELOG.md.gz.`,
    '',
    ` -- ${MAINTAINER}  ${date}`,
    '',
  ].join('\n');
}

function copyright() {
  const list = [...bundled].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => ` ${name} ${p.version} (${p.license})`);
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: clusterdns',
    `Source: ${HOMEPAGE}`,
    '',
    'Files: *',
    `Copyright: 2026 clusterdns contributors`,
    'License: Apache-2.0',
    '',
    'Files: usr/lib/clusterdns/*.js',
    'Copyright: 2026 clusterdns contributors, and the authors of the npm packages they bundle',
    'License: Apache-2.0 and others',
    'Comment: The files bundle these npm packages (name, version, licence as each',
    ' package.json states it); their full texts are in each package on npmjs.com:',
    ...list,
    '',
    'License: Apache-2.0',
    ' On Debian systems, the full text of the Apache License, Version 2.0 is in',
    ' /usr/share/common-licenses/Apache-2.0.',
    '',
    'License: Apache-2.0 and others',
    ' Apache-2.0 for clusterdns itself (see above); the bundled packages are under',
    ' the MIT, ISC, BSD and Apache-2.0 licences as listed in the Comment above.',
    '',
  ].join('\n');
}
