#!/usr/bin/env bash
# Runs on the GPU machine: unpacks what scripts/gpu/prepare.sh packed (Node, Dawn, the Vulkan
# loader), then runs one of the project's tools:  bash .gpu/run.sh <command> [options]
# e.g.  bash .gpu/run.sh train --backend webgpu --model vit_b16 --task dtd --data /data/vtab-1k
# Paths in the options are relative to the directory you run it from.
# Provenance: the workspace's shared/gpu/run.sh (measured on an H100), changed to run the one entry
# for every tool, from the caller's directory, and to keep Node inside .gpu/.
set -eu
g=$(cd "$(dirname "$0")" && pwd)
gl=("$g"/debs/libvulkan1*.deb "$g"/debs/libegl1*.deb "$g"/debs/libglvnd0*.deb "$g"/debs/libopengl0*.deb
    "$g"/debs/libgl1*.deb "$g"/debs/libglx0*.deb "$g"/debs/libgles2*.deb)
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  if [ "$(id -u)" = 0 ]; then
    # The loader and glvnd's libraries into the system, as the recipe does (GPU containers run as root).
    for f in "${gl[@]}"; do dpkg -x "$f" /; done
    ldconfig
  else
    # Without root: beside this script, found through LD_LIBRARY_PATH.
    [ -d "$g/sysroot/usr" ] || for f in "${gl[@]}"; do dpkg -x "$f" "$g/sysroot"; done
    export LD_LIBRARY_PATH=$g/sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi
mkdir -p "$g/xlib"
[ -d "$g/xlib/usr" ] || for f in "$g"/debs/libx*.deb "$g"/debs/libbsd0*.deb "$g"/debs/libmd0*.deb; do dpkg -x "$f" "$g/xlib"; done
export LD_LIBRARY_PATH=$g/xlib/usr/lib/x86_64-linux-gnu:$g/xlib/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && export VK_DRIVER_FILES=$icd
[ -x "$g/bin/node" ] || { mkdir -p "$g/bin"; xz -dc "$g/node.xz" > "$g/bin/node.tmp"; chmod +x "$g/bin/node.tmp"; mv "$g/bin/node.tmp" "$g/bin/node"; }
d=$g/node_modules/webgpu/dist/linux-x64
[ -f "$d/dawn.node" ] || { xz -dc "$g/dawn.node.xz" > "$d/dawn.node.tmp"; mv "$d/dawn.node.tmp" "$d/dawn.node"; }
nvidia-smi -L >&2 2>/dev/null || true
exec "$g/bin/node" "$g/lab/entry.mjs" "$@" 2> >(grep -v XDG_RUNTIME_DIR >&2)
