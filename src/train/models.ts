/**
 * Model names the CLIs accept (`--model <name|path>`), mapped to model specs. The lab's setup
 * panel offers the same list.
 */
import type { ModelSpec } from '../domain/run';

export interface NamedModel {
  name: string;
  spec: ModelSpec;
  description: string;
}

export const NAMED_MODELS: readonly NamedModel[] = [
  {
    name: 'vit_b16',
    spec: { kind: 'hub', id: 'google/vit-base-patch16-224-in21k' },
    description: 'ViT-B/16 ImageNet-21k, hub ViTModel layout (the paper backbone; 346 MB download)',
  },
  {
    name: 'vit_b16_timm',
    spec: { kind: 'hub', id: 'timm/vit_base_patch16_224.augreg_in21k' },
    description: 'ViT-B/16 AugReg ImageNet-21k, timm layout (410 MB with its 21k head)',
  },
  { name: 'vit_s16', spec: { kind: 'hub', id: 'timm/vit_small_patch16_224.augreg_in21k' }, description: 'ViT-S/16 AugReg ImageNet-21k, timm layout' },
  { name: 'vit_ti16', spec: { kind: 'hub', id: 'timm/vit_tiny_patch16_224.augreg_in21k' }, description: 'ViT-Ti/16 AugReg ImageNet-21k, timm layout' },
  {
    name: 'tiny_pretrained',
    spec: { kind: 'bundled', id: 'tiny_pretrained' },
    description: 'the first small ViT this project pretrained and ships (offline; 17 tokens, 4 blocks, one 50-way label: features too weak for VPT to win)',
  },
  {
    name: 'scenes_vit',
    spec: { kind: 'bundled', id: 'scenes_vit' },
    description: 'the second small ViT this project pretrained and ships (offline; 37 tokens, 6 blocks, seven questions per scene)',
  },
  { name: 'random_vit_b16', spec: { kind: 'random', preset: 'vit_b16' }, description: 'ViT-B/16 with random weights (benchmarks)' },
  { name: 'random_vit_ti16', spec: { kind: 'random', preset: 'vit_ti16' }, description: 'ViT-Ti/16 with random weights (benchmarks)' },
  { name: 'random_tiny', spec: { kind: 'random', preset: 'fixture_tiny' }, description: "the fixtures' tiny shape with random weights" },
];

/** A name from NAMED_MODELS, or else a checkpoint path. */
export function modelSpecFor(nameOrPath: string): ModelSpec {
  return NAMED_MODELS.find((m) => m.name === nameOrPath)?.spec ?? { kind: 'path', path: nameOrPath };
}
