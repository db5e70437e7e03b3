#!/usr/bin/env bash
# Builds .gpu/ in the project root: everything a GPU machine with no Node, no browser and no network
# needs to run any of the project's command-line tools on WebGPU through Dawn (Chrome's WebGPU, the
# npm package `webgpu`). Usage, from the project root:  npm run gpu:package  (about 35 MB).
# Then copy .gpu/ (inside the project checkout, or beside the files the command reads) to the GPU
# machine and run, for example:  bash .gpu/run.sh verify --backend webgpu --weights ... --golden ...
#
# Provenance: adapted from the workspace's GPU recipe (shared/gpu/prepare.sh and run.sh, beside this
# repo, measured on an H100). Changes: CommonJS' __dirname and __filename are defined too (tfjs'
# WASM glue uses them); the entry is src/cli/main.ts, one entry for every tool
# (`<command> [options]`), not a single benchmark; it sits at .gpu/lab/entry.mjs, two levels below
# the project root like src/train/host.node.ts, so the bundled model and other project files
# resolve against the checkout; tfjs' .wasm binaries and pretrain's model-card template go beside
# it (--backend wasm works there too); Playwright and Vite stay outside the bundle (the Chromium
# benchmark host needs a browser, which a GPU machine does not have); esbuild comes from
# node_modules; nothing is written into .git (/.gpu/ is in .gitignore).
set -euo pipefail
# --out DIR: build there instead of .gpu/. --bundle-only: the bundled tools with Dawn unpacked beside
# them, for a machine that has Node (the tests run the package this way); no Node, no Vulkan loader.
out=.gpu bundle_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --bundle-only) bundle_only=1; shift ;;
    *) echo "usage: prepare.sh [--out DIR] [--bundle-only]" >&2; exit 2 ;;
  esac
done
[ -f package.json ] && [ -f src/cli/main.ts ] || { echo "run from the project root" >&2; exit 1; }
[ -d node_modules/webgpu ] && [ -x node_modules/.bin/esbuild ] || { echo "run npm install first" >&2; exit 1; }
[ $bundle_only = 1 ] || command -v apt-get >/dev/null || { echo "prepare.sh needs Debian/Ubuntu's apt-get (to fetch the Vulkan loader for the GPU machine)" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/lab/tfjs-wasm" "$out/node_modules/webgpu/dist/linux-x64"
# One file for the project's code and its dependencies; only Dawn's native binding stays outside.
# jsonc-parser's default (UMD) build requires its parts by computed names, which a bundle cannot
# resolve: its ES module build is bundled instead.
node_modules/.bin/esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:@playwright/test --external:vite \
  --alias:jsonc-parser=./node_modules/jsonc-parser/lib/esm/main.js \
  --banner:js="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);" \
  --outfile="$out/lab/entry.mjs" --log-level=warning
cp src/cli/model-card.md "$out/lab/"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/lab/tfjs-wasm/"
# The threaded WASM build's parts (src/backend/node.ts): the Emscripten glue the pthread workers
# evaluate, their script, and the module it reads (.cjs: the checkout's package.json says ESM).
w=node_modules/@tensorflow/tfjs-backend-wasm/wasm-out
cp $w/tfjs-backend-wasm-threaded-simd.js src/backend/wasm-pthread.cjs "$out/lab/tfjs-wasm/"
cp $w/tfjs-backend-wasm-threaded-simd.worker.js "$out/lab/tfjs-wasm/tfjs-backend-wasm-threaded-simd.worker.cjs"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
if [ $bundle_only = 1 ]; then
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
  exit 0
fi
mkdir -p "$out/debs"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/dawn.node.xz"
xz -T0 -6 -c "$(command -v node)" > "$out/node.xz"
# The Vulkan loader and the GL/X libraries NVIDIA's Vulkan driver needs.
(cd "$out/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
   libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 >/dev/null 2>&1) \
  || { echo "apt-get download failed (run 'apt-get update' once)" >&2; exit 1; }
cp scripts/gpu/run.sh "$out/run.sh"
du -sh "$out"
echo "copy $out/ to the GPU machine (inside the project checkout) and run: bash $out/run.sh <command> [options]"
