import { defineConfig } from 'vitest/config';

/**
 * Three projects: `unit` (pure logic, no servers, fakes allowed), `integration` (real Kafka,
 * registry, Postgres and MongoDB started by tests/support/global-setup.ts in their own data folder
 * and ports, so a running `npm start` is never touched), and `cluster` (the three-broker scale-out
 * test, which starts its own instance: `npm run test:cluster`, not part of `npm test`).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // unit tests run first (and fail fast), then the integration tests
          sequence: { groupOrder: 0 },
          include: ['**/*.test.ts'],
          exclude: [
            'node_modules/**',
            'tests/integration/**',
            'tests/cluster/**',
            '.tributary/**',
            'dashboard/**',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // 2 cores run four JVMs already: two test files at a time is the most that stays stable.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['tests/cluster/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 300_000,
          // three Kafka JVMs and a dozen role processes: one file at a time
          maxWorkers: 1,
        },
      },
    ],
  },
});
