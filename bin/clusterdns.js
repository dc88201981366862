#!/usr/bin/env node
'use strict';
require('../dist/cli/main.js').main(process.argv).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { process.stderr.write(`clusterdns: internal error: ${err && err.stack || err}\n`); process.exitCode = 70; },
);
