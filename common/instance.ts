import { hostname } from 'node:os';
import { type Static, Type } from 'typebox';
import { readEnv } from './env.ts';

/**
 * The name of one running process of the pipeline ("instance"), for people: it goes into the
 * kafkajs client ids (so the brokers' logs and a group's member list — `tributary status`,
 * `kafka-consumer-groups --describe` — say which process is which), into the name of the gateway's
 * per-instance group and into every log line.
 *
 * Nothing correct depends on it being unique or stable, on purpose: the pollers' transactional ids
 * are per API and their ownership is decided by a consumer group; bronze and the gold sinks are
 * plain group members; each gateway reads with a group of its own that also carries a random part.
 * So two processes started with the same TRIBUTARY_INSTANCE_ID by mistake only share a label. The
 * default (host name and pid) is unique per process without any configuration; set it to a stable
 * slot name (a pod name, `pollers-1`) when you want the same name after a restart.
 *
 * The one per-instance identity that correctness depends on is the processor's transactional id
 * (`<TRIBUTARY_PROCESSOR_GROUP>.<TRIBUTARY_PROCESSOR_INSTANCE>`): see docs/architecture.md, "Scaling".
 */
export const InstanceEnv = Type.Object({
  TRIBUTARY_INSTANCE_ID: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9._-]+$',
      description:
        'a name for this process in client ids, group member lists and logs (letters, digits, . _ -; default <host>-<pid>)',
    }),
  ),
});
export type InstanceEnv = Static<typeof InstanceEnv>;

/** TRIBUTARY_INSTANCE_ID, or `<host>-<pid>` (host name cut to the characters a client id takes). */
export function instanceId(env: NodeJS.ProcessEnv = process.env): string {
  const set = readEnv(InstanceEnv, env).TRIBUTARY_INSTANCE_ID;
  if (set) return set;
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 60) || 'host';
  return `${host}-${process.pid}`;
}

/** The kafkajs client id of one role in this instance, e.g. `tributary-pollers-web-1`. */
export function clientId(role: string, env: NodeJS.ProcessEnv = process.env): string {
  return `tributary-${role}-${instanceId(env)}`;
}
