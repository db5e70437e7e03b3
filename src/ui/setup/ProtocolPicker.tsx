import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { gridProblem, numberField } from '../../store/setup';
import { estimateStart, formatDuration } from '../../store/estimate';
import { REDUCED_GRIDS, REFERENCE_GRIDS, gridPoints } from '../../train/paper';
import { useLab } from '../../store/store';
import { updateSetup } from '../actions';
import { NumberField } from './NumberField';

/**
 * The protocol: quick (one run per method) or the papers' VTAB-1k protocol (a learning-rate ×
 * weight-decay search on validation, then final runs on train + val for several seeds), with the
 * grid, the seeds, and how long the Start will take.
 */
export function ProtocolPicker() {
  const setup = useLab((s) => s.setup);
  const estimate = useLab(
    useShallow((s) => {
      const e = estimateStart(s);
      return { runs: e.work.runs, seconds: e.seconds, basis: e.basis };
    }),
  );
  const [customGrid, setCustomGrid] = useState(setup.grid === 'reduced' || setup.grid === 'reference' ? '' : setup.grid);
  const [gridError, setGridError] = useState<string | null>(null);
  const gridKind = setup.grid === 'reduced' || setup.grid === 'reference' ? setup.grid : 'custom';
  const points = (g: 'reduced' | 'reference') => {
    const grids = g === 'reduced' ? REDUCED_GRIDS : REFERENCE_GRIDS;
    return `${gridPoints(grids.prompt).length} per prompt / linear method, ${gridPoints(grids.finetune).length} for FT`;
  };
  return (
    <fieldset className="protocol" data-testid="setup.protocol">
      <legend>Protocol</legend>
      <label>
        <input
          type="radio"
          name="protocol"
          data-testid="setup.protocol.quick"
          checked={setup.protocol === 'quick'}
          onChange={() => updateSetup({ protocol: 'quick' })}
        />{' '}
        Quick: one run per method on train / val / test, at the hyperparameters below
      </label>
      <label>
        <input
          type="radio"
          name="protocol"
          data-testid="setup.protocol.paper"
          checked={setup.protocol === 'paper'}
          onChange={() => updateSetup({ protocol: 'paper' })}
        />{' '}
        Paper (VTAB-1k): search the learning rate × weight decay on validation, then train on train + val with the chosen values, once per seed; test mean ± std
      </label>
      {setup.protocol === 'paper' && (
        <div className="grid2">
          <NumberField
            id="seeds"
            testId="setup.seeds"
            {...numberField('seeds', setup)}
            value={setup.seeds}
            hint={`final runs with seeds ${setup.seed}–${setup.seed + setup.seeds - 1} (the reference ran 5)`}
            onChange={(v) => updateSetup({ seeds: v ?? 3 })}
          />
          <div className="field">
            <label htmlFor="grid">Search grid</label>
            <select
              id="grid"
              data-testid="setup.grid"
              value={gridKind}
              onChange={(e) => {
                const v = e.target.value;
                if (v === 'custom') updateSetup({ grid: customGrid && !gridProblem(customGrid) ? customGrid : 'lr=0.5,0.05;wd=0.0001' });
                else updateSetup({ grid: v });
              }}
            >
              <option value="reduced">Reduced (default): {points('reduced')}</option>
              <option value="reference">Reference (KMnP/vpt tune_vtab.py): {points('reference')}</option>
              <option value="custom">Custom…</option>
            </select>
            {gridKind === 'custom' && (
              <input
                aria-label="Custom grid"
                data-testid="setup.gridCustom"
                defaultValue={setup.grid}
                placeholder="lr=0.5,0.05;wd=0.0001"
                onBlur={(e) => {
                  const v = e.target.value.trim();
                  const problem = gridProblem(v);
                  setGridError(problem);
                  if (!problem) {
                    setCustomGrid(v);
                    updateSetup({ grid: v });
                  }
                }}
              />
            )}
            <small>{gridError ?? 'base learning rates (× batch / 256); FT searches its own, smaller rates'}</small>
          </div>
        </div>
      )}
      <p className="note" data-testid="setup.estimate">
        This Start: {estimate.runs} training run{estimate.runs === 1 ? '' : 's'}
        {Number.isFinite(estimate.seconds) ? (
          <>
            , about <strong>{formatDuration(estimate.seconds)}</strong> (
            {estimate.basis === 'guess' ? 'a guess until a step is measured: see beside Start' : 'measured on this device: see beside Start'}).
          </>
        ) : (
          <>; the time is known after a first run of this checkpoint here, or a measurement (Measure beside Start).</>
        )}
      </p>
    </fieldset>
  );
}
