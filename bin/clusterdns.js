#!/usr/bin/env -S node --max-semi-space-size=2 --expose-gc
'use strict';
// The shebang's flags, which scripts/package.mjs copies into the installed commands:
// --max-semi-space-size=2 caps V8's young generation (2 MB semi-spaces): under a flood of queries
// the default lets it grow to 32 MB for no gain in speed (bench/README.md). --expose-gc lets each
// thread of the agent collect once after it started or reloaded (src/threads/collect.ts: about
// 1 MB at rest). `node bin/clusterdns.js` runs without them; the installed command and
// deploy/clusterdns.service run with them.
// SIGHUP would end the agent while the rest loads (a few hundred ms): src/cli/hangup.ts holds it.
// The agent, which runs for months, loads its own entry with only its command's code
// (src/cli/agent-main.ts); every other command loads the whole CLI.
const agent = process.argv[2] === 'agent';
if (agent) require('../dist/cli/hangup.js').catchHangups();
const cli = agent ? require('../dist/cli/agent-main.js') : require('../dist/cli/main.js');
cli.main(process.argv).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`clusterdns: internal error: ${err && err.stack || err}\n`); process.exitCode = 70; },
);
