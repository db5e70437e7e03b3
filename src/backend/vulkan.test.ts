/**
 * Where Dawn finds Vulkan, on made-up filesystems: the loader on LD_LIBRARY_PATH, driver manifests
 * on the loader's search path or named by VK_ICD_FILENAMES, and Chromium's SwiftShader as the
 * fallback only when no driver is installed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dawnEnvironment, describeVulkanProblem, findVulkan, SOFTWARE_VULKAN_MARK, vulkanReady, withSoftwareVulkan } from './vulkan';

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
