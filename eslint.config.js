import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'web/dist',
      '.wrangler',
      'core/codec/dnstap-pb.*',
      'bench/.data',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Core is pure: it runs unchanged in a browser tab, a worker and Node.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'path', 'zlib', 'buffer'] }],
      'no-restricted-globals': ['error', 'Buffer', 'process', 'fetch', 'document', 'window'],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'core has no clock: the edge passes time in' },
        { object: 'Math', property: 'random', message: 'core has no randomness' },
      ],
    },
  },
)
