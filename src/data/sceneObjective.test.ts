/** The scene objective's labels describe the image as drawn, whatever the curriculum does to it. */
import { describe, expect, it } from 'vitest';
import { pretrainFactors, pretrainItems } from './pretraining';
import {
  HeadAccuracy,
  MAIN_RADIUS,
  MAX_OBJECTS,
  SCENE_HEAD_SIZES,
  SCENE_HEADS,
  SCENE_IGNORE,
  SCENE_LOGITS,
  sampleLabelledScene,
  sceneLabels,
  symmetryPeriod,
} from './sceneObjective';

const items = pretrainItems(3, 'train', 0, 400);

describe('scene objective', () => {
  it('labels every head from the drawn scene, within each head’s classes', () => {
    for (const [i, it] of items.entries()) {
      const { scene, labels } = sampleLabelledScene(it.label, it.seed!, i % 2 ? 1 : 0.3);
      expect(labels).toHaveLength(SCENE_HEADS.length);
      expect(labels).toEqual(sceneLabels(scene));
      labels.forEach((l, h) => {
        if (l !== SCENE_IGNORE) expect(l >= 0 && l < SCENE_HEAD_SIZES[h]!, `${SCENE_HEADS[h]!.name} ${l}`).toBe(true);
      });
      const main = scene.objects[scene.main]!;
      expect(main.shape).toBe(pretrainFactors(it.label).shape);
      expect(labels[0]).toBe(main.shape);
      expect(labels[6]).toBe(scene.objects.length - 1);
      expect(main.radius).toBeGreaterThanOrEqual(MAIN_RADIUS[0]);
      expect(main.radius).toBeLessThanOrEqual(MAIN_RADIUS[1]);
      // The main object is the largest, and no two objects overlap, so "largest" and the count are visible.
      for (const [a, o] of scene.objects.entries()) {
        if (a !== scene.main) expect(o.radius).toBeLessThan(main.radius);
        for (const p of scene.objects.slice(a + 1)) expect(Math.hypot(o.cx - p.cx, o.cy - p.cy)).toBeGreaterThan(o.radius + p.radius);
      }
      expect(scene.objects.length).toBeLessThanOrEqual(MAX_OBJECTS);
    }
    expect(SCENE_LOGITS).toBe(SCENE_HEAD_SIZES.reduce((a, b) => a + b, 0));
  });

  it('gives rotation-symmetric shapes no orientation label, and others the rotation within their period', () => {
    for (const it of items) {
      const { scene, labels } = sampleLabelledScene(it.label, it.seed!);
      const main = scene.objects[scene.main]!;
      const period = symmetryPeriod(main.shape);
      if (!period) expect(labels[4]).toBe(SCENE_IGNORE);
      else {
        const turn = (((main.rotation % period) + period) % period) / period;
        expect(labels[4]).toBe(Math.min(7, Math.floor(turn * 8)));
      }
    }
  });

  it('draws counts from 1 to 8, some images plain, and easier scenes at low difficulty', () => {
    const counts = new Set(items.map((it) => sampleLabelledScene(it.label, it.seed!).labels[6]));
    expect([...counts].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const plain = items.filter((it) => sampleLabelledScene(it.label, it.seed!).scene.background.colors.every((c) => c.every((v) => v === 0))).length;
    expect(plain / items.length).toBeGreaterThan(0.12);
    expect(plain / items.length).toBeLessThan(0.28);
    const easy = items.map((it) => sampleLabelledScene(it.label, it.seed!, 0).scene);
    expect(easy.every((s) => s.objects.length === 1 && s.objects[0]!.rotation === 0 && s.grain === 0)).toBe(true);
  });

  it('counts per-head accuracy, skipping unlabelled heads', () => {
    const acc = new HeadAccuracy();
    const logits = new Float32Array(SCENE_LOGITS);
    let offset = 0;
    const labels = SCENE_HEAD_SIZES.map((k, h) => {
      logits[offset + (h % k)] = 5;
      offset += k;
      return h % k;
    });
    acc.add(logits, labels);
    acc.add(
      logits,
      labels.map((l, h) => (h === 4 ? SCENE_IGNORE : (l + 1) % SCENE_HEAD_SIZES[h]!)),
    );
    const a = acc.accuracy();
    expect(a.perHead[4]).toBe(100); // the second image has no orientation label
    expect(a.perHead[0]).toBe(50);
    expect(a.shapeTexture).toBe(50);
  });
});
