// Builds the dashboard (web/dashboard/) into static assets that edgewatchd serves (--web-root):
//   node web/build.mjs --out DIR
// esbuild bundles and minifies dashboard/main.js (with uPlot and edgewatch-client.js) into
// main-<hash>.js and main-<hash>.css, index.html gets their names, and every file gets a
// precompressed .gz twin (gzip -9) for `Content-Encoding: gzip`. Hashed names can be cached
// forever; index.html cannot. Prints the gzipped sizes (the budget is checked by
// tests/web/size_budget.mjs). Needs web/node_modules (scripts/js-deps.sh).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args[args.indexOf('--out') + 1];
if (args.indexOf('--out') < 0 || !outArg) {
  console.error('usage: node web/build.mjs --out DIR');
  process.exit(2);
}
const out = path.resolve(outArg);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  console.error(`web/build.mjs: esbuild is missing: run scripts/js-deps.sh (${err.message})`);
  process.exit(1);
}

// Build into a fresh staging directory, then swap it in: a daemon reading `out` never sees a
// half-written bundle, and stale hashed files do not accumulate.
const stage = `${out}.tmp-${process.pid}`;
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

const result = await esbuild.build({
  entryPoints: [path.join(here, 'dashboard/main.js')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome90', 'safari15', 'firefox90'],
  outdir: stage,
  entryNames: '[name]-[hash]',
  legalComments: 'eof', // uPlot's MIT notice stays with the code
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`unexpected esbuild outputs: ${outputs.join(', ')}`);
const html = fs
  .readFileSync(path.join(here, 'dashboard/index.html'), 'utf8')
  .replace('%JS%', `/${js}`)
  .replace('%CSS%', `/${css}`);
fs.writeFileSync(path.join(stage, 'index.html'), html);

const sizes = [];
for (const name of fs.readdirSync(stage)) {
  const raw = fs.readFileSync(path.join(stage, name));
  const gz = zlib.gzipSync(raw, { level: 9 });
  fs.writeFileSync(path.join(stage, `${name}.gz`), gz);
  sizes.push(`${name} ${raw.length} B, gzip ${gz.length} B`);
}

fs.rmSync(out, { recursive: true, force: true });
fs.renameSync(stage, out);
console.log(`dashboard -> ${out}\n  ${sizes.join('\n  ')}`);
