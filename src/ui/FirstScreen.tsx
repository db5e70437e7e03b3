/**
 * The first screen: what the lab is in two sentences, a diagram of the ViT that shows what the
 * chosen method trains, and (beside it, in the run panel) the one action that runs the demo. The
 * diagram is drawn from the methods table (train/methods.ts): which parameters a method's phases
 * train, and where its prompts go, so it cannot disagree with what the runs do.
 */
import { useState } from 'react';
import type { MethodId } from '../domain/run';
import { VTAB_TASKS } from '../data/catalog';
import { METHODS } from '../train/methods';
import { useLab } from '../store/store';
import { METHOD_COLOURS } from './palette';

/** How a part of the model takes part in a method: trained, frozen, or fine-tuned first and then frozen (FT-then-PT). */
type Role = 'trained' | 'frozen' | 'tuned-then-frozen';

export interface MethodPicture {
  backbone: Role;
  head: Role;
  /** Where prompt tokens enter: none, before the first layer, or before every layer. */
  prompts: 'none' | 'shallow' | 'deep';
}

/** What the diagram draws for a method, read from its phases: the last phase decides, earlier ones only tune first. */
export function methodPicture(method: MethodId): MethodPicture {
  const phases = METHODS[method].phases;
  const last = phases.at(-1)!;
  const role = (name: string): Role => (last.trains(name) ? 'trained' : phases.some((p) => p.trains(name)) ? 'tuned-then-frozen' : 'frozen');
  return { backbone: role('blocks.0.attn.qkv.weight'), head: role('head.weight'), prompts: last.promptMode };
}

const TRAINED = '#0057a3';
const FROZEN = '#d9dde3';
const TUNED = '#8fb3d9';
const INK = '#111111';

/** Fill and text colour of a part by its role. */
function paint(role: Role): { fill: string; text: string } {
  if (role === 'trained') return { fill: TRAINED, text: '#ffffff' };
  if (role === 'tuned-then-frozen') return { fill: TUNED, text: INK };
  return { fill: FROZEN, text: INK };
}

const roleWords: Record<Role, string> = { trained: 'trained', frozen: 'frozen', 'tuned-then-frozen': 'fine-tuned first, then frozen' };

/** The sentence the diagram says, for its text alternative. */
export function pictureText(method: MethodId): string {
  const p = methodPicture(method);
  const prompts =
    p.prompts === 'deep'
      ? 'new prompt tokens enter before every layer and train'
      : p.prompts === 'shallow'
        ? 'prompt tokens enter before the first layer only and train'
        : 'no prompt tokens';
  return `${METHODS[method].label}: the transformer layers are ${roleWords[p.backbone]}, the head is ${roleWords[p.head]}; ${prompts}.`;
}

/**
 * A ViT in the style of the VPT paper's figure: the image's patch tokens enter at the bottom,
 * each layer reads a row of tokens ([CLS], prompts, patches), the head reads [CLS] at the top.
 * Prompt slots stay in place when a method has none (dashed), so switching methods moves nothing.
 */
export function VitDiagram({ method }: { method: MethodId }) {
  const p = methodPicture(method);
  const layers = ['Layer 1', 'Layer 2', 'Layer L'];
  const x0 = 96;
  const width = 330;
  const token = 20;
  const rowH = 58;
  const top = 46;
  const slot = (i: number) => x0 + 10 + i * (token + 5);
  const promptSlots = [1, 2, 3];
  const patchSlots = [5, 6, 7, 8, 9, 10, 11];
  const block = paint(p.backbone);
  const head = paint(p.head);
  const titleId = `vit-diagram-title-${method}`;
  const descId = `vit-diagram-desc-${method}`;
  return (
    <svg
      className="vit-diagram"
      viewBox="0 0 440 266"
      width="440"
      height="266"
      role="img"
      aria-labelledby={`${titleId} ${descId}`}
      data-testid="intro.diagram"
      data-method={method}
      data-backbone={p.backbone}
      data-prompts={p.prompts}
    >
      <title id={titleId}>What {METHODS[method].label} trains in a Vision Transformer</title>
      <desc id={descId}>{pictureText(method)}</desc>
      {/* the head, reading [CLS] of the last layer */}
      <rect x={x0} y={6} width={110} height={26} rx={4} fill={head.fill} stroke={INK} />
      <text x={x0 + 55} y={24} textAnchor="middle" fontSize={14} fill={head.text}>
        head → class
      </text>
      <line x1={slot(0) + token / 2} y1={top - 4} x2={slot(0) + token / 2} y2={32} stroke={INK} strokeWidth={1.5} />
      {layers.map((_, i) => {
        // Top row is the last layer.
        const y = top + i * rowH;
        const layerIndex = layers.length - 1 - i;
        const name = layers[layerIndex]!;
        const promptsHere = p.prompts === 'deep' || (p.prompts === 'shallow' && layerIndex === 0);
        return (
          <g key={name}>
            <text x={x0 - 8} y={y + 18} textAnchor="end" fontSize={14} fill={INK}>
              {name}
            </text>
            <rect x={x0} y={y} width={width} height={26} rx={4} fill={block.fill} stroke={INK} />
            <text x={x0 + width / 2} y={y + 18} textAnchor="middle" fontSize={13} fill={block.text}>
              {p.backbone === 'trained'
                ? 'attention + MLP (trained)'
                : p.backbone === 'frozen'
                  ? 'attention + MLP (frozen)'
                  : 'attention + MLP (fine-tuned, then frozen)'}
            </text>
            {/* the tokens this layer reads: [CLS], prompt slots, patches */}
            <rect x={slot(0)} y={y + 30} width={token} height={token} fill="#ffffff" stroke={INK} />
            <text x={slot(0) + token / 2} y={y + 44} textAnchor="middle" fontSize={9} fill={INK}>
              CLS
            </text>
            {promptSlots.map((k) =>
              promptsHere ? (
                <g key={k} className="prompt-token">
                  <rect x={slot(k)} y={y + 30} width={token} height={token} fill={METHOD_COLOURS.vpt_deep} stroke={INK} />
                  <text x={slot(k) + token / 2} y={y + 44} textAnchor="middle" fontSize={11} fill="#ffffff">
                    P
                  </text>
                </g>
              ) : (
                <rect key={k} x={slot(k)} y={y + 30} width={token} height={token} fill="none" stroke="#8a8f98" strokeDasharray="3 3" />
              ),
            )}
            {patchSlots.map((k) => (
              <rect key={k} x={slot(k)} y={y + 30} width={token} height={token} fill="#f3f4f6" stroke="#6b7280" />
            ))}
          </g>
        );
      })}
      {/* the image's patches enter at the bottom through the (frozen or trained) patch embedding */}
      <rect x={x0} y={top + layers.length * rowH - 2} width={width} height={22} rx={4} fill={block.fill} stroke={INK} />
      <text x={x0 + width / 2} y={top + layers.length * rowH + 13} textAnchor="middle" fontSize={13} fill={block.text}>
        image patches → patch embedding
      </text>
      {/* legend */}
      <g transform={`translate(${x0 + 122}, 13)`} fontSize={12} fill={INK}>
        <rect x={0} y={0} width={12} height={12} fill={TRAINED} stroke={INK} />
        <text x={16} y={11}>
          trained
        </text>
        <rect x={66} y={0} width={12} height={12} fill={FROZEN} stroke={INK} />
        <text x={82} y={11}>
          frozen
        </text>
        <rect x={130} y={0} width={12} height={12} fill={METHOD_COLOURS.vpt_deep} stroke={INK} />
        <text x={146} y={11}>
          prompt
        </text>
      </g>
    </svg>
  );
}

/** In Han et al.'s table, VPT is ahead of full fine-tuning on this many of the 19 tasks. */
function vptAhead(): { ahead: number; tasks: number } {
  return { ahead: VTAB_TASKS.filter((t) => t.elephantPaper.vpt > t.elephantPaper.full_finetune).length, tasks: VTAB_TASKS.length };
}

/**
 * The lab in two sentences and the diagram, switching with the methods the setup compares. Shown
 * until the first Start of this visit; the run panel beside it holds the one primary action.
 */
export function Intro() {
  const methods = useLab((s) => s.setup.methods);
  const [picked, setPicked] = useState<MethodId | null>(null);
  const shown = picked && methods.includes(picked) ? picked : (methods.find((m) => METHODS[m].side === 'vpt') ?? methods[0]!);
  const { ahead, tasks } = vptAhead();
  return (
    <section className="panel intro" aria-labelledby="intro-title" data-testid="intro.panel">
      <div className="intro-text">
        <h2 id="intro-title">Train every weight, or a few prompt tokens?</h2>
        <p data-testid="intro.sentences">
          To adapt a pretrained Vision Transformer to a new task you can train all its weights (<strong>full fine-tuning</strong>) or freeze them and train only
          a few prompt tokens added to its layers (<strong>visual prompt tuning</strong>, VPT). Press <em>Start</em> to train both on a small model in this tab
          and see which wins here, and whether that agrees with Han et al. (ICLR 2024), who found VPT ahead on {ahead} of {tasks} VTAB-1k tasks.
        </p>
      </div>
      <figure className="intro-figure">
        <div className="method-tabs" role="group" aria-label="Show what a method trains">
          {methods.map((m) => (
            <button key={m} type="button" className="small" aria-pressed={m === shown} data-testid={`intro.method.${m}`} onClick={() => setPicked(m)}>
              <span className="swatch" style={{ background: METHOD_COLOURS[m] }} aria-hidden="true" /> {METHODS[m].label}
            </button>
          ))}
        </div>
        <div className="intro-picture">
          <VitDiagram method={shown} />
          <figcaption>
            <p>{pictureText(shown)}</p>
            <p className="note">{METHODS[shown].description}</p>
          </figcaption>
        </div>
      </figure>
    </section>
  );
}
