/**
 * Where Dawn finds Vulkan, on made-up filesystems: the loader on LD_LIBRARY_PATH, driver manifests
 * on the loader's search path or named by VK_ICD_FILENAMES, and Chromium's SwiftShader as the
 * fallback when no driver is installed, or when the drivers there are give Dawn no adapter (a
 * made-up driver list, asked of Dawn itself in a child process).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  afterNoAdapter,
  dawnEnvironment,
  describeVulkanProblem,
  findVulkan,
  resolveDawnEnvironment,
  SOFTWARE_VULKAN_MARK,
  SWIFTSHADER_ICDS,
  vulkanReady,
  withSoftwareVulkan,
} from './vulkan';

const root = mkdtempSync(join(tmpdir(), 'vulkan-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (p: string, text = '') => {
  mkdirSync(join(root, p, '..'), { recursive: true });
  writeFileSync(join(root, p), text);
  return join(root, p);
};
const loaderDir = join(root, 'lib');
file('lib/libvulkan.so.1');
const nvidia = file('share/vulkan/icd.d/nvidia_icd.json', '{}');
const swiftshader = file('chromium/vk_swiftshader_icd.json', '{}');
file('chromium/libvulkan.so.1');
/** An environment that sees only what is under `root` (XDG dirs point inside it)... */
const env = (extra: Record<string, string> = {}) => ({
  HOME: join(root, 'home'),
  XDG_CONFIG_DIRS: join(root, 'etc'),
  XDG_DATA_DIRS: join(root, 'empty'),
  ...extra,
});
/** ...except /etc/vulkan/icd.d, which the loader always searches: this machine's drivers are left out. */
const find = (e: Record<string, string>, swiftshaders: string[]) => {
  const setup = findVulkan(e, swiftshaders);
  return { ...setup, drivers: setup.driversFromEnv ? setup.drivers : setup.drivers.filter((d) => d.startsWith(root)) };
};

describe('findVulkan and dawnEnvironment', () => {
  it('a loader and an installed driver: ready, and the environment is left alone', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir, XDG_DATA_DIRS: join(root, 'share') });
    const setup = find(e, [swiftshader]);
    expect(setup.loader).toBe(join(loaderDir, 'libvulkan.so.1'));
    expect(setup.drivers).toEqual([nvidia]);
    expect(vulkanReady(setup)).toBe(true);
    const d = dawnEnvironment(e, setup);
    expect(d.software).toBe(false);
    expect(d.env).toBe(e);
  });

  it('no driver installed: SwiftShader, its loader first on the library path, marked', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir });
    const setup = find(e, [join(root, 'absent.json'), swiftshader]);
    expect(setup.drivers).toEqual([]);
    expect(setup.swiftshader).toBe(swiftshader);
    const d = dawnEnvironment(e, setup);
    expect(d.software).toBe(true);
    expect(d.env.VK_ICD_FILENAMES).toBe(swiftshader);
    expect(d.env.LD_LIBRARY_PATH).toBe(`${join(root, 'chromium')}:${loaderDir}`);
    expect(d.env[SOFTWARE_VULKAN_MARK]).toBe('1');
    // The restarted process is ready as it is: it is never restarted again.
    expect(dawnEnvironment(d.env, find(d.env as Record<string, string>, [swiftshader])).software).toBe(false);
  });

  it('drivers the user names are used as named, even a missing one (the error then says so)', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir, VK_ICD_FILENAMES: join(root, 'none.json') });
    const setup = findVulkan(e, [swiftshader]);
    expect(setup.driversFromEnv).toBe(true);
    expect(setup.drivers).toEqual([]);
    expect(dawnEnvironment(e, setup).software).toBe(false);
    expect(describeVulkanProblem(setup).what).toContain('VK_ICD_FILENAMES');
  });

  it('no SwiftShader: no fallback', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir });
    const setup = find(e, [join(root, 'absent.json')]);
    expect(withSoftwareVulkan(e, setup)).toBeNull();
    expect(dawnEnvironment(e, setup)).toMatchObject({ software: false, env: e });
  });
});

describe('afterNoAdapter: a second try on SwiftShader when the drivers give no adapter', () => {
  it('installed drivers (Mesa without a GPU): SwiftShader, marked', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir, XDG_DATA_DIRS: join(root, 'share') });
    const setup = find(e, [swiftshader]);
    expect(vulkanReady(setup)).toBe(true); // the files alone say "ready"
    const sw = afterNoAdapter(e, setup);
    expect(sw?.VK_ICD_FILENAMES).toBe(swiftshader);
    expect(sw?.[SOFTWARE_VULKAN_MARK]).toBe('1');
  });

  it('drivers the user named that exist: SwiftShader too; a named path that does not exist: no second try', () => {
    const named = env({ LD_LIBRARY_PATH: loaderDir, VK_ICD_FILENAMES: nvidia });
    expect(afterNoAdapter(named, findVulkan(named, [swiftshader]))?.VK_ICD_FILENAMES).toBe(swiftshader);
    const typo = env({ LD_LIBRARY_PATH: loaderDir, VK_ICD_FILENAMES: join(root, 'none.json') });
    expect(afterNoAdapter(typo, findVulkan(typo, [swiftshader]))).toBeNull();
  });

  it('never a third start, and nothing without SwiftShader', () => {
    const e = env({ LD_LIBRARY_PATH: loaderDir, XDG_DATA_DIRS: join(root, 'share') });
    expect(afterNoAdapter({ ...e, [SOFTWARE_VULKAN_MARK]: '1' }, find(e, [swiftshader]))).toBeNull();
    expect(afterNoAdapter(e, find(e, [join(root, 'absent.json')]))).toBeNull();
  });
});

describe('resolveDawnEnvironment: Dawn asked in a child process, with a driver list that gives no adapter', () => {
  // A manifest whose library is not there: the loader enumerates the driver and gets no device.
  const fake = file(
    'fake/fake_icd.json',
    JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: join(root, 'fake/libnone.so'), api_version: '1.3.0' } }),
  );
  const e = { ...process.env, VK_ICD_FILENAMES: fake, VK_DRIVER_FILES: fake } as Record<string, string>;
  const here = SWIFTSHADER_ICDS.find((f) => existsSync(f));

  it('without SwiftShader: no adapter, the environment left as it was', { timeout: 60_000 }, async () => {
    const r = await resolveDawnEnvironment(e, { ...findVulkan(e), swiftshader: null });
    expect(r).toMatchObject({ adapter: false, software: false, env: e });
  });

  it("with Chromium's SwiftShader: its environment, an adapter, and a notice naming the driver that gave none", { timeout: 60_000 }, async (ctx) => {
    ctx.skip(!here, "no Chromium SwiftShader here (Debian's chromium package)");
    // Chromium's loader, as if libvulkan1 were installed: it reads the list and finds no device.
    const withLoader = { ...e, LD_LIBRARY_PATH: dirname(here!) };
    const r = await resolveDawnEnvironment(withLoader);
    expect(r.adapter).toBe(true);
    expect(r.software).toBe(true);
    expect(r.env.VK_ICD_FILENAMES).toBe(here);
    expect(r.notice).toContain(`Vulkan found the driver ${fake} but none gave an adapter`);
    expect(r.notice).toContain('running again on Chromium');
  });
});

describe('describeVulkanProblem: what is missing and what to install', () => {
  const base = { drivers: [], driversFromEnv: false, swiftshader: null };
  it('no loader', () => {
    const p = describeVulkanProblem({ ...base, loader: null });
    expect(p.what).toContain('libvulkan.so.1');
    expect(p.fix).toContain('apt-get install libvulkan1');
    expect(p.fix).toContain('VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json');
  });
  it('a loader, no driver', () => {
    const p = describeVulkanProblem({ ...base, loader: '/usr/lib/libvulkan.so.1' });
    expect(p.what).toContain('no Vulkan driver is installed');
    expect(p.fix).toContain('mesa-vulkan-drivers');
  });
  it('a driver that gives no adapter', () => {
    const p = describeVulkanProblem({
      ...base,
      loader: '/usr/lib/libvulkan.so.1',
      drivers: ['/etc/vulkan/icd.d/nvidia_icd.json'],
      swiftshader: '/opt/google/chrome/vk_swiftshader_icd.json',
    });
    expect(p.what).toContain('nvidia_icd.json');
    expect(p.fix).toContain('vulkaninfo');
    expect(p.fix).toContain('LD_LIBRARY_PATH=/opt/google/chrome');
  });
});
