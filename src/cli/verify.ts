/**
 * npm run verify -- --weights <checkpoint> --golden <golden.safetensors> [--backend cpu|wasm]
 *
 * Compares every tensor in a golden file with the engine and prints one line per tensor; the
 * last line is the verdict, and the exit code is 0 only on PASS.
 */
import { initNodeBackend } from '../backend/node';
import path from 'node:path';
import { quoted } from '../domain/errors';
import { formatReport, verifyGolden } from '../verify/golden';
import { loadCheckpointFromPath, readPathSource } from '../weights/node';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import { enumArg, numArg, parseArgs, runMain, usageError } from './args';

const USAGE = `usage: npm run verify -- --weights <checkpoint> --golden <golden.safetensors> [--backend cpu|wasm] [--tol <tolerance>]

  --weights   a checkpoint in any supported layout (.safetensors: hub ViTModel or timm; .npz: Google)
  --golden    reference outputs made by transformers/timm/PyTorch (see test/fixtures/README.md)
  --backend   tfjs backend in Node: wasm (default) or cpu
  --tol       override the tolerance (default: 1e-4 on cpu/wasm, as the fixtures README says)`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['weights', 'golden', 'backend', 'tol'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  const weights = args.values.get('weights');
  const golden = args.values.get('golden');
  if (!weights || !golden) throw usageError('--weights and --golden are required.');
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const backend = enumArg(args, 'backend', ['wasm', 'cpu'] as const, 'wasm');
  const tol = numArg(args, 'tol', { positive: true });
  await initNodeBackend(backend);
  const ckpt = await loadCheckpointFromPath(weights);
  const goldenTensors = readAll(parseSafetensors(await readPathSource(golden), path.basename(golden)));
  console.log(`verify: ${weights} (${ckpt.layout} layout, ${ckpt.config.numLayers} layers, D=${ckpt.config.hiddenSize}) against ${golden} on ${backend}`);
  const report = await verifyGolden(ckpt, goldenTensors, tol);
  for (const line of formatReport(report)) console.log(line);
  return report.pass ? 0 : 1;
}, USAGE);
