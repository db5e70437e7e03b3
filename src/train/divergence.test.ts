import { describe, expect, it } from 'vitest';
import { EPOCH_RISE, LossRiseWatch, SPIKE_MIN_STEPS, StepSpikeWatch, epochRise, lossRiseText, rerunLr } from './divergence';

const epochs = (losses: number[], phase = 1, from = 1) => losses.map((trainLoss, i) => ({ epoch: from + i, phase, trainLoss }));

describe('the loss-rise rule', () => {
  it('marks the first epoch whose mean is above 1.1 × the first epoch’s, and nothing for a falling loss', () => {
    expect(epochRise(epochs([2.1, 1.9, 1.7, 1.6, 1.5]))).toBeNull();
    // The VPT-deep at base lr 0.5: 2.56, then 3.83 in epoch 2.
    const r = epochRise(epochs([2.561, 3.829, 3.104, 2.503, 2.258]))!;
    expect(r).toMatchObject({ kind: 'epoch', epoch: 2, phase: 1, loss: 3.829, reference: 2.561 });
    // Exactly at the factor is not a rise; just above is.
    expect(epochRise(epochs([2, 2 * EPOCH_RISE]))).toBeNull();
    expect(epochRise(epochs([2, 2 * EPOCH_RISE + 1e-9]))?.epoch).toBe(2);
  });

  it('judges each phase against its own first epoch (FT-then-PT starts its prompt phase with a fresh head)', () => {
    const ftThenPt = [...epochs([2.0, 1.2, 0.8]), ...epochs([2.1, 1.9, 1.8], 2, 4)];
    expect(epochRise(ftThenPt)).toBeNull();
    const rising = [...epochs([2.0, 1.2, 0.8]), ...epochs([2.1, 2.5], 2, 4)];
    expect(epochRise(rising)).toMatchObject({ epoch: 5, phase: 2, reference: 2.1 });
  });

  it('finds a step above 3 × the running median only once enough steps are seen', () => {
    const w = new StepSpikeWatch();
    // An early large step is no spike: there is no median to speak of yet.
    expect(w.push(50, { epoch: 1, phase: 1, step: 1 })).toBeNull();
    for (let i = 2; i <= SPIKE_MIN_STEPS + 1; i++) expect(w.push(2, { epoch: 1, phase: 1, step: i })).toBeNull();
    expect(w.push(5.9, { epoch: 1, phase: 1, step: 20 })).toBeNull(); // 2.95 × the median 2
    const spike = w.push(16, { epoch: 2, phase: 1, step: 3 })!;
    expect(spike).toMatchObject({ kind: 'step', epoch: 2, step: 3, loss: 16, reference: 2 });
    // It stays the first one.
    expect(w.push(100, { epoch: 3, phase: 1, step: 1 })).toBe(spike);
  });

  it('a well-fitted run whose late losses are small does not turn an ordinary hard batch into a spike', () => {
    const w = new StepSpikeWatch();
    let found = null;
    // Loss falls from 2 to 0.05 over 60 steps, then one batch at 0.6.
    for (let i = 0; i < 60; i++) found ??= w.push(2 * Math.exp(-i / 16), { epoch: 1 + Math.floor(i / 12), phase: 1, step: (i % 12) + 1 });
    found ??= w.push(0.6, { epoch: 6, phase: 1, step: 1 });
    expect(found).toBeNull();
  });

  it('LossRiseWatch reports the first rise of either kind, with the run’s learning rate, and the text names it', () => {
    const w = new LossRiseWatch(0.5);
    for (let s = 1; s <= 12; s++) w.step(2.1, { epoch: 1, phase: 1, step: s });
    expect(w.epoch({ epoch: 1, phase: 1, trainLoss: 2.1 })).toBeNull();
    expect(w.epoch({ epoch: 2, phase: 1, trainLoss: 2.4 })).toMatchObject({ kind: 'epoch', epoch: 2, lr: 0.5 });
    expect(lossRiseText(w.found!)).toMatch(/epoch 2 is 2\.400, above 1\.1 × the first epoch's 2\.100 \(base lr 0\.5\)/);
    expect(rerunLr(0.5)).toBe(0.05);
    expect(rerunLr(0.0003)).toBe(0.00003);
  });
});
