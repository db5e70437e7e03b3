/**
 * The `--backend` of every CLI: wasm (default), cpu, or webgpu through Dawn, and the lines that
 * say what a WebGPU run got (the adapter, software or not, the kernels, the memory budget)
 * before any work starts.
 *
 * With no Vulkan driver installed, or none that gives Dawn an adapter (Mesa's drivers on a machine
 * without a GPU), a WebGPU run starts itself again on Chromium's software Vulkan driver
 * (SwiftShader) when this machine has one, and says so: the loader it needs is found through
 * LD_LIBRARY_PATH, which the dynamic linker reads only at a process's start.
 */
import { initNodeBackend, nodeWasmThreading, type NodeBackend } from '../backend/node';
import { afterNoAdapter, dawnEnvironment, softwareNotice } from '../backend/vulkan';
import { describeAdapter, nvidiaMemory, probeDawnAdapter, type AdapterReport } from '../backend/dawn';
import type { KernelChoice } from '../kernels';
import { memoryBudget, setDeviceMemory } from '../train/budget';
import type { MemoryBudget } from '../train/memory';
import { enumArg, numArg, usageError, type ParsedArgs } from './args';
import { runChild } from './processes';
import { selfArgv } from './self';

export const CLI_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type CliBackend = (typeof CLI_BACKENDS)[number];

/**
 * The --backend lines of a CLI's usage text, the description starting at column `width`; with
 * `gpuMemory`, the --gpu-memory option of the commands whose runs the memory planner fits.
 */
export function backendUsage(width: number, o: { gpuMemory?: boolean } = {}): string {
  // The caller indents the first line by two; later lines start at column 0.
  const more = (text: string) => `\n${' '.repeat(width + 2)}${text}`;
  let text =
    `${'--backend <b>'.padEnd(width)}wasm (default), cpu, or webgpu: a GPU through Dawn and Vulkan, or` +
    more(`Chromium's software Vulkan when no driver is installed (README: "WebGPU in Node")`);
  if (o.gpuMemory)
    text +=
      `\n  ${'--gpu-memory GiB'.padEnd(width)}webgpu: the GPU memory a run may use (WebGPU does not report it;` +
      more('default: 90 % of what nvidia-smi reports free, else 2 GiB)');
  return text;
}

export function backendArg(args: ParsedArgs): CliBackend {
  return enumArg(args, 'backend', CLI_BACKENDS, 'wasm');
}

/** --gpu-memory in GiB, as bytes (undefined when absent); a usage error off WebGPU. */
export function gpuMemoryArg(args: ParsedArgs, backend: CliBackend): number | undefined {
  const gib = numArg(args, 'gpu-memory', { positive: true });
  if (gib !== undefined && backend !== 'webgpu') throw usageError(`--gpu-memory is the GPU's memory for --backend webgpu; this run is on ${backend}.`);
  return gib === undefined ? undefined : gib * 2 ** 30;
}

/**
 * The WebGPU device's memory for the planner: --gpu-memory, else 90 % of NVIDIA's free memory
 * (nvidia-smi), else unknown (the planner's default). Returns a note when a hardware GPU's memory
 * is unknown.
 */
function planDeviceMemory(adapter: AdapterReport, given: number | undefined): string | undefined {
  const nv = given === undefined && /nvidia/i.test(adapter.vendor) ? nvidiaMemory() : null;
  if (given !== undefined) setDeviceMemory({ bytes: given, from: '--gpu-memory' });
  else if (nv)
    setDeviceMemory({
      bytes: Math.floor(0.9 * nv.freeBytes),
      from: `nvidia-smi: 90 % of the ${Math.round(nv.freeBytes / 2 ** 20).toLocaleString('en')} MiB free on the ${nv.name}`,
    });
  else setDeviceMemory(undefined);
  if (given !== undefined || nv) return undefined;
  return adapter.software
    ? undefined
    : "webgpu: this GPU's memory is not known (WebGPU does not report it, and there is no nvidia-smi); give --gpu-memory <GiB> to plan runs against it";
}

export interface StartedBackend extends NodeBackend {
  /** WebGPU: what the planner will fit a run into (src/train/budget.ts: the device's limits). */
  budget?: MemoryBudget;
  /** One line for a report header: "webgpu (google swiftshader …, software)". */
  label: string;
}

/**
 * Start `name` for this process. WASM runs `threads` threads (default one per logical core, up to
 * the cap) and prints how many and why; WebGPU prints the adapter, the kernels and the memory
 * budget on stderr. When no Vulkan driver here gives an adapter but SwiftShader is here, the command
 * runs again in a child process with SwiftShader's environment, and this process ends with the
 * child's code.
 */
export async function startBackend(
  name: CliBackend,
  o: { kernels?: KernelChoice | readonly KernelChoice[]; gpuMemoryBytes?: number; threads?: number } = {},
): Promise<StartedBackend> {
  if (name === 'wasm') {
    const started = await initNodeBackend(name, { threads: o.threads ?? 'auto' });
    const threading = nodeWasmThreading();
    if (threading) console.error(threading.reason);
    return { ...started, label: threading ? `wasm (${threading.threads} thread${threading.threads === 1 ? '' : 's'})` : name };
  }
  if (name !== 'webgpu') return { ...(await initNodeBackend(name)), label: name };
  // The first try from the files (no driver installed: SwiftShader at once); then, when Dawn finds
  // no adapter with the drivers there are (Mesa's on a machine without their GPU), SwiftShader.
  const dawn = dawnEnvironment(process.env);
  const again = dawn.software ? dawn.env : (await probeDawnAdapter()) ? null : afterNoAdapter(process.env, dawn.setup);
  if (again) {
    console.error(softwareNotice(dawn.setup));
    const code = await runChild(process.execPath, selfArgv(), { env: again, stdio: 'inherit' });
    process.exit(code);
  }
  const started = await initNodeBackend('webgpu');
  const adapter = started.adapter!;
  const memoryNote = planDeviceMemory(adapter, o.gpuMemoryBytes);
  const budget = memoryBudget(); // the budget the trainer's memory plan uses, from the device tfjs opened
  console.error(`webgpu: Dawn on ${describeAdapter(adapter)}`);
  const kernels = new Set(typeof o.kernels === 'string' ? [o.kernels] : (o.kernels ?? ['lab']));
  const lab = "the lab's WebGPU kernels (matmul, attention, LayerNorm, GELU)";
  console.error(
    `webgpu: ${kernels.size > 1 ? `${lab} and stock tfjs ops, case by case` : kernels.has('stock') ? 'stock tfjs kernels (--kernels stock)' : lab}`,
  );
  console.error(`webgpu: memory budget ${budget.source}`);
  if (memoryNote) console.error(memoryNote);
  return { ...started, budget, label: `webgpu (${adapter.vendor} ${adapter.architecture}${adapter.software ? ', software' : ''})` };
}
