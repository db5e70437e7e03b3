/**
 * A small CLEVR-like scene generator and software ray caster (pure TS, no WebGL): 3-10 shaded
 * spheres, cubes and cylinders of CLEVR's 8 colours and 2 sizes on a grey ground plane, seen by
 * CLEVR's camera. Labelled 'synthetic, CLEVR-like' everywhere: the images are not CLEVR's.
 *
 * Choices, documented because labels depend on them:
 * - Scene coordinates are CLEVR's: ground z = 0, objects at x, y in [-3, 3], radius r = 0.7
 *   (large) or 0.35 (small), centre at height r; cubes have half-side r / sqrt(2), cylinders
 *   radius r and half-height r (as CLEVR scales its meshes). Objects keep 0.25 units between
 *   their footprints, and every object must be the first thing hit by the ray through its centre
 *   (so counts are visible).
 * - Camera: CLEVR's base scene camera at (7.359, -6.926, 4.958) looking at the origin, 35 mm lens
 *   on a 32 mm sensor (horizontal field of view 49.1 deg) with CLEVR's 480x320 aspect. We render
 *   straight into a square image, which is the same squash VTAB's resize of 480x320 to 224x224
 *   applies. No camera jitter.
 * - Depth of an object = distance of its centre from the camera along the viewing axis, which is
 *   what CLEVR's pixel_coords[2] stores; VTAB's clevr_dist bins the smallest depth with
 *   thresholds [0, 8, 8.5, 9, 9.5, 10, 100]. With this camera depths range over about 7.1-15.
 * - Rendering: per-pixel ray casting with s x s supersampling (a z-buffer in effect, rather than
 *   a painter's algorithm, so intersecting silhouettes are exact), Lambert shading from a key
 *   light plus ambient, hard shadows on the ground and objects, a Blinn-Phong highlight on metal.
 */
import { type Rand, randInt, randRange, rngFrom } from './rng';
import type { RgbaImage } from './types';

export type ClevrShape = 'sphere' | 'cube' | 'cylinder';
export type ClevrMaterial = 'rubber' | 'metal';

export interface ClevrObject {
  shape: ClevrShape;
  material: ClevrMaterial;
  /** sRGB colour 0..255 (CLEVR's palette). */
  color: [number, number, number];
  colorName: string;
  /** 0.7 (large) or 0.35 (small). */
  radius: number;
  x: number;
  y: number;
  /** Rotation about the vertical axis, radians. */
  rotation: number;
  /** Depth of the centre along the camera axis (CLEVR's pixel_coords[2]). */
  depth: number;
}

export interface ClevrScene {
  objects: ClevrObject[];
}

export const CLEVR_COLORS: Record<string, [number, number, number]> = {
  gray: [87, 87, 87],
  red: [173, 35, 35],
  blue: [42, 75, 215],
  green: [29, 105, 20],
  brown: [129, 74, 25],
  purple: [129, 38, 192],
  cyan: [41, 208, 208],
  yellow: [255, 238, 51],
};
export const CLEVR_DISTANCE_THRESHOLDS = [0, 8, 8.5, 9, 9.5, 10, 100] as const;
export const CLEVR_MIN_OBJECTS = 3;
export const CLEVR_MAX_OBJECTS = 10;

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3): V3 => {
  const l = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / l, a[1] / l, a[2] / l];
};

export const CLEVR_CAMERA = (() => {
  const position: V3 = [7.358891, -6.925791, 4.958309];
  const forward = norm(sub([0, 0, 0], position));
  const right = norm(cross(forward, [0, 0, 1]));
  const up = cross(right, forward);
  const tanX = 16 / 35; // tan(hfov / 2), 35 mm lens, 32 mm sensor
  const tanY = (tanX * 320) / 480;
  return { position, forward, right, up, tanX, tanY };
})();

/** Depth of a point along the camera axis. */
export function clevrDepth(x: number, y: number, z: number): number {
  return dot(sub([x, y, z], CLEVR_CAMERA.position), CLEVR_CAMERA.forward);
}

/** VTAB's clevr_dist label: the bin of the closest object's depth. */
export function clevrDistanceLabel(scene: ClevrScene): number {
  const d = Math.min(...scene.objects.map((o) => o.depth));
  const t = CLEVR_DISTANCE_THRESHOLDS;
  for (let i = 0; i < t.length - 1; i++) if (d >= t[i]! && d < t[i + 1]!) return i;
  return t.length - 2;
}

/** VTAB's clevr_count label. */
export function clevrCountLabel(scene: ClevrScene): number {
  return scene.objects.length - CLEVR_MIN_OBJECTS;
}

// ---- ray casting ------------------------------------------------------------------------

interface Hit {
  t: number;
  n: V3;
  obj: number; // -1 ground
}

/** Ray vs one object; returns distance and world normal, or null. */
function intersect(o: ClevrObject, ro: V3, rd: V3): { t: number; n: V3 } | null {
  const r = o.radius;
  const c: V3 = [o.x, o.y, r];
  if (o.shape === 'sphere') {
    const oc = sub(ro, c);
    const b = dot(oc, rd);
    const disc = b * b - (dot(oc, oc) - r * r);
    if (disc < 0) return null;
    const s = Math.sqrt(disc);
    let t = -b - s;
    if (t < 1e-4) t = -b + s;
    if (t < 1e-4) return null;
    const p: V3 = [ro[0] + t * rd[0], ro[1] + t * rd[1], ro[2] + t * rd[2]];
    return { t, n: norm(sub(p, c)) };
  }
  // Local frame: translate to the centre, rotate by -rotation about z.
  const cs = Math.cos(o.rotation);
  const sn = Math.sin(o.rotation);
  const px = ro[0] - c[0];
  const py = ro[1] - c[1];
  const lo: V3 = [cs * px + sn * py, -sn * px + cs * py, ro[2] - c[2]];
  const ld: V3 = [cs * rd[0] + sn * rd[1], -sn * rd[0] + cs * rd[1], rd[2]];
  const toWorld = (n: V3): V3 => [cs * n[0] - sn * n[1], sn * n[0] + cs * n[1], n[2]];
  if (o.shape === 'cube') {
    const h = r / Math.SQRT2;
    let tNear = -Infinity;
    let tFar = Infinity;
    let axis = 0;
    let sign = 1;
    for (let a = 0; a < 3; a++) {
      if (Math.abs(ld[a]!) < 1e-12) {
        if (Math.abs(lo[a]!) > h) return null;
        continue;
      }
      let t1 = (-h - lo[a]!) / ld[a]!;
      let t2 = (h - lo[a]!) / ld[a]!;
      let s = -1;
      if (t1 > t2) {
        [t1, t2] = [t2, t1];
        s = 1;
      }
      if (t1 > tNear) {
        tNear = t1;
        axis = a;
        sign = s;
      }
      tFar = Math.min(tFar, t2);
      if (tNear > tFar) return null;
    }
    if (tNear < 1e-4) return null; // origin inside or box behind
    const n: V3 = [0, 0, 0];
    n[axis] = sign;
    return { t: tNear, n: toWorld(n) };
  }
  // Cylinder: radius r, half-height r, vertical axis.
  let best: { t: number; n: V3 } | null = null;
  const a = ld[0] * ld[0] + ld[1] * ld[1];
  if (a > 1e-12) {
    const b = lo[0] * ld[0] + lo[1] * ld[1];
    const cc = lo[0] * lo[0] + lo[1] * lo[1] - r * r;
    const disc = b * b - a * cc;
    if (disc >= 0) {
      const t = (-b - Math.sqrt(disc)) / a;
      const z = lo[2] + t * ld[2];
      if (t > 1e-4 && Math.abs(z) <= r) best = { t, n: toWorld([(lo[0] + t * ld[0]) / r, (lo[1] + t * ld[1]) / r, 0]) };
    }
  }
  if (Math.abs(ld[2]) > 1e-12) {
    for (const capZ of [r, -r]) {
      const t = (capZ - lo[2]) / ld[2];
      if (t <= 1e-4 || (best && t >= best.t)) continue;
      const x = lo[0] + t * ld[0];
      const y = lo[1] + t * ld[1];
      if (x * x + y * y <= r * r) best = { t, n: [0, 0, Math.sign(capZ)] };
    }
  }
  return best;
}

/** Radius of a sphere around the object's centre that contains it (cheap rejection test). */
function boundingRadius(o: ClevrObject): number {
  return o.shape === 'sphere' ? o.radius : o.shape === 'cube' ? o.radius * 0.867 : o.radius * 1.415;
}

/** Does the ray come within the object's bounding sphere (ahead of the origin)? */
function nearBounds(o: ClevrObject, ro: V3, rd: V3): boolean {
  const ox = ro[0] - o.x;
  const oy = ro[1] - o.y;
  const oz = ro[2] - o.radius;
  const b = ox * rd[0] + oy * rd[1] + oz * rd[2];
  const br = boundingRadius(o);
  const c = ox * ox + oy * oy + oz * oz - br * br;
  return b * b - c >= 0 && (b < 0 || c < 0);
}

function castRay(scene: ClevrScene, ro: V3, rd: V3): Hit | null {
  let best: Hit | null = null;
  const objs = scene.objects;
  for (let i = 0; i < objs.length; i++) {
    if (!nearBounds(objs[i]!, ro, rd)) continue;
    const h = intersect(objs[i]!, ro, rd);
    if (h && (!best || h.t < best.t)) best = { t: h.t, n: h.n, obj: i };
  }
  if (rd[2] < 0) {
    const t = -ro[2] / rd[2];
    if (t > 1e-4 && (!best || t < best.t)) best = { t, n: [0, 0, 1], obj: -1 };
  }
  return best;
}

function occluded(scene: ClevrScene, p: V3, dir: V3): boolean {
  for (const o of scene.objects) if (nearBounds(o, p, dir) && intersect(o, p, dir)) return true;
  return false;
}

const LIGHT = norm([-0.6, -1.0, 2.2]); // key light, from the camera's left and above
const GROUND: V3 = [0.52, 0.52, 0.52];
const SKY: V3 = [0.8, 0.8, 0.8];

function cameraRay(u: number, v: number): V3 {
  // u, v in [-1, 1], v up.
  const { forward: f, right: r, up: up, tanX, tanY } = CLEVR_CAMERA;
  return norm([f[0] + u * tanX * r[0] + v * tanY * up[0], f[1] + u * tanX * r[1] + v * tanY * up[1], f[2] + u * tanX * r[2] + v * tanY * up[2]]);
}

function shade(scene: ClevrScene, rd: V3): V3 {
  const ro = CLEVR_CAMERA.position;
  const hit = castRay(scene, ro, rd);
  if (!hit) return SKY;
  const p: V3 = [ro[0] + hit.t * rd[0], ro[1] + hit.t * rd[1], ro[2] + hit.t * rd[2]];
  const lift: V3 = [p[0] + hit.n[0] * 1e-3, p[1] + hit.n[1] * 1e-3, p[2] + hit.n[2] * 1e-3];
  const lambert = Math.max(0, dot(hit.n, LIGHT));
  const lit = lambert > 0 && !occluded(scene, lift, LIGHT) ? lambert : 0;
  if (hit.obj < 0) {
    // Ground: soft falloff with distance from the centre of the scene, like CLEVR's plane.
    const fall = 1 - Math.min(0.25, Math.hypot(p[0], p[1]) / 40);
    const k = (0.55 + 0.45 * lit) * fall;
    return [GROUND[0] * k, GROUND[1] * k, GROUND[2] * k];
  }
  const o = scene.objects[hit.obj]!;
  const albedo: V3 = [o.color[0] / 255, o.color[1] / 255, o.color[2] / 255];
  const metal = o.material === 'metal';
  const diffuse = (metal ? 0.25 : 0.35) + (metal ? 0.55 : 0.75) * lit;
  let spec = 0;
  if (lit > 0) {
    const h = norm([LIGHT[0] - rd[0], LIGHT[1] - rd[1], LIGHT[2] - rd[2]]);
    spec = Math.pow(Math.max(0, dot(hit.n, h)), metal ? 60 : 12) * (metal ? 0.9 : 0.12);
  }
  return [albedo[0] * diffuse + spec, albedo[1] * diffuse + spec, albedo[2] * diffuse + spec];
}

export interface ClevrRenderOptions {
  /** Output side in pixels (square; default 224). */
  size?: number;
  /** Rays per pixel side (default 2, i.e. 4 rays per pixel). */
  samples?: number;
}

/** Renders the scene to RGBA. */
export function renderClevr(scene: ClevrScene, options: ClevrRenderOptions = {}): RgbaImage {
  const size = options.size ?? 224;
  const s = options.samples ?? 2;
  const data = new Uint8ClampedArray(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < s; sy++) {
        for (let sx = 0; sx < s; sx++) {
          const u = ((px + (sx + 0.5) / s) / size) * 2 - 1;
          const v = 1 - ((py + (sy + 0.5) / s) / size) * 2;
          const c = shade(scene, cameraRay(u, v));
          r += c[0];
          g += c[1];
          b += c[2];
        }
      }
      const o = (py * size + px) * 4;
      const k = 255 / (s * s);
      data[o] = r * k;
      data[o + 1] = g * k;
      data[o + 2] = b * k;
      data[o + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

// ---- scene sampling ---------------------------------------------------------------------

const COLOR_NAMES = Object.keys(CLEVR_COLORS);
const SHAPES: ClevrShape[] = ['sphere', 'cube', 'cylinder'];

function randomObject(rand: Rand, x: number, y: number, radius: number): ClevrObject {
  const colorName = COLOR_NAMES[randInt(rand, COLOR_NAMES.length)]!;
  return {
    shape: SHAPES[randInt(rand, 3)]!,
    material: rand() < 0.5 ? 'rubber' : 'metal',
    color: CLEVR_COLORS[colorName]!,
    colorName,
    radius,
    x,
    y,
    rotation: randRange(rand, 0, 2 * Math.PI),
    depth: clevrDepth(x, y, radius),
  };
}

function fits(objects: ClevrObject[], cand: ClevrObject): boolean {
  return objects.every((o) => Math.hypot(o.x - cand.x, o.y - cand.y) - o.radius - cand.radius >= 0.25);
}

/** Every object is the first hit of the ray through its centre. */
function allVisible(scene: ClevrScene): boolean {
  const ro = CLEVR_CAMERA.position;
  return scene.objects.every((o, i) => {
    const rd = norm(sub([o.x, o.y, o.radius], ro));
    const hit = castRay(scene, ro, rd);
    return hit !== null && hit.obj === i;
  });
}

/** A scene with exactly `count` objects placed as CLEVR does (uniform in [-3, 3]^2). */
export function sampleClevrCountScene(count: number, seed: number): ClevrScene {
  for (let attempt = 0; ; attempt++) {
    const rand = rngFrom(seed, 'clevr-count', attempt);
    const objects: ClevrObject[] = [];
    for (let tries = 0; objects.length < count && tries < 400; tries++) {
      const cand = randomObject(rand, randRange(rand, -3, 3), randRange(rand, -3, 3), rand() < 0.5 ? 0.7 : 0.35);
      if (fits(objects, cand)) objects.push(cand);
    }
    const scene = { objects };
    if (objects.length === count && allVisible(scene)) return scene;
  }
}

/**
 * A scene whose closest object's depth falls in distance bin `label`: the closest object is
 * placed first at a depth drawn uniformly inside the bin (clipped to what the ground square
 * allows), then 2-9 more objects strictly farther away (fewer when the far region is full).
 */
export function sampleClevrDistanceScene(label: number, seed: number): ClevrScene {
  const t = CLEVR_DISTANCE_THRESHOLDS;
  const f = CLEVR_CAMERA.forward;
  const cam = CLEVR_CAMERA.position;
  for (let attempt = 0; ; attempt++) {
    const rand = rngFrom(seed, 'clevr-dist', attempt);
    const radius = rand() < 0.5 ? 0.7 : 0.35;
    const lo = Math.max(t[label]!, 7.15);
    const hi = Math.min(t[label + 1]!, 12);
    const d = randRange(rand, lo, hi);
    // Solve depth(x, y, r) = d for y along a random x; retry when y leaves the square.
    let first: ClevrObject | null = null;
    for (let tries = 0; tries < 50 && !first; tries++) {
      const x = randRange(rand, -3, 3);
      const y = cam[1] + (d - f[0] * (x - cam[0]) - f[2] * (radius - cam[2])) / f[1];
      if (y >= -3 && y <= 3) first = randomObject(rand, x, y, radius);
    }
    if (!first) continue;
    const want = CLEVR_MIN_OBJECTS + randInt(rand, CLEVR_MAX_OBJECTS - CLEVR_MIN_OBJECTS + 1);
    const objects = [first];
    for (let tries = 0; objects.length < want && tries < 400; tries++) {
      const cand = randomObject(rand, randRange(rand, -3, 3), randRange(rand, -3, 3), rand() < 0.5 ? 0.7 : 0.35);
      if (cand.depth > first.depth + 0.02 && fits(objects, cand)) objects.push(cand);
    }
    const scene = { objects };
    if (allVisible(scene) && clevrDistanceLabel(scene) === label) return scene;
  }
}
