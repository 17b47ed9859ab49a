// What eslint checks (test/unit/lint.test.ts runs it over src/ and test/; `npm run lint` does too):
// typescript-eslint's type-checked recommended rules, plus two that catch lost async errors.
// Type-aware linting builds the TypeScript program once: 20-30 s for src/ and test/ on 2 cores.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Generated code, build output, installed tools and the Java agent (.gitignore and .prettierignore skip them too).
  { ignores: ['src/generated/**', 'dist/**', 'node_modules/**', '.local/**', 'coverage/**', 'test-results/**', 'agent/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `return promise` inside try skips its catch and finally; there it must be `return await`.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // An async executor loses what it throws: the promise neither rejects nor settles.
      'no-async-promise-executor': 'error',
      // `async` marks fakes and handlers that fulfil a Promise-returning contract; without it their throws would be synchronous.
      '@typescript-eslint/require-await': 'off',
      // `{}` is `unknown` narrowed by a run-time check (`?? fallback`, `!== null`): String() of wire data is deliberate,
      // and the rule leaves plain `unknown` alone too. Real object types are still reported.
      '@typescript-eslint/no-base-to-string': ['error', { ignoredTypeNames: ['Error', 'RegExp', 'URL', 'URLSearchParams', '{}'] }],
      // TypeScript's own conventions: a leading _ names an unused parameter; destructuring drops a key from the rest.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read Envoy's admin JSON, rendered manifests and Kubernetes objects as `any` and let expect() check them;
    // typing every foreign document would add casts, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The few JavaScript files (the jest environment, the aedes broker process) are outside tsconfig: rules without types.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.recommended],
  },
  {
    // A .js file here is CommonJS (package.json has no "type"), where require() is how a module loads.
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
