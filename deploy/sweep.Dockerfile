# The image a sweep shard runs in (deploy/k8s/sweep-job.yaml): the lab, built, with Debian's
# Chromium. Build from the repo root:  docker build -f deploy/sweep.Dockerfile -t <registry>/vpt-lab-sweep .
# On a GPU node the lab uses WebGPU through Chromium's Vulkan backend: the node needs the NVIDIA
# container toolkit with the graphics capability (NVIDIA_DRIVER_CAPABILITIES below), which brings
# the driver's Vulkan ICD into the container; without a GPU the lab runs WASM.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium libvulkan1 \
 && rm -rf /var/lib/apt/lists/*
ENV CHROMIUM_PATH=/usr/bin/chromium \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics
WORKDIR /lab
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# Built once here, so every shard runs with --no-build.
RUN npx vite build
