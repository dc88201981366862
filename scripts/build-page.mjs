// Builds the status page into dist/api/page/: type-checks and emits the browser script
// (src/api/page/tsconfig.json: DOM, no Node) and copies the HTML and CSS beside it. The API server
// serves that folder (src/api/assets.ts); `npm run build` runs this after the Node build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/api/page');
const out = join(root, 'dist/api/page');

const parsed = ts.getParsedCommandLineOfConfigFile(join(src, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail });
if (!parsed) throw new Error('cannot read src/api/page/tsconfig.json');
// rootDir src/api (page.ts imports ../status-types.ts), outDir dist/api: page.ts lands in dist/api/page/.
const program = ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: false, rootDir: dirname(src), outDir: dirname(out) });
const page = program.getSourceFile(join(src, 'page.ts'));
// Only page.ts is emitted: the status types it imports are types, gone after the check.
const result = program.emit(page);
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
if (diagnostics.length) fail(...diagnostics);

mkdirSync(out, { recursive: true });
for (const f of ['index.html', 'page.css']) copyFileSync(join(src, f), join(out, f));

function fail(...diagnostics) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
