/**
 * Seeded randomness for everything that must be reproducible from a seed (data selection,
 * shuffling, procedural images). Plain functions over 32-bit integers; no globals.
 *
 * - `hashSeed(...parts)` mixes numbers and strings into one 32-bit seed (FNV-1a over the parts,
 *   finished with a murmur3 fmix32), so independent streams are derived as
 *   `hashSeed(seed, 'train')`, `hashSeed(seed, 'val')`, ...
 * - `mulberry32(seed)` is a small fast PRNG returning floats in [0, 1).
 */

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mix any number of integers / strings into one unsigned 32-bit seed. */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  const mixByte = (b: number) => {
    h ^= b & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  for (const part of parts) {
    if (typeof part === 'number') {
      // Integers keep their low 32 bits and the high part; non-integers go through their text.
      if (Number.isInteger(part)) {
        const lo = part >>> 0;
        const hi = Math.floor(part / 4294967296) >>> 0;
        for (let i = 0; i < 4; i++) mixByte(lo >>> (8 * i));
        for (let i = 0; i < 4; i++) mixByte(hi >>> (8 * i));
      } else {
        for (const ch of String(part)) mixByte(ch.charCodeAt(0));
      }
    } else {
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        mixByte(c);
        mixByte(c >>> 8);
      }
    }
    mixByte(0x1f); // part separator, so ('ab','c') differs from ('a','bc')
  }
  return fmix32(h);
}

export type Rand = () => number;

/** mulberry32: a 32-bit-state PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A PRNG seeded from several parts: `rngFrom(seed, 'train', epoch)`. */
export function rngFrom(...parts: Array<number | string>): Rand {
  return mulberry32(hashSeed(...parts));
}

/** Integer in [0, n). */
export function randInt(rand: Rand, n: number): number {
  return Math.floor(rand() * n);
}

/** Float in [lo, hi). */
export function randRange(rand: Rand, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** Fisher-Yates shuffle in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], rand: Rand): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}

/** A permutation of 0..n-1. */
export function permutation(n: number, rand: Rand): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rand,
  );
}
