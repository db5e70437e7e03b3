// Test-only preload (node --require): at exit, writes the native addons (*.node) mapped into the
// process, one path a line, to $NATIVE_MODULES_FILE, so a test can prove a WASM run never loaded
// Dawn (dawn.node from the npm package `webgpu`). Linux only (/proc/self/maps).
const fs = require('node:fs');
const file = process.env.NATIVE_MODULES_FILE;
if (file) {
  process.on('exit', () => {
    try {
      const maps = fs.readFileSync('/proc/self/maps', 'utf8');
      const addons = new Set(
        maps
          .split('\n')
          .map((l) => l.split(/\s+/).slice(5).join(' '))
          .filter((p) => p.endsWith('.node')),
      );
      fs.writeFileSync(file, [...addons].join('\n'));
    } catch {
      /* the test reports the missing file */
    }
  });
}
