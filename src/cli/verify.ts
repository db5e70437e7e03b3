/**
 * npm run verify -- --weights <checkpoint> --golden <golden.safetensors> [--backend wasm|cpu|webgpu]
 *                   [--kernels lab|stock] [--tol <tolerance>]
 *
 * Compares every tensor in a golden file with the engine and prints one line per tensor; the
 * last line is the verdict, and the exit code is 0 only on PASS.
 */
import path from 'node:path';
import { clip, quoted } from '../domain/errors';
import { formatReport, verifyGolden } from '../verify/golden';
import { loadCheckpointFromPath, readPathSource } from '../weights/node';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import { kernelsFor, KERNEL_CHOICES } from '../kernels';
import { labKernelCalls } from '../kernels/webgpu';
import { enumArg, numArg, parseArgs, runMain, THREADS_USAGE, threadsArg, usageError } from './args';
import { backendArg, startBackend } from './backend';

const USAGE = `usage: npm run verify -- --weights <checkpoint> --golden <golden.safetensors> [--backend wasm|cpu|webgpu] [--kernels lab|stock] [--tol <tolerance>] [--threads N]

  --weights   a checkpoint in any supported layout (.safetensors: hub ViTModel or timm; .npz: Google)
  --golden    reference outputs made by transformers/timm/PyTorch (see test/fixtures/README.md)
  --backend   tfjs backend in Node: wasm (default), cpu, or webgpu (a GPU through Dawn and Vulkan;
              without a Vulkan driver, Chromium's software one when it is installed)
  --kernels   lab (default: the engine's own kernels for the backend) or stock (plain tfjs ops,
              for comparison)
  --tol       override the tolerance (default, as test/fixtures/README.md says: 1e-4 on cpu and
              wasm, 1e-3 on webgpu)
${THREADS_USAGE}`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['weights', 'golden', 'backend', 'tol', 'kernels', 'threads'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  const weights = args.values.get('weights');
  const golden = args.values.get('golden');
  if (!weights || !golden) throw usageError('--weights and --golden are required.');
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const backend = backendArg(args);
  const kernels = enumArg(args, 'kernels', KERNEL_CHOICES, 'lab');
  const tol = numArg(args, 'tol', { positive: true });
  const threads = threadsArg(args);
  // Inputs are read before the backend starts: a bad file is named without waiting for a GPU.
  const ckpt = await loadCheckpointFromPath(weights);
  const goldenTensors = readAll(parseSafetensors(await readPathSource(golden), path.basename(golden)));
  const started = await startBackend(backend, { kernels, threads });
  console.log(
    `verify: ${clip(weights, 300)} (${ckpt.layout} layout, ${ckpt.config.numLayers} layers, D=${ckpt.config.hiddenSize}) against ${clip(golden, 300)} on ${started.label}, ${kernels === 'lab' ? "the lab's kernels" : 'stock tfjs kernels'}`,
  );
  const report = await verifyGolden(ckpt, goldenTensors, tol, kernelsFor(started.name, kernels));
  const lines = formatReport(report);
  if (started.name === 'webgpu' && kernels === 'lab') {
    // Proof that the lab's shaders ran (each falls back to stock tfjs where it does not apply).
    const c = labKernelCalls;
    lines.splice(-1, 0, `lab WebGPU kernel calls: matmul ${c.matmul}, attention ${c.attention}, LayerNorm ${c.layerNorm}, GELU ${c.gelu}`);
  }
  for (const line of lines) console.log(line);
  return report.pass ? 0 : 1;
}, USAGE);
