import { describe, expect, it } from 'vitest';
import { countOffset, labelText } from './labels';

describe('labels in words', () => {
  it('a counting task says how many objects a label is', () => {
    expect(countOffset('synth_count')).toBe(1);
    expect(labelText('synth_count', 7)).toBe('7 (8 objects)');
    expect(labelText('clevr_like_count', 0)).toBe('0 (3 objects)');
  });
  it('other tasks keep their label, or the class name when there is one', () => {
    expect(countOffset('dsprites_location')).toBeNull();
    expect(labelText('dsprites_location', 3)).toBe('3');
    expect(labelText('synth_shapes', 1, ['circle', 'square'])).toBe('square');
  });
});
