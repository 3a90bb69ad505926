import { base, en, Faker } from '@faker-js/faker';
import {
  type EnrichmentJob,
  type JobKind,
  JobKindValues,
  type Plan,
  PlanValues,
  type Workspace,
} from '../schemas/generated/types.ts';
import { createMersenneRandomizer, type RngState } from './mersenne.ts';

export const SEGMENTS = ['smb', 'mid_market', 'enterprise'] as const;
export const ERROR_CODES = ['provider_timeout', 'quota_exceeded', 'invalid_input', 'upstream_error'] as const;

/** The simulator's current state of a record: the generated Avro types (timestamps in epoch ms). */
export type WorkspaceState = Workspace;
export type JobState = EnrichmentJob;

/**
 * Every random choice of the simulator comes from here: one seeded Faker instance, so the same seed
 * and the same sequence of clock readings give the same data (uuids included: Faker draws them from
 * its seeded generator, not from crypto).
 */
export interface Generator {
  /** a uniform number in [0, 1) */
  float(): number;
  /** true with probability p; always draws, so the sequence does not depend on p */
  chance(p: number): boolean;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  workspace(opts: { createdAt: number; at: number }): WorkspaceState;
  job(opts: { workspaceId: string; at: number }): JobState;
  companyName(): string;
  otherPlan(plan: Plan): Plan;
  /** where the sequence is: saved with the world, so a restarted mock source continues it */
  saveRng(): RngState;
  restoreRng(state: RngState): void;
}

const PLAN_WEIGHTS: Record<Plan, number> = { free: 40, starter: 30, pro: 20, enterprise: 10 };

export function createGenerator(deps: { seed: number }): Generator {
  const randomizer = createMersenneRandomizer(deps.seed);
  const faker = new Faker({ locale: [en, base], randomizer });
  const float = () => faker.number.float({ min: 0, max: 1 }) % 1; // % 1: never 1, whatever the bounds
  const weightedPlan = (exclude?: Plan) =>
    faker.helpers.weightedArrayElement(
      PlanValues.filter((p) => p !== exclude).map((p) => ({ weight: PLAN_WEIGHTS[p], value: p })),
    );
  return {
    float,
    chance: (p) => float() < p,
    int: (min, max) => faker.number.int({ min, max }),
    pick: (items) => faker.helpers.arrayElement(items),
    workspace({ createdAt, at }) {
      const plan = weightedPlan();
      // the segment follows the plan loosely: big plans are mostly big customers
      const segment =
        plan === 'enterprise'
          ? faker.helpers.arrayElement(['mid_market', 'enterprise', 'enterprise'])
          : plan === 'pro'
            ? faker.helpers.arrayElement(['smb', 'mid_market'])
            : 'smb';
      const firstName = faker.person.firstName();
      const lastName = faker.person.lastName();
      return {
        id: faker.string.uuid(),
        name: faker.company.name(),
        plan,
        segment,
        country: faker.location.countryCode('alpha-2'),
        owner_email: faker.internet.email({ firstName, lastName }).toLowerCase(),
        created_at: createdAt,
        updated_at: at,
      };
    },
    job({ workspaceId, at }) {
      return {
        id: faker.string.uuid(),
        workspace_id: workspaceId,
        kind: faker.helpers.arrayElement<JobKind>(JobKindValues),
        status: 'queued',
        requested_count: faker.number.int({ min: 1, max: 5000 }),
        enriched_count: 0,
        failed_count: 0,
        error_code: null,
        created_at: at,
        updated_at: at,
        finished_at: null,
      };
    },
    companyName: () => faker.company.name(),
    otherPlan: (plan) => weightedPlan(plan),
    saveRng: () => randomizer.save(),
    restoreRng: (state) => randomizer.restore(state),
  };
}
