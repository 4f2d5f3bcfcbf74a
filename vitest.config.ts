import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One file at a time across the projects: the integration and fault files start brokers, stop
    // services and time their stops; on two cores, side by side they slowed a broker's start past a
    // minute. (`npm run test:unit` alone is quick either way.)
    maxWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          // Colour in Ink frames, so the tests can tell colour from NO_COLOR.
          env: { FORCE_COLOR: '1' },
          include: ['test/unit/**/*.test.ts', 'test/ui/**/*.test.{ts,tsx}'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // The services are shared: files run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
