/**
 * What a student needs beside the numbers: what each method trains (in two sentences, with the
 * share of ViT-B/16's parameters it trains on the chosen task), what the paper found and where to
 * read it, what the real experiment needs, and what the bundled miniature can and cannot show.
 */
import { getTask } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { PRESETS, parameterCount } from '../model/config';
import { BUNDLED_DIMS, pretrainObjectiveOf } from '../train/dims';
import { miniatureSentences, type MiniatureStudy } from '../analysis/miniature';
import miniatureStudies from '../data/miniature-studies.json';
import { METHODS, METHOD_IDS, methodParamCounts } from '../train/methods';
import { useLab } from '../store/store';
import { METHOD_COLOURS } from './palette';

/** Two sentences per method: what trains, and why the paper runs it. */
const TEACHING: Record<MethodId, string> = {
  linear: 'A new linear head on the frozen [CLS] feature is all that trains. It measures how far the pretrained features already separate the classes.',
  ft: 'Every weight of the backbone trains together with a new head (AdamW, small learning rate). It can reshape the features for the task, at the price of one full copy of the model per task.',
  vpt_shallow:
    'A few learnable prompt tokens join the patch tokens before the first block; they and the head train, the backbone stays frozen. The prompts can steer the frozen blocks only through attention.',
  vpt_deep:
    "A fresh set of prompt tokens enters before every block (replacing the previous block's prompts); prompts and head train, the backbone stays frozen. This is the VPT the paper compares with full fine-tuning.",
  mixed: 'Deep prompts and every backbone weight train together. The paper uses it to ask whether prompts still help once every weight may move.',
  ft_then_pt:
    'First full fine-tuning; then the fine-tuned backbone is frozen and deep prompts with a fresh head train on it. It separates what prompts add from what fine-tuning already learned.',
};

const PAPER_URL = 'https://arxiv.org/abs/2401.12902';
const VPT_PAPER_URL = 'https://arxiv.org/abs/2203.12119';
const CHECKPOINT_URL = 'https://huggingface.co/google/vit-base-patch16-224-in21k';
const TIMM_URL = 'https://huggingface.co/timm/vit_base_patch16_224.augreg_in21k';
const VPT_CODE_URL = 'https://github.com/KMnP/vpt';

function share(trainable: number, total: number): string {
  const p = (100 * trainable) / total;
  return p >= 99.995 ? '100 %' : p >= 1 ? `${p.toFixed(1)} %` : `${p.toFixed(2)} %`;
}

function millions(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : `${(n / 1e3).toFixed(1)} k`;
}

function External({ href, children }: { href: string; children: string }) {
  return (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

export function TeachingPanel() {
  const taskId = useLab((s) => s.setup.taskId);
  const model = useLab((s) => s.setup.model);
  const task = getTask(taskId);
  const b16 = PRESETS.vit_b16;
  return (
    <section className="panel teaching" aria-labelledby="teaching-title" data-testid="teach.panel">
      <h2 id="teaching-title">What the methods do</h2>
      <p className="note">
        Trainable share on the paper's ViT-B/16 ({millions(methodParamCounts(b16, METHODS.ft, task.classes, 0).total)} parameters with a head of {task.classes}{' '}
        classes for {task.name}), prompt length {task.promptLength} as the paper used for this task.
      </p>
      <dl className="methods-teach">
        {METHOD_IDS.map((id) => {
          const c = methodParamCounts(b16, METHODS[id], task.classes, task.promptLength);
          return (
            <div key={id} className="method-teach" data-testid={`teach.method.${id}`} data-share={(c.trainable / c.total).toPrecision(4)}>
              <dt>
                <span className="swatch" style={{ background: METHOD_COLOURS[id] }} aria-hidden="true" /> {METHODS[id].label}{' '}
                <span className="share">
                  trains {millions(c.trainable)} of {millions(c.total)} ({share(c.trainable, c.total)})
                </span>
              </dt>
              <dd>{TEACHING[id]}</dd>
            </div>
          );
        })}
      </dl>
      <h3>What the paper found</h3>
      <p>
        Han et al. compare VPT-deep with full fine-tuning on the 19 VTAB-1k tasks and find VPT preferable when the downstream objective differs a lot from
        pretraining (from classification to counting or distance, say), or when the images resemble the pretraining images; full fine-tuning catches up as the
        training set grows. "When does VPT win?" below places the tasks on those two axes.
      </p>
      {model.startsWith('bundled:') && (
        <>
          <h3>What the miniature shows</h3>
          <MiniatureNote model={model.slice('bundled:'.length)} testId="teach.miniature" />
        </>
      )}
      <h3>Read more</h3>
      <ul className="links" data-testid="teach.links">
        <li>
          <External href={PAPER_URL}>Han et al., Facing the Elephant in the Room: Visual Prompt Tuning or Full Finetuning? (ICLR 2024)</External>
        </li>
        <li>
          <External href={VPT_PAPER_URL}>Jia et al., Visual Prompt Tuning (ECCV 2022)</External> and <External href={VPT_CODE_URL}>its reference code</External>
        </li>
        <li>
          The checkpoints: <External href={CHECKPOINT_URL}>google/vit-base-patch16-224-in21k</External> (the paper's backbone) and{' '}
          <External href={TIMM_URL}>timm's AugReg ViT-B/16</External>
        </li>
        <li>
          The VTAB-1k images: the README's section <em>Getting the VTAB-1k folders</em> (the lab does not ship them; pick the folder or its zip in the setup).
        </li>
      </ul>
      <h3>The real experiment</h3>
      <p data-testid="teach.realRoute">
        ViT-B/16 is a download of about 346 MB (kept in this browser's cache afterwards), needs a GPU with WebGPU to train in reasonable time, and the VTAB-1k
        folders. On WebAssembly each ViT-B/16 training image costs about 16 times a ViT-Ti/16 one, and the paper's schedule (100 epochs of 1,000 images) takes a
        CPU more than a day: choose the hub ViT-B/16 and press <em>Measure on this device</em> beside Start for your machine's own estimate. The small bundled
        models need none of these.
      </p>
    </section>
  );
}

/** What each bundled model was pretrained on, in words. */
const PRETRAINED_ON: Record<string, string> = {
  classes: 'synthetic shapes with one 50-way label (shape kind × texture)',
  scenes: 'synthetic scenes with seven questions per image (shape, texture, position, orientation, size, object count)',
};

/** The study of each bundled model, read from the file the study wrote (src/data/miniature-studies.json). */
const STUDIES = new Map((miniatureStudies as { studies: MiniatureStudy[] }).studies.map((s) => [s.model, s]));

/**
 * Beside the results of runs on a bundled miniature: its numbers are not the paper's, why, and
 * what the miniature study measured on this model (sentences from the study's numbers).
 */
export function MiniatureNote({ model, testId = 'results.miniatureNote' }: { model: string; testId?: string }) {
  const dims = BUNDLED_DIMS[model];
  const study = STUDIES.get(model);
  const objective = pretrainObjectiveOf({ kind: 'bundled', id: model });
  const grid = dims ? dims.imageSize / dims.patchSize : 0;
  const params = dims ? parameterCount({ ...dims, numClasses: 0, layerNormEps: 1e-6, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }) : 0;
  return (
    <div className="note miniature" role="note" data-testid={testId} data-model={model}>
      <p>
        <strong>A miniature, not the paper's model.</strong>{' '}
        {dims
          ? `The bundled ${model} has about ${millions(params)} parameters (${dims.numLayers} blocks of width ${dims.hiddenSize} on ${dims.imageSize} px images, ${grid * grid} patches) and was pretrained on ${PRETRAINED_ON[objective]}, not ImageNet-21k`
          : `The bundled ${model} was pretrained here, not on ImageNet-21k`}
        ; its accuracies are not expected to match the paper's ViT-B/16 (86 M parameters, 196 patches, ImageNet-21k features). What it can show is the shape of
        the comparison on tasks whose objective and images are near to or far from its own pretraining.
      </p>
      {study && (
        <p data-testid={`${testId}.findings`}>
          <strong>What the miniature study measured on this model</strong> (the paper protocol, every offline task, {study.rows[0]?.n ?? 0} seeds;
          docs/study.md): {miniatureSentences(study).join(' ')}
        </p>
      )}
    </div>
  );
}
