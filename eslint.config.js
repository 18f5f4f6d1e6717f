// Layering is checked here, not remembered: each folder may import only what its arrow allows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const outside = (...folders) =>
  folders.map((f) => ({
    group: [`**/${f}`, `**/${f}/**`, `../${f}/*`, `../../${f}/*`],
    message: `this folder may not import from src/${f}`,
  }));

// The simulation itself runs only in the worker (and in Node); the page may use the read side of
// src/sim (names, event decoding, the replay mirror, SPTE decoding, the parser, presets).
const SIM_CORE = [
  'sim/simulator',
  'sim/kvm',
  'sim/ops',
  'sim/tdp-iter',
  'sim/handle-changed-spte',
  'sim/invariants',
  'sim/harness',
  'sim/scenario/run',
];

function layer(folder, forbidden) {
  return [
    {
      files: [`${folder}/**/*.{ts,tsx}`],
      ignores: [`${folder}/**/*.test.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: forbidden.map((f) => ({
              group: [`**/${f}`, `**/${f}.ts`, `**/${f}/**`],
              message: `${folder} may not import src/${f}`,
            })),
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-results', 'playwright-report', '.reports'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    files: ['src/sim/**/*.ts'],
    ignores: ['src/sim/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...outside('ui', 'worker', 'client', 'store', 'viz', 'protocol', 'cli'),
            {
              group: ['react', 'react-dom', 'd3', 'd3-*', 'zustand', 'node:*'],
              message: 'src/sim is pure TypeScript',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'self', 'process', 'postMessage'],
    },
  },
  ...layer('src/worker', ['ui', 'client', 'store', 'viz', 'cli']),
  ...layer('src/protocol', ['ui', 'client', 'store', 'viz', 'cli', 'worker', ...SIM_CORE]),
  ...layer('src/client', ['ui', 'store', 'viz', 'cli', ...SIM_CORE]),
  ...layer('src/store', ['ui', 'viz', 'cli', 'worker', ...SIM_CORE]),
  ...layer('src/viz', ['ui', 'client', 'cli', 'worker', ...SIM_CORE]),
  ...layer('src/ui', ['cli', 'worker', ...SIM_CORE]),
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
);
