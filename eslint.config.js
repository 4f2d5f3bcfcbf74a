import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports point down only (docs/architecture.md): cli -> app -> pipeline / adapters / stack / telemetry
 * -> domain. Each folder names the layers it may not reach.
 */
const layer = (folder, forbidden) => ({
  files: [`src/${folder}/**/*.{ts,tsx}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/*`, `**/${f}/**`],
          message: `src/${folder} may not import from src/${f} (imports point down: docs/architecture.md)`,
        })),
      },
    ],
  },
});
const above = { cli: [], app: ['cli'] };
above.pipeline = ['cli', 'app', 'ui', 'adapters', 'stack', 'config'];
above.domain = [...above.pipeline, 'pipeline', 'telemetry'];

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
  layer('domain', above.domain),
  layer('pipeline', above.pipeline),
  layer('adapters', ['cli', 'app', 'ui']),
  layer('telemetry', ['cli', 'app', 'ui', 'adapters', 'stack']),
  layer('ui', ['cli', 'app', 'adapters', 'stack']),
  layer('stack', ['cli', 'app', 'ui']),
  layer('text', ['cli', 'app', 'ui', 'adapters', 'stack', 'pipeline', 'domain', 'telemetry']),
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
