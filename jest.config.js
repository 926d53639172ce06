/** Jest runs the TypeScript sources as ES modules (Nest 12 is ESM-only). */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // As tsconfig.json's paths: the sample and README code import the package by its name.
    '^nestjs-web-pubsub/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-web-pubsub/emulator$': '<rootDir>/lib/emulator/index.ts',
    '^nestjs-web-pubsub/socket\\.io$': '<rootDir>/lib/socket-io/index.ts',
    '^nestjs-web-pubsub$': '<rootDir>/lib/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Fastify's inject() requires the ES-module-only cookie 2, which Jest on Node < 24.9 cannot load.
    '^cookie$': '<rootDir>/test/utils/cookie.shim.cjs',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  testTimeout: 30000,
};
