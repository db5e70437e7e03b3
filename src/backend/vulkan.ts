/**
 * Where Dawn (Chrome's WebGPU, the npm `webgpu` package) will find Vulkan on Linux: the loader
 * (`libvulkan.so.1`) and the drivers it enumerates (ICD manifests). Read from the filesystem and
 * the environment only, so it runs before Dawn loads and can say what is missing.
 *
 * When no driver is installed, Chromium's own software Vulkan driver (SwiftShader, shipped with
 * Debian's `chromium` package and with Chrome, next to its own loader) lets WebGPU run anyway:
 * slowly (30-100x WASM), but the same shaders, which is what correctness checks and CI need. The
 * loader is found through LD_LIBRARY_PATH, which the dynamic linker reads only when a process
 * starts: a process that needs it is started again with `withSoftwareVulkan(env)`.
 *
 * Installed drivers are no promise of an adapter: Mesa's lavapipe, Intel and Radeon drivers (Debian
 * installs them with libvulkan1) give none on a machine without their GPU, and lavapipe lacks
 * features Dawn requires. So the files decide only the first try; when Dawn then finds no adapter,
 * `afterNoAdapter` gives SwiftShader's environment for a second one (the CLIs: src/cli/backend.ts;
 * tests, which must not load Dawn themselves: `resolveDawnEnvironment`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Chromium's and Chrome's SwiftShader Vulkan driver manifests, each beside a Vulkan loader. */
export const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** Set in a process started by `withSoftwareVulkan`, so it is never started a third time. */
export const SOFTWARE_VULKAN_MARK = 'LAB_SOFTWARE_VULKAN';

export interface VulkanSetup {
  /** Path of the Vulkan loader the process would load, or null (the driver can never load). */
  loader: string | null;
  /** Driver manifests the loader would enumerate (from VK_ICD_FILENAMES / VK_DRIVER_FILES, else the search path). */
  drivers: string[];
  /** Whether the drivers come from VK_ICD_FILENAMES / VK_DRIVER_FILES (the user chose them). */
  driversFromEnv: boolean;
  /** SwiftShader's manifest, when Chromium or Chrome ships one here. */
  swiftshader: string | null;
}

type Env = Record<string, string | undefined>;

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/lib64',
  '/usr/lib',
  '/lib',
  '/usr/local/lib',
];

const splitPaths = (s: string | undefined) => (s ?? '').split(':').filter(Boolean);

function findLoader(env: Env): string | null {
  for (const dir of [...splitPaths(env.LD_LIBRARY_PATH), ...LIB_DIRS]) {
    const p = path.join(dir, 'libvulkan.so.1');
    if (existsSync(p)) return p;
  }
  // A loader in a directory only the linker cache knows (ldconfig): the cache stores the name.
  try {
    if (readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1')) return 'libvulkan.so.1 (ld.so.cache)';
  } catch {
    /* no cache */
  }
  return null;
}

/** The Vulkan loader's own search order for driver manifests (Linux). */
function driverDirs(env: Env): string[] {
  const config = splitPaths(env.XDG_CONFIG_DIRS || '/etc/xdg');
  const data = splitPaths(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share');
  const home = env.XDG_DATA_HOME || path.join(env.HOME || os.homedir(), '.local/share');
  return [...config, '/etc', home, ...data].map((d) => path.join(d, 'vulkan', 'icd.d'));
}

export function findVulkan(env: Env = process.env, swiftshaderCandidates: readonly string[] = SWIFTSHADER_ICDS): VulkanSetup {
  const fromEnv = splitPaths(env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES);
  const drivers = fromEnv.length
    ? fromEnv.filter((f) => existsSync(f))
    : driverDirs(env).flatMap((dir) => {
        try {
          return readdirSync(dir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => path.join(dir, f));
        } catch {
          return [];
        }
      });
  return { loader: findLoader(env), drivers, driversFromEnv: fromEnv.length > 0, swiftshader: swiftshaderCandidates.find((f) => existsSync(f)) ?? null };
}

/** Whether Dawn can find both a loader and a driver in this environment. */
export function vulkanReady(setup: VulkanSetup): boolean {
  return setup.loader !== null && setup.drivers.length > 0;
}

/**
 * The environment with SwiftShader as the only driver and its loader first on the library path,
 * or null when there is no SwiftShader here.
 */
export function withSoftwareVulkan(env: Env, setup: VulkanSetup = findVulkan(env)): Env | null {
  if (!setup.swiftshader) return null;
  const dir = path.dirname(setup.swiftshader);
  return {
    ...env,
    VK_ICD_FILENAMES: setup.swiftshader,
    VK_DRIVER_FILES: setup.swiftshader,
    LD_LIBRARY_PATH: [dir, ...splitPaths(env.LD_LIBRARY_PATH)].join(':'),
    [SOFTWARE_VULKAN_MARK]: '1',
  };
}

/**
 * The environment Dawn should run with: this one when it has a loader and a driver (or the user
 * named the drivers), else SwiftShader's when there is one. `software` says which.
 */
export function dawnEnvironment(env: Env = process.env, setup: VulkanSetup = findVulkan(env)): { env: Env; software: boolean; setup: VulkanSetup } {
  if (vulkanReady(setup) || setup.driversFromEnv || env[SOFTWARE_VULKAN_MARK]) return { env, software: false, setup };
  const sw = withSoftwareVulkan(env, setup);
  return sw ? { env: sw, software: true, setup } : { env, software: false, setup };
}

/**
 * Dawn found no adapter in `env`: SwiftShader's environment for a second try, or null when there is
 * none to try: this process already runs on it (never a third start), the user named a driver path
 * that does not exist (the error says so; a typo is not silently replaced), or there is no
 * SwiftShader here. Drivers that exist but give no adapter, installed or named, do fall back:
 * on a machine without their GPU that is all they can do.
 */
export function afterNoAdapter(env: Env, setup: VulkanSetup = findVulkan(env)): Env | null {
  if (env[SOFTWARE_VULKAN_MARK]) return null;
  if (setup.driversFromEnv && !setup.drivers.length) return null;
  return withSoftwareVulkan(env, setup);
}

/**
 * Whether Dawn gives an adapter in `env`, asked in a child process (this one never loads Dawn's
 * native module, and the library path counts only from a process's start). False when the child
 * fails or takes longer than `timeoutMs`.
 */
export function dawnHasAdapter(env: Env, timeoutMs = 60_000): Promise<boolean> {
  const webgpu = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  const script = `const d = await import(${JSON.stringify(webgpu)}); Object.assign(globalThis, d.globals);
const a = await d.create([]).requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
process.stdout.write(a ? 'adapter' : 'none'); process.exit(0);`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { env: env as NodeJS.ProcessEnv, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) =>
      resolve(!err && stdout.trim() === 'adapter'),
    );
  });
}

/**
 * The environment in which Dawn gives an adapter, decided as a CLI decides it: the files first
 * (`dawnEnvironment`), then, when Dawn finds no adapter there, SwiftShader's (`afterNoAdapter`).
 * `adapter` is false when neither gives one; `notice` says why SwiftShader was chosen.
 */
export async function resolveDawnEnvironment(
  env: Env = process.env,
  setup: VulkanSetup = findVulkan(env),
): Promise<{ env: Env; software: boolean; adapter: boolean; notice?: string }> {
  const first = dawnEnvironment(env, setup);
  if (await dawnHasAdapter(first.env))
    return { env: first.env, software: first.software, adapter: true, notice: first.software ? softwareNotice(setup) : undefined };
  const second = first.software ? null : afterNoAdapter(env, setup);
  if (!second) return { env: first.env, software: first.software, adapter: false };
  return { env: second, software: true, adapter: await dawnHasAdapter(second), notice: softwareNotice(setup) };
}

/** Why a run goes to SwiftShader, in one line: what is missing or gives no adapter. */
export function softwareNotice(setup: VulkanSetup): string {
  return `webgpu: ${describeVulkanProblem(setup).what}; running again on Chromium's software Vulkan driver (SwiftShader, ${setup.swiftshader}): correct, and 30-100x slower than WASM. Install a Vulkan driver to use a GPU.`;
}

/** What is missing, and what to install, in words (the fix of a "no WebGPU adapter" error). */
export function describeVulkanProblem(setup: VulkanSetup): { what: string; fix: string } {
  const sw = setup.swiftshader ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
  const software = `For a software adapter (slow; checks only): VK_ICD_FILENAMES=${sw} LD_LIBRARY_PATH=${path.dirname(sw)}${setup.swiftshader ? '' : " (from Debian's chromium package)"}.`;
  if (!setup.loader) {
    return {
      what: 'the Vulkan loader (libvulkan.so.1) is not installed, so Dawn cannot reach any GPU driver',
      fix: `Install the Vulkan loader and your GPU's Vulkan driver (Debian/Ubuntu: apt-get install libvulkan1 mesa-vulkan-drivers; NVIDIA: the driver's Vulkan ICD, nvidia_icd.json), or run through the packaged GPU command (bash .gpu/run.sh, see the README). ${software}`,
    };
  }
  if (!setup.drivers.length) {
    return {
      what: `the Vulkan loader is there (${setup.loader}) but no Vulkan driver is${setup.driversFromEnv ? ' at the path VK_ICD_FILENAMES / VK_DRIVER_FILES names' : ' installed (no ICD manifest in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)'}`,
      fix: `Install your GPU's Vulkan driver (Mesa: apt-get install mesa-vulkan-drivers; NVIDIA: the driver's nvidia_icd.json), or point VK_ICD_FILENAMES at a driver's manifest. ${software}`,
    };
  }
  return {
    what: `Vulkan found the driver${setup.drivers.length > 1 ? 's' : ''} ${setup.drivers.join(', ')} but none gave an adapter (a driver without a GPU it can use, or one too old for WebGPU)`,
    fix: `Check the GPU with vulkaninfo (apt-get install vulkan-tools) or nvidia-smi, or set VK_ICD_FILENAMES to the manifest of a driver that works. ${software}`,
  };
}
