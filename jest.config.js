// Two projects: fast unit tests, and integration tests that start real servers.
// Transpile only (isolatedModules): types are checked once by `tsc --noEmit`, not per test file.
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      // Bounded fuzz runs over every parser that reads network or operator input (test/fuzz/mutate.ts; FUZZ_RUNS raises them).
      displayName: 'fuzz',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/fuzz/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      // Node's environment, plus: no process a test file started outlives it (environment.js).
      testEnvironment: '<rootDir>/test/integration/environment.js',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup-timeout.ts'],
    },
  ],
};
