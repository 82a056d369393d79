// Fails when the dashboard's JavaScript and CSS, as transferred (gzip -9, what the gateway
// serves with Content-Encoding: gzip), exceed the budget (docs/dashboard.md: 100 KB).
//
//   node tests/web/size_budget.mjs WEB_ROOT [BUDGET_BYTES]
//
// Also checks that each .gz twin the gateway would serve decompresses to its file (a stale twin
// would serve an old bundle). Exit 0 within budget, 1 over it or on a bad bundle.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [root, budgetArg] = process.argv.slice(2);
if (!root) {
  console.error('usage: size_budget.mjs WEB_ROOT [BUDGET_BYTES]');
  process.exit(2);
}
const budget = Number(budgetArg ?? 100 * 1000);
const files = fs.readdirSync(root).filter((f) => /\.(js|css)$/.test(f));
let total = 0;
let bad = false;
if (!files.some((f) => f.endsWith('.js')) || !files.some((f) => f.endsWith('.css'))) {
  console.error(`size_budget: no JS or CSS in ${root}`);
  bad = true;
}
for (const f of files) {
  const raw = fs.readFileSync(path.join(root, f));
  const gzPath = path.join(root, `${f}.gz`);
  let served;
  if (fs.existsSync(gzPath)) {
    served = fs.readFileSync(gzPath);
    if (!zlib.gunzipSync(served).equals(raw)) {
      console.error(`size_budget: ${f}.gz does not decompress to ${f}`);
      bad = true;
    }
  } else {
    served = zlib.gzipSync(raw, { level: 9 }); // served uncompressed: count it as if compressed
    console.error(`size_budget: ${f} has no .gz twin`);
    bad = true;
  }
  total += served.length;
  console.log(`${f}: ${raw.length} B, ${served.length} B gzipped`);
}
console.log(`total JS+CSS transferred: ${total} B gzipped (budget ${budget} B)`);
if (total > budget) {
  console.error(`size_budget: over budget by ${total - budget} B`);
  bad = true;
}
process.exit(bad ? 1 : 0);
