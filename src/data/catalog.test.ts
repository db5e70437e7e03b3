import { describe, expect, it } from 'vitest';
import { LabError } from '../domain/errors';
import { PAPER_PATCHES, TASKS, getTask, promptLengthFor, promptLengthRuleText, promptLengthWarning } from './catalog';

describe('the prompt-length rule', () => {
  it('gives the paper’s own length on ViT-B/16 at 224 px (196 patches)', () => {
    for (const t of TASKS) expect(promptLengthFor(t, PAPER_PATCHES)).toBe(t.promptLength);
  });

  it('keeps the paper’s prompt-to-patch ratio on other patch counts, at least 1', () => {
    // The bundled model: 48 px, patch 12 -> 16 patches.
    expect(promptLengthFor({ promptLength: 200 }, 16)).toBe(16);
    expect(promptLengthFor({ promptLength: 100 }, 16)).toBe(8);
    expect(promptLengthFor({ promptLength: 50 }, 16)).toBe(4);
    expect(promptLengthFor({ promptLength: 1 }, 16)).toBe(1);
    expect(promptLengthFor({ promptLength: 5 }, 16)).toBe(1);
    // ViT-B/16 at 384 px: 576 patches.
    expect(promptLengthFor(getTask('dtd'), 576)).toBe(3);
    expect(() => promptLengthFor(getTask('dtd'), 0)).toThrow(LabError);
  });

  it('says the rule in words and warns when prompts outnumber patches', () => {
    expect(promptLengthRuleText(getTask('clevr_count'), 16)).toBe('paper 100 × 16 / 196 patches = 8');
    expect(promptLengthRuleText(getTask('clevr_count'), 196)).toContain('paper’s own');
    expect(promptLengthWarning(16, 16, getTask('svhn'))).toBeNull();
    expect(promptLengthWarning(200, 16, getTask('svhn'))).toMatch(/200 prompts outnumber the 16 image patches.*gives 16/);
    // The paper's own svhn length on ViT-B/16 (200 > 196) is warned about too.
    expect(promptLengthWarning(200, 196, getTask('svhn'))).not.toBeNull();
  });
});
