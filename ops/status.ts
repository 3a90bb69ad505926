import type { Admin, Kafka } from 'kafkajs';
import { describeError } from '../common/errors.ts';
import type { LatestWalk } from '../gateway/walks/query.ts';
import type { EndpointStatus, InfraOptions } from '../runtime/endpoints.ts';
import { type DlqSummary, existingDlqTopics, summarizeDlq } from './dlq.ts';
import { type GroupLag, groupLag } from './lag.ts';
import type { OpsOptions } from './options.ts';
import { type RoleStatus, roleStatuses } from './roles.ts';
import { listSubjects, type SubjectVersions } from './subjects.ts';

/**
 * `tributary status`: the servers' health, the roles' own verdicts (running, stalled and why, or
 * silent — ops/roles.ts), every pipeline consumer group with its lag (messages and seconds), the
 * dead-letter counts, and the registry's subjects. Each section that cannot be read says why
 * instead of hiding the others.
 */
export interface StatusReport {
  infra: EndpointStatus[];
  roles: RoleStatus[];
  groups: GroupLag[];
  deadLetters: DlqSummary[];
  subjects: SubjectVersions[];
  /** the latest walk of each poller and how it reconciled (ops.walks, filled by the gateway) */
  walks: LatestWalk[];
  /** section → why it could not be read */
  errors: Record<string, string>;
}

/** The pipeline's groups: every group under the prefix, and the configured ones even before they exist. */
export async function pipelineGroups(admin: Admin, ops: OpsOptions): Promise<string[]> {
  const { groups } = await admin.listGroups();
  const names = new Set(Object.values(ops.groups).filter((g) => g !== ''));
  for (const g of groups) if (g.groupId.startsWith(ops.groupPrefix)) names.add(g.groupId);
  return [...names].sort();
}

export async function collectStatus(deps: {
  infra: InfraOptions;
  ops: OpsOptions;
  endpoints: EndpointStatus[];
  /** opens Kafka clients; called only when Kafka is healthy */
  kafka: () => Promise<{ kafka: Kafka; admin: Admin }>;
  /** reads the latest walks (gateway/walks/query.ts); called only when Postgres is healthy */
  walks?: () => Promise<LatestWalk[]>;
}): Promise<StatusReport> {
  const report: StatusReport = {
    infra: deps.endpoints,
    roles: [],
    groups: [],
    deadLetters: [],
    subjects: [],
    walks: [],
    errors: {},
  };
  const healthy = (name: string) => deps.endpoints.find((e) => e.name === name)?.healthy === true;
  const section = async (name: string, needs: string, run: () => Promise<void>) => {
    if (!healthy(needs)) {
      report.errors[name] = `${needs} is not healthy`;
      return;
    }
    try {
      await run();
    } catch (err) {
      report.errors[name] = describeError(err);
    }
  };
  await Promise.all([
    section('roles', 'kafka', async () => {
      report.roles = await roleStatuses(await deps.kafka(), deps.ops.topics.metrics);
    }),
    section('groups', 'kafka', async () => {
      const k = await deps.kafka();
      const names = await pipelineGroups(k.admin, deps.ops);
      report.groups = await Promise.all(names.map((g) => groupLag(k, g)));
    }),
    section('deadLetters', 'kafka', async () => {
      const k = await deps.kafka();
      const topics = await existingDlqTopics(k.admin, deps.ops.topics.dlqs);
      const summaries = await Promise.all(
        topics.map((t) =>
          summarizeDlq(k, t, { top: 1, timeoutMs: 30_000 }).catch(async (err) => {
            // A topic deleted while it was being read is simply no longer there.
            if ((await k.admin.listTopics()).includes(t)) throw err;
            return undefined;
          }),
        ),
      );
      report.deadLetters = summaries.filter((s): s is DlqSummary => s !== undefined);
    }),
    section('walks', 'postgres', async () => {
      if (deps.walks) report.walks = await deps.walks();
    }),
    section('subjects', 'registry', async () => {
      report.subjects = await listSubjects(deps.infra.registry);
    }),
  ]);
  return report;
}
