// Runs a HealthMonitor from the TypeScript sources in a process of its own, stops it after
// argv[3] ms, and then does nothing more: the process exits only if stop() left no handle behind.
const { readFileSync } = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(out.outputText, filename);
};

const { HealthMonitor } = require('../../src/health/monitor.ts');
const monitor = new HealthMonitor({ config: JSON.parse(process.argv[2]), self: 'node1' });
monitor.on('result', (r) => process.stdout.write(`result ${JSON.stringify(r)}\n`));
monitor.start();
setTimeout(() => {
  monitor.stop();
  process.stdout.write('stopped\n');
}, Number(process.argv[3]));
