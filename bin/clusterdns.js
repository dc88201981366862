#!/usr/bin/env -S node --max-semi-space-size=2 --no-short-builtin-calls --expose-gc
'use strict';
// The shebang's flags, which scripts/package.mjs copies into the installed commands:
// --max-semi-space-size=2 caps V8's young generation (2 MB semi-spaces): under a flood of queries
// the default lets it grow to 32 MB for no gain in speed (bench/README.md). --no-short-builtin-calls
// keeps V8 from copying its built-in code (1.5-2.5 MB of file pages) into every isolate: the main
// thread, the detector and each answer thread (README, "Threads": 1.7 MB less on Node 20; each
// answer thread past the second costs 11 MB instead of 16-18 on Node 24). `node bin/clusterdns.js`
// runs without them; the installed command and deploy/clusterdns.service run with them.
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
