#!/usr/bin/env bash
# Builds .gpu/ in the project root: everything a GPU machine with no Node, no browser and no network
# needs to run any of the project's command-line tools on WebGPU through Dawn (Chrome's WebGPU, the
# npm package `webgpu`). Usage, from the project root:  npm run gpu:package  (about 35 MB).
# Then copy .gpu/ (inside the project checkout, or beside the files the command reads) to the GPU
# machine and run, for example:  bash .gpu/run.sh verify --backend webgpu --weights ... --golden ...
#
# Provenance: adapted from the workspace's GPU recipe (shared/gpu/prepare.sh and run.sh, beside this
# repo, measured on an H100). Changes: the entry is src/cli/main.ts, one entry for every tool
# (`<command> [options]`), not a single benchmark; it sits at .gpu/lab/entry.mjs, two levels below
# the project root like src/train/host.node.ts, so the bundled model and other project files
# resolve against the checkout; tfjs' .wasm binaries and pretrain's model-card template go beside
# it (--backend wasm works there too); Playwright and Vite stay outside the bundle (the Chromium
# benchmark host needs a browser, which a GPU machine does not have); esbuild comes from
# node_modules; nothing is written into .git (/.gpu/ is in .gitignore).
set -euo pipefail
[ -f package.json ] && [ -f src/cli/main.ts ] || { echo "run from the project root" >&2; exit 1; }
[ -d node_modules/webgpu ] && [ -x node_modules/.bin/esbuild ] || { echo "run npm install first" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "prepare.sh needs Debian/Ubuntu's apt-get (to fetch the Vulkan loader for the GPU machine)" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/lab/tfjs-wasm .gpu/node_modules/webgpu/dist/linux-x64 .gpu/debs .gpu/bin
# One file for the project's code and its dependencies; only Dawn's native binding stays outside.
node_modules/.bin/esbuild src/cli/main.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --external:@playwright/test --external:vite \
  --banner:js="import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" \
  --outfile=.gpu/lab/entry.mjs --log-level=warning
cp src/cli/model-card.md .gpu/lab/
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .gpu/lab/tfjs-wasm/
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .gpu/node_modules/webgpu/
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > .gpu/dawn.node.xz
xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz
# The Vulkan loader and the GL/X libraries NVIDIA's Vulkan driver needs.
(cd .gpu/debs && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 \
   libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 >/dev/null 2>&1) \
  || { echo "apt-get download failed (run 'apt-get update' once)" >&2; exit 1; }
cp scripts/gpu/run.sh .gpu/run.sh
du -sh .gpu
echo "copy .gpu/ to the GPU machine (inside the project checkout) and run: bash .gpu/run.sh <command> [options]"
