import { expect, test } from 'vitest';
import { DEFAULT_SETUP, numberField, sanitize, setupFromUrl, setupToHash } from './setup';
test('the URL round-trips the quick start, a blanked prompt length, and other tasks get their paper prompt length', () => {
  expect(setupFromUrl('', '').promptLength).toBe(10);
  expect(setupFromUrl('#task=dsprites_location', '').promptLength).toBe(null);
  const blank = { ...DEFAULT_SETUP, promptLength: null };
  expect(setupFromUrl('#' + setupToHash(blank), '')).toEqual(blank);
  expect(setupFromUrl('#' + setupToHash(DEFAULT_SETUP), '')).toEqual(DEFAULT_SETUP);
  const other = { ...DEFAULT_SETUP, taskId: 'dtd', promptLength: null, imageSize: 224, model: 'hub:google/vit-base-patch16-224-in21k' };
  expect(setupFromUrl('#' + setupToHash(other), '')).toEqual(other);
});

test('one table gives the form its labels and bounds and clamps what a URL or the form brings', () => {
  const dev = { ...DEFAULT_SETUP, dev: true };
  expect(numberField('batchSize', DEFAULT_SETUP)).toEqual({ label: 'Batch size', min: 1, max: 1024 });
  expect(numberField('trainSize', DEFAULT_SETUP).min).toBe(400);
  expect(numberField('trainSize', dev).min).toBe(8);
  expect(numberField('epochs', DEFAULT_SETUP).min).toBe(1);
  expect(numberField('epochs', DEFAULT_SETUP, { allowZeroEpochs: true }).min).toBe(0);
  // The parser holds every field to the same bounds the form shows.
  const s = setupFromUrl('#batch=5000&epochs=0&trainSize=3&prompt=900&res=8&seed=-4&lr=-1&gradcam=99&testSize=1e9', '?dev=1');
  expect([s.batchSize, s.epochs, s.trainSize, s.promptLength, s.imageSize, s.seed, s.lr, s.gradcamSamples, s.testSize]).toEqual([1024, 1, 8, 500, 16, 0, null, 64, 100000]);
  // Resolution 0 keeps its meaning (the checkpoint's own); a blank prompt length stays blank.
  expect(sanitize({ ...DEFAULT_SETUP, imageSize: 0, promptLength: null })).toMatchObject({ imageSize: 0, promptLength: null });
  expect(sanitize({ ...DEFAULT_SETUP, epochs: 0 }, { allowZeroEpochs: true }).epochs).toBe(0);
});
