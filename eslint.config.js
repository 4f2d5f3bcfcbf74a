import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports point down only (docs/architecture.md, whose table lists the same): each folder of src/
 * names the folders it may import from; every other one is refused. A folder of src/ without an entry
 * here fails test/unit/layers.test.ts.
 */
export const LAYERS = {
  cli: ['app', 'stack', 'ui', 'adapters', 'pipeline', 'telemetry', 'config', 'log', 'domain', 'text'],
  app: ['adapters', 'pipeline', 'telemetry', 'config', 'log', 'domain', 'text'],
  stack: ['adapters', 'config', 'log', 'domain', 'text'],
  ui: ['telemetry', 'config', 'domain', 'text'],
  adapters: ['pipeline', 'telemetry', 'config', 'log', 'domain', 'text'],
  pipeline: ['telemetry', 'log', 'domain', 'text'],
  telemetry: ['domain', 'text'],
  config: ['domain', 'text'],
  log: [],
  domain: ['text'],
  text: [],
};

/** The domain does no I/O: only its catalog reads its folders (the event types and channels, at start). */
const NODE_IO = {
  group: ['node:*', 'fs', 'fs/*', 'net', 'http', 'https', 'child_process', 'os', 'path', 'url', 'process'],
  message: 'src/domain does no I/O (docs/architecture.md); src/domain/catalog.ts alone reads its folders',
};

const layer = (folder, extra = [], ignores = []) => ({
  files: [`src/${folder}/**/*.{ts,tsx}`],
  ignores,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...Object.keys(LAYERS)
            .filter((f) => f !== folder && !LAYERS[folder].includes(f))
            .map((f) => ({
              group: [`**/${f}/*`, `**/${f}/**`],
              message: `src/${folder} may not import from src/${f} (imports point down: docs/architecture.md)`,
            })),
          ...extra,
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  ...Object.keys(LAYERS)
    .filter((f) => f !== 'domain')
    .map((f) => layer(f)),
  layer('domain', [NODE_IO], ['src/domain/catalog.ts']),
  { ...layer('domain'), files: ['src/domain/catalog.ts'] },
  {
    // Only src/config reads the environment (src/config/environment.ts names every variable).
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'only src/config reads the environment: use src/config/environment.ts',
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.property.name='process'][property.name='env']",
          message: 'only src/config reads the environment: use src/config/environment.ts',
        },
        {
          // `import { env } from 'node:process'`, or the module whole (its `.env` would escape the rule above)
          selector:
            "ImportDeclaration[source.value=/^(node:)?process$/] > :matches(ImportSpecifier[imported.name='env'], ImportDefaultSpecifier, ImportNamespaceSpecifier)",
          message: 'only src/config reads the environment: use src/config/environment.ts',
        },
      ],
    },
  },
  {
    files: ['bin/**', '**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
