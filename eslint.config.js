// Lint configuration: the recommended rules of ESLint and typescript-eslint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layer rule of docs/architecture.md: each layer imports only the layers below it.
const layer = (files, group, message) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] } });
const layers = [
  layer(['backends/**/*.ts'], ['**/src/repository/**', '**/src/engine/**', '**/src/archive/**', '**/src/cli/**', '../../src/store/*/**'],
    'a backend knows only src/store (docs/architecture.md)'),
  layer(['src/store/**/*.ts'], ['**/repository/**', '**/engine/**', '**/archive/**', '**/cli/**', '**/backends/*/**'],
    'the store knows only the backends registry (backends/index.ts) below it (docs/architecture.md)'),
  layer(['src/repository/**/*.ts'], ['**/engine/**', '**/archive/**', '**/cli/**', '**/backends/**'],
    'the repository knows only src/store (docs/architecture.md)'),
  layer(['src/engine/**/*.ts'], ['**/store/**', '**/repository/**', '**/archive/**', '**/cli/**', '**/backends/**'],
    'the engine knows no other layer (docs/architecture.md)'),
  layer(['src/archive/**/*.ts'], ['**/cli/**', '**/backends/**', '../engine/*/**', '../repository/*/**', '../store/*/**'],
    'the archive uses the engine, repository and store through their index.ts (docs/architecture.md)'),
  layer(['src/cli/**/*.ts'], ['../archive/**', '../../archive/**', '../engine/**', '../../engine/**', '../repository/**', '../../repository/**', '../store/**', '../../store/**', '**/backends/**'],
    'the CLI uses only the library surface, src/index.ts (docs/architecture.md)'),
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'localstack/node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly' } } },
  ...layers,
);
