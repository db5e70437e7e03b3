// Test-only preload (node --require): at exit, writes the process's peak resident memory (bytes)
// and CPU time (ms) as JSON to $PEAK_RSS_FILE, so a test can bound what a CLI spent on a hostile
// input. CPU time, unlike wall time, does not depend on what else the machine is running.
const fs = require('node:fs');
const file = process.env.PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const u = process.resourceUsage();
      fs.writeFileSync(file, JSON.stringify({ peakBytes: u.maxRSS * 1024, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 }));
    } catch {
      /* the test reports the missing numbers */
    }
  });
}
