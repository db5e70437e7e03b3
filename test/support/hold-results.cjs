// Test-only preload (NODE_OPTIONS=--require): holds a sweep shard at a chosen point instead of
// racing it. Once the folder $HOLD_RESULTS_DIR has $HOLD_RESULTS_AT cell results (*.json), the next
// result's rename into it never completes and $HOLD_RESULTS_SIGNAL is written: the shard has then
// written exactly that many and is in the middle of the next cell, however loaded the machine is
// (e2e/sweep-shards.spec.ts kills it there). Results are written as a temporary file renamed into
// place (src/cli/sweepPlan.ts writeCellResult), so a held one leaves no result behind.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const dir = process.env.HOLD_RESULTS_DIR;
const at = Number(process.env.HOLD_RESULTS_AT);
const signal = process.env.HOLD_RESULTS_SIGNAL;
if (dir && signal && at > 0) {
  const rename = fsp.rename;
  fsp.rename = function (from, to) {
    const target = String(to);
    if (target.endsWith('.json') && path.resolve(path.dirname(target)) === path.resolve(dir)) {
      const done = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).length;
      if (done >= at) {
        fs.writeFileSync(signal, String(process.pid));
        return new Promise(() => {}); // held until the process is killed
      }
    }
    return rename.call(this, from, to);
  };
  // ES modules bind `import { rename } from 'node:fs/promises'` to the builtin's export: update it.
  require('node:module').syncBuiltinESMExports();
}
