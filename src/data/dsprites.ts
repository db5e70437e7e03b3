/**
 * dSprites, drawn here from its generative factors (Matthey et al. 2017): white shapes on black,
 * 64x64, binary pixels, tiled to 3 channels.
 *
 * Factors, exactly as dSprites enumerates them:
 *   shape        3 values: square, ellipse, heart
 *   scale        6 values: linspace(0.5, 1, 6)
 *   orientation 40 values: linspace(0, 2*pi, 40) -- INCLUDING both 0 and 2*pi, as dSprites does,
 *                so index 0 and index 39 draw the same image (and the symmetric square and ellipse
 *                repeat even more often). We keep that quirk so labels mean what VTAB's mean.
 *   posX, posY  32 values each: linspace(0, 1, 32)
 * VTAB labels: dsprites_loc = floor(posXIndex * 16 / 32) = floor(xIndex / 2);
 *              dsprites_ori = floor(orientationIndex * 16 / 40).
 *
 * Geometry is an honest approximation (dSprites' generator is not public): at scale 1 a shape
 * spans SPRITE_PX = 20 px (square side, ellipse major axis, heart width); the centre moves over
 * [10, 54] px as pos goes 0 -> 1, so an unrotated sprite at scale 1 just touches the border and
 * rotated corners may clip, as in dSprites' own images. Coverage is computed on a 4x4 subgrid per
 * pixel; by default a pixel is white when at least half of it is covered (dSprites is binary).
 */
import { type Rand, randInt, rngFrom } from './rng';
import type { RgbaImage } from './types';

export const DSPRITES_SIZE = 64;
const SPRITE_PX = 20;
const CENTRE_MIN = 10;
const CENTRE_SPAN = 44;

/** Factor indices of one dSprites image. */
export interface DspritesFactors {
  shape: number; // 0..2
  scaleIndex: number; // 0..5
  orientationIndex: number; // 0..39
  xIndex: number; // 0..31
  yIndex: number; // 0..31
}

export type DspritesObjective = 'location' | 'orientation';

export function dspritesScale(scaleIndex: number): number {
  return 0.5 + (0.5 * scaleIndex) / 5;
}
export function dspritesOrientation(orientationIndex: number): number {
  return (2 * Math.PI * orientationIndex) / 39;
}
export function dspritesPosition(index: number): number {
  return index / 31;
}

/** VTAB's label for a factor tuple: 16 classes either way. */
export function dspritesLabel(objective: DspritesObjective, f: DspritesFactors): number {
  return objective === 'location' ? Math.floor((f.xIndex * 16) / 32) : Math.floor((f.orientationIndex * 16) / 40);
}

/** Uniform factors conditioned on the label (so labels can be drawn balanced first). */
export function sampleDspritesFactors(objective: DspritesObjective, label: number, rand: Rand): DspritesFactors {
  const f: DspritesFactors = {
    shape: randInt(rand, 3),
    scaleIndex: randInt(rand, 6),
    orientationIndex: randInt(rand, 40),
    xIndex: randInt(rand, 32),
    yIndex: randInt(rand, 32),
  };
  if (objective === 'location') f.xIndex = 2 * label + randInt(rand, 2);
  else {
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) if (Math.floor((i * 16) / 40) === label) ids.push(i);
    f.orientationIndex = ids[randInt(rand, ids.length)]!;
  }
  return f;
}

/** A single number per factor tuple (dSprites' own index order: shape, scale, orientation, x, y). */
export function dspritesIndex(f: DspritesFactors): number {
  return (((f.shape * 6 + f.scaleIndex) * 40 + f.orientationIndex) * 32 + f.xIndex) * 32 + f.yIndex;
}

/** Inside test in the sprite's own frame; (u, v) in half-sizes, v pointing down. */
function inside(shape: number, u: number, v: number): boolean {
  if (shape === 0) return Math.abs(u) <= 1 && Math.abs(v) <= 1;
  if (shape === 1) return u * u + (v * v) / 0.25 <= 1; // 2:1 oval along u
  // Heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, y up, spans about x in [-1.14, 1.14].
  const x = u * 1.14;
  const y = -v * 1.14 + 0.12;
  const a = x * x + y * y - 1;
  return a * a * a - x * x * y * y * y <= 0;
}

export interface DspritesRenderOptions {
  /** Output side in pixels (default 64, dSprites' own; geometry scales with it). */
  size?: number;
  /** Keep fractional coverage instead of dSprites' binary pixels (default false). */
  antialias?: boolean;
}

/** Draws one image; grey levels tiled to RGB, alpha 255. */
export function renderDsprite(f: DspritesFactors, options: DspritesRenderOptions = {}): RgbaImage {
  const size = options.size ?? DSPRITES_SIZE;
  const k = size / DSPRITES_SIZE;
  const half = (SPRITE_PX * dspritesScale(f.scaleIndex) * k) / 2;
  const cx = (CENTRE_MIN + CENTRE_SPAN * dspritesPosition(f.xIndex)) * k;
  const cy = (CENTRE_MIN + CENTRE_SPAN * dspritesPosition(f.yIndex)) * k;
  const theta = dspritesOrientation(f.orientationIndex);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const data = new Uint8ClampedArray(size * size * 4);
  const sub = 4;
  const reach = half * 1.8; // bounding radius of every shape in half-sizes, with margin
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(size - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(size - 1, Math.ceil(cy + reach));
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      let hits = 0;
      for (let sy = 0; sy < sub; sy++) {
        for (let sx = 0; sx < sub; sx++) {
          const dx = px + (sx + 0.5) / sub - cx;
          const dy = py + (sy + 0.5) / sub - cy;
          // Rotate the sample into the sprite frame (counter-clockwise sprite rotation on screen).
          const u = (cos * dx - sin * dy) / half;
          const v = (sin * dx + cos * dy) / half;
          if (inside(f.shape, u, v)) hits++;
        }
      }
      const cover = hits / (sub * sub);
      const g = options.antialias ? Math.round(cover * 255) : cover >= 0.5 ? 255 : 0;
      const o = (py * size + px) * 4;
      data[o] = data[o + 1] = data[o + 2] = g;
    }
  }
  return { width: size, height: size, data };
}

/** Factors and image of one sample, from its label and seed (for tests and the gallery). */
export function dspritesSample(
  objective: DspritesObjective,
  label: number,
  seed: number,
  options?: DspritesRenderOptions,
): { factors: DspritesFactors; label: number; image: RgbaImage } {
  const factors = sampleDspritesFactors(objective, label, rngFrom(seed, 'dsprites'));
  return { factors, label: dspritesLabel(objective, factors), image: renderDsprite(factors, options) };
}
