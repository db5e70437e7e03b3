import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/backend/node';
import { geluFused, registerFused } from '../src/kernels/wasm/fused';
import { splitCalls } from '../src/kernels/wasm/pool';
async function main(threads: number) {
  await initNodeBackend('wasm', { threads });
  registerFused();
  const x = tf.randomNormal([1576, 768]);
  for (let i = 0; i < 50; i++) { const y = geluFused(x); y.dataSync(); y.dispose(); await new Promise(r => setTimeout(r, 5)); }
  const t0 = performance.now(); for (let i = 0; i < 20; i++) geluFused(x).dispose();
  console.log(threads, 'splits', splitCalls(), 'ms/call', ((performance.now() - t0) / 20).toFixed(2));
  process.exit(0);
}
void main(Number(process.argv[2]));
