import { expect, test } from 'vitest';
import { DEFAULT_SETUP, setupFromUrl, setupToHash } from './setup';
test('the URL round-trips the quick start, a blanked prompt length, and other tasks get their paper prompt length', () => {
  expect(setupFromUrl('', '').promptLength).toBe(10);
  expect(setupFromUrl('#task=dsprites_location', '').promptLength).toBe(null);
  const blank = { ...DEFAULT_SETUP, promptLength: null };
  expect(setupFromUrl('#' + setupToHash(blank), '')).toEqual(blank);
  expect(setupFromUrl('#' + setupToHash(DEFAULT_SETUP), '')).toEqual(DEFAULT_SETUP);
  const other = { ...DEFAULT_SETUP, taskId: 'dtd', promptLength: null, imageSize: 224, model: 'hub:google/vit-base-patch16-224-in21k' };
  expect(setupFromUrl('#' + setupToHash(other), '')).toEqual(other);
});
