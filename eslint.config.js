import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'dist/', 'sbom/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The domain is pure: nothing that does I/O may be imported there.
    files: ['src/domain/**/*.ts', 'src/domain/**/*.tsx'],
    ignores: ['src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'http', 'https', 'net', 'child_process', 'crypto', 'os'], message: 'Le domaine est pur : aucune entrée/sortie.' },
            {
              group: ['**/infra/**', '**/http/**', '**/modules/**', '**/sources/**', '**/sandbox/**', '**/cli/**'],
              message: 'Le domaine ne dépend que de lui-même.',
            },
            { group: ['kysely', 'pg', 'better-sqlite3', 'fastify', 'pino', 'undici'], message: 'Le domaine est pur : aucune entrée/sortie.' },
          ],
        },
      ],
    },
  },
  {
    // A module may use another module's services, never its routes or pages: what several modules
    // share lives in src/http (shells, design system), and the app registers every module's routes.
    files: ['src/modules/**/*.ts', 'src/modules/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*/*-routes*', '../*/*-views*', '**/modules/*/*-routes*', '**/modules/*/*-views*'],
              message: 'Un module n’importe ni les routes ni les pages d’un autre module : déplacez ce qui est partagé dans src/http, src/domain ou src/infra.',
            },
          ],
        },
      ],
    },
  },
);
