// Test-only preload (node --require): at exit, writes the process's peak resident memory in bytes
// to $PEAK_RSS_FILE, so a test can bound what a CLI spent on a hostile input.
const fs = require('node:fs');
const file = process.env.PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
    } catch {
      /* the test reports the missing number */
    }
  });
}
