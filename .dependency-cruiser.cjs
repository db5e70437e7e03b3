/**
 * The layers of src/ (README, "Architecture"), bottom first. A file may import its own folder and
 * folders on lower layers only: never one on its own layer or above. Tests and test helpers stand
 * above everything and are not checked. `npm run lint` runs this; test/layers/ holds a tree with
 * an upward import that the rules must catch (src/lint/layers.test.ts).
 */
const LAYERS = [
  ['domain'],
  ['model', 'data', 'backend', 'pwa'],
  ['weights', 'kernels'],
  ['analysis'],
  ['train'],
  ['verify', 'bench'],
  ['engine'],
  ['worker'],
  ['store'],
  ['ui', 'cli'],
];

const folder = (name) => `^src/${name}/`;
const any = (names) => `^src/(${names.join('|')})/`;

/** One rule per folder: no import of a folder on its own layer or above. */
const upward = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i).flat();
  return layer.map((name) => ({
    name: `layer-${name}`,
    comment: `${name}/ is on layer ${i} of ${LAYERS.length - 1}; it may import only lower layers (${LAYERS.slice(0, i).flat().join(', ') || 'none'}).`,
    severity: 'error',
    from: { path: folder(name), pathNot: '\\.test\\.tsx?$|testutil' },
    to: { path: any(above.filter((n) => n !== name)) },
  }));
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'domain-imports-nothing',
      comment: 'domain/ is the vocabulary every layer speaks: plain types and pure helpers, no packages.',
      severity: 'error',
      from: { path: folder('domain') },
      to: { pathNot: folder('domain') },
    },
    {
      name: 'views-hold-no-tensors',
      comment: 'The page thread never loads tfjs: the engine worker owns it.',
      severity: 'error',
      from: { path: '^src/(ui|store)/|^src/worker/(client|automation)\\.ts$' },
      to: { path: '@tensorflow' },
    },
    {
      name: 'cli-not-the-page',
      comment: 'The CLIs run the engine or train directly, never the store or the views.',
      severity: 'error',
      from: { path: folder('cli') },
      to: { path: any(['store', 'ui', 'worker']) },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|test-results|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
