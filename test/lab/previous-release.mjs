// The previous release, built for the lab's `upgrade` scenario: the commit test/lab/previous-release.txt
// names, taken from git (`git archive`, so the work tree is never touched), installed with `npm ci`
// (the npm cache serves what an earlier build fetched) and built with its own `npm run build`. The
// build is kept in .previous-release/<commit>/ (gitignored) and reused by later runs.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './netlab.mjs';

export const RECORD = join(REPO, 'test/lab/previous-release.txt');
const CACHE = join(REPO, '.previous-release');
/** Bounds each step: a hung npm fails the lab's beforeAll with the step's name, never hangs it. */
const STEP_TIMEOUT_MS = 600_000;

/** The recorded commit: the first line of the record that is not a comment (40 hex digits). */
export function previousCommit(text = readFileSync(RECORD, 'utf8')) {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  if (!line || !/^[0-9a-f]{40}$/.test(line)) throw new Error(`${RECORD}: expected a full commit hash (40 hex digits) on its first line that is not a comment, found ${JSON.stringify(line ?? '')}`);
  return line;
}

/** Runs a command to completion, asynchronously (the lab's poller output keeps being read meanwhile). */
const run = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, ...opts }, (e, stdout, stderr) => {
      if (!e) return resolve(stdout);
      const out = `${stdout ?? ''}${stderr ?? ''}`.slice(-3000);
      reject(new Error(`${cmd} ${args.join(' ')} failed${e.signal ? ` (${e.signal})` : ''}:\n${out}`));
    });
  });

/** Makes sure the commit is in the repository; a shallow clone fetches it from origin. */
async function ensureCommit(commit) {
  try {
    await run('git', ['-C', REPO, 'cat-file', '-e', `${commit}^{commit}`]);
    return;
  } catch {
    // not here: a shallow clone
  }
  try {
    await run('git', ['-C', REPO, 'fetch', '--quiet', '--depth=1', 'origin', commit]);
  } catch (e) {
    throw new Error(`the previous release ${commit} (test/lab/previous-release.txt) is not in this clone and could not be fetched from origin — clone with history (git fetch --unshallow): ${e.message}`);
  }
}

let building;

/**
 * The previous release, built: { commit, dir, cli (its bin/clusterdns.js), version (its package.json),
 * builtMs (0 when the cache served it) }. One build per process: a caller that comes while it runs
 * (the next step, after a test timed out waiting) waits for the same one.
 */
export function previousRelease(opts) {
  building ??= build(opts).finally(() => {
    building = undefined;
  });
  return building;
}

async function build({ log = () => undefined } = {}) {
  const commit = previousCommit();
  const dir = join(CACHE, commit);
  const done = join(dir, '.built');
  const result = (builtMs) => ({ commit, dir, cli: join(dir, 'bin/clusterdns.js'), version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version, builtMs });
  if (existsSync(done) && existsSync(join(dir, 'dist/cli/main.js'))) return result(0);
  const t = Date.now();
  await ensureCommit(commit);
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    log(`previous release ${commit.slice(0, 7)}: git archive, npm ci, npm run build in ${tmp}`);
    const tar = `${tmp}.tar`;
    await run('git', ['-C', REPO, 'archive', '--format=tar', '-o', tar, commit]);
    await run('tar', ['-x', '-f', tar, '-C', tmp]).finally(() => rmSync(tar, { force: true }));
    // --ignore-scripts: its `prepare` would build before the dev dependencies are all in place on
    // some npm versions; the build is the next step, explicitly.
    await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: tmp });
    await run('npm', ['run', 'build'], { cwd: tmp });
    if (!existsSync(join(tmp, 'dist/cli/main.js'))) throw new Error(`npm run build of ${commit} made no dist/cli/main.js`);
    writeFileSync(join(tmp, '.built'), `${new Date().toISOString()}\n`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another run built it meanwhile: use that one.
      if (!existsSync(done)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const builtMs = Date.now() - t;
  log(`previous release ${commit.slice(0, 7)} built in ${(builtMs / 1000).toFixed(1)} s`);
  return result(builtMs);
}
