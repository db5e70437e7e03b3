import { describe, expect, test } from 'vitest';
import { getTask, promptLengthFor } from '../data/catalog';
import {
  DEFAULT_SETUP,
  effectivePromptLength,
  numberField,
  promptLengthHint,
  promptLengthNote,
  readUrl,
  resolutionError,
  sanitize,
  setupFromUrl,
  setupToHash,
} from './setup';
import { estimateStart, formatDuration, secondsOf, setupWork } from './estimate';
import { initialState } from './state';

test('the URL round-trips the quick start, typed and rule prompt lengths, and other models and tasks', () => {
  expect(setupFromUrl('', '').promptLength).toBe(null);
  expect(setupFromUrl('#task=dsprites_location&prompt=4', '').promptLength).toBe(4);
  expect(setupFromUrl('#' + setupToHash(DEFAULT_SETUP), '')).toEqual(DEFAULT_SETUP);
  const typed = { ...DEFAULT_SETUP, promptLength: 3 };
  expect(setupFromUrl('#' + setupToHash(typed), '')).toEqual(typed);
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
  expect([s.batchSize, s.epochs, s.trainSize, s.promptLength, s.imageSize, s.seed, s.lr, s.gradcamSamples, s.testSize]).toEqual([
    1024,
    1,
    8,
    500,
    16,
    0,
    null,
    64,
    100000,
  ]);
  // Resolution 0 keeps its meaning (the checkpoint's own); a blank prompt length stays blank.
  expect(sanitize({ ...DEFAULT_SETUP, imageSize: 0, promptLength: null })).toMatchObject({ imageSize: 0, promptLength: null });
  expect(sanitize({ ...DEFAULT_SETUP, epochs: 0 }, { allowZeroEpochs: true }).epochs).toBe(0);
});

test('a link the page cannot take as it is says what it used instead, and a link the page wrote says nothing', () => {
  expect(readUrl('#' + setupToHash(DEFAULT_SETUP), '').notes).toEqual([]);
  expect(readUrl('#' + setupToHash({ ...DEFAULT_SETUP, promptLength: 4, lr: 0.1, imageSize: 96, trainSize: 800 }), '').notes).toEqual([]);
  const { setup, notes } = readUrl('#epochs=0&batch=5000&trainSize=100&task=nope&seed=x', '');
  expect([setup.epochs, setup.batchSize, setup.trainSize, setup.taskId, setup.seed]).toEqual([1, 1024, 400, DEFAULT_SETUP.taskId, DEFAULT_SETUP.seed]);
  expect(notes).toEqual([
    "The link's task=nope is not one the lab knows: synth_count is used.",
    "The link's trainSize=100 is outside 400–20000: 400 is used.",
    "The link's epochs=0 would only evaluate, which needs trained parameters to import (a link cannot carry a file): 1 is used.",
    "The link's batch=5000 is outside 1–1024: 1024 is used.",
    "The link's seed=x is not a whole number: 1 is used.",
  ]);
});

test('a resolution the model’s patches do not divide is a named error at setup time', () => {
  // The default bundled model: 48 px in patches of 8; the other: patches of 12.
  expect(resolutionError({ ...DEFAULT_SETUP, imageSize: 96 })).toBeNull();
  expect(resolutionError({ ...DEFAULT_SETUP, imageSize: 60 })).toBe(
    "Input resolution 60 px is not a multiple of the patch size of Scenes ViT, bundled (offline) (8 px): the image would not cut into whole patches. Use 56 or 64 px (multiples of 8), or leave the resolution blank for the model's own 48 px.",
  );
  expect(resolutionError({ ...DEFAULT_SETUP, model: 'bundled:tiny_pretrained', imageSize: 64 })).toBe(
    "Input resolution 64 px is not a multiple of the patch size of Tiny ViT, bundled (offline) (12 px): the image would not cut into whole patches. Use 60 or 72 px (multiples of 12), or leave the resolution blank for the model's own 48 px.",
  );
  expect(resolutionError({ ...DEFAULT_SETUP, model: 'hub:google/vit-base-patch16-224-in21k', imageSize: 200 })).toMatch(
    /multiple of the patch size .* \(16 px\).* Use 192 or 208 px/,
  );
  // A checkpoint file: its patch size is known when it loads (the run checks it before training).
  expect(resolutionError({ ...DEFAULT_SETUP, model: 'file', imageSize: 50 })).toBeNull();
});

describe('the protocol in the setup and the URL', () => {
  test('protocol, seeds and grid round-trip; bad values fall back', () => {
    const paper = { ...DEFAULT_SETUP, protocol: 'paper' as const, seeds: 2, grid: 'lr=0.5,0.05;wd=0' };
    const hash = setupToHash(paper);
    expect(hash).toContain('protocol=paper');
    expect(hash).toContain('seeds=2');
    expect(setupFromUrl('#' + hash, '')).toEqual(paper);
    const bad = setupFromUrl('#protocol=weird&seeds=99&grid=lr%3Dx', '');
    expect([bad.protocol, bad.seeds, bad.grid]).toEqual(['quick', 10, 'reduced']);
  });
});

describe('one prompt-length rule on the page', () => {
  test('a blank prompt length shows the rule the engine applies, and warns when prompts outnumber patches', () => {
    // The default bundled model: 36 patches; hub ViT-B/16 at 224 px: 196.
    expect(effectivePromptLength(DEFAULT_SETUP)).toBe(promptLengthFor(getTask('synth_count'), 36));
    const hub = { ...DEFAULT_SETUP, model: 'hub:google/vit-base-patch16-224-in21k', imageSize: 224, taskId: 'svhn' };
    expect(effectivePromptLength(hub)).toBe(200);
    expect(promptLengthNote(hub).warning).toMatch(/200 prompts outnumber the 196/);
    expect(promptLengthNote(DEFAULT_SETUP)).toEqual({ rule: 'paper 100 × 36 / 196 patches = 18', warning: null });
    expect(promptLengthNote({ ...DEFAULT_SETUP, promptLength: 40 }).warning).toMatch(/40 prompts outnumber the 36/);
    expect(promptLengthNote({ ...DEFAULT_SETUP, model: 'bundled:tiny_pretrained' }).rule).toBe('paper 100 × 16 / 196 patches = 8');
    expect(effectivePromptLength({ ...DEFAULT_SETUP, model: 'file' })).toBeNull();
  });
});

describe('the time a Start will take', () => {
  test('counts the paper protocol’s search and final runs per method, and uses this model’s measured speed', () => {
    const quick = setupWork(DEFAULT_SETUP);
    expect(quick.runs).toBe(2);
    // 400 images in 12 batches of 32 (the rest dropped) + 8 Grad-CAM images, per epoch.
    expect(quick.trainImages).toBe(2 * 5 * (12 * 32 + 8));
    const paper = setupWork({ ...DEFAULT_SETUP, protocol: 'paper', seeds: 3 });
    // FT and VPT-deep: 3 search points each on 400, 3 seeds each on 500.
    expect(paper.runs).toBe(12);
    expect(paper.trainImages).toBe(2 * (3 * 400 * 5 + 3 * 500 * 5));
    expect(secondsOf({ runs: 1, trainImages: 600, evalImages: 300 }, { train: 10, eval: 30 })).toBe(70);
    const s = initialState();
    const before = estimateStart(s);
    expect(before.basis).toBe('guess');
    expect(before.unprobed).toEqual(['ft', 'vpt_deep']);
    expect(before.seconds).toBeCloseTo(secondsOf(quick, { train: 60, eval: 180 }), 6);
    // A checkpoint file: no guess before it has run or been measured here.
    const file = estimateStart({ ...s, setup: { ...s.setup, model: 'file', modelFileName: 'x.safetensors' } });
    expect(file.seconds).toBeNaN();
    expect(file.basis).toBe('none');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(600)).toBe('10 min');
  });
});

test('the prompt-length hint agrees with the field: blank follows the rule, a typed length is the one used', () => {
  expect(promptLengthHint(DEFAULT_SETUP)).toBe('blank: the paper’s rule, paper 100 × 36 / 196 patches = 18');
  expect(promptLengthHint({ ...DEFAULT_SETUP, promptLength: 10 })).toBe('10 typed and used; blank would follow the paper: paper 100 × 36 / 196 patches = 18');
});
