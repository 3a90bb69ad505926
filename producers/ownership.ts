import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { API_NAMES, type ApiName, isApiName } from './apis.ts';

/**
 * Which pollers process polls which API, decided by a Kafka consumer group and nothing else.
 *
 * Every pollers process joins the group `<TRIBUTARY_POLL_TRANSACTIONAL_ID_PREFIX>.owners`,
 * subscribed to the poller-state topic, in which each API owns one partition (`apiPartition`).
 * The group's leader runs `assignApis` (through `ownershipAssigner`): each API goes to exactly one
 * member that may run it, an API stays where it runs while that member is not above its fair
 * share (a member that joins takes over only what balance needs), and the rest goes to the member
 * with the fewest. A process polls exactly the APIs of its assignment; when the group moves one
 * (a member joined, left, or died and its session expired), the new owner initialises the API's
 * transactional id, which fences whatever the old owner still had open. Pure logic, plus the thin
 * kafkajs adapter at the end.
 */

/** The partition of the poller-state topic an API owns (and where its state is written). */
export function apiPartition(api: ApiName): number {
  return API_NAMES.indexOf(api);
}

/** The API that owns a partition of the poller-state topic, if any. */
export function apiOfPartition(partition: number): ApiName | undefined {
  return API_NAMES[partition];
}

/** What a member says about itself when it joins (the protocol's userData, JSON). */
export interface MemberClaim {
  memberId: string;
  /** the APIs this member may run (its TRIBUTARY_POLLERS) */
  eligible: readonly ApiName[];
  /** the APIs it polls right now: kept there when balance allows, so a join moves as little as possible */
  running: readonly ApiName[];
  /** its TRIBUTARY_INSTANCE_ID, for the leader's log line */
  instance?: string;
}

export interface ApiAssignment {
  /** member id → the APIs it polls (every member present, possibly with none) */
  byMember: Map<string, ApiName[]>;
  /** APIs no member may run (every process limits TRIBUTARY_POLLERS to others) */
  unassigned: ApiName[];
}

export function assignApis(
  members: readonly MemberClaim[],
  apis: readonly ApiName[] = API_NAMES,
): ApiAssignment {
  const sorted = [...members].sort((a, b) =>
    a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0,
  );
  const byMember = new Map<string, ApiName[]>(sorted.map((m) => [m.memberId, []]));
  const unassigned: ApiName[] = [];
  const candidates = (api: ApiName) => sorted.filter((m) => m.eligible.includes(api));
  // A member's fair share: the APIs divided over the members that can take any, rounded up.
  const able = sorted.filter((m) => apis.some((a) => m.eligible.includes(a))).length;
  const share = able === 0 ? 0 : Math.ceil(apis.length / able);
  const pending: ApiName[] = [];
  for (const api of apis) {
    const stay = candidates(api).find(
      (m) => m.running.includes(api) && byMember.get(m.memberId)!.length < share,
    );
    if (stay) byMember.get(stay.memberId)!.push(api);
    else pending.push(api);
  }
  for (const api of pending) {
    const options = candidates(api);
    if (options.length === 0) {
      unassigned.push(api);
      continue;
    }
    let best = options[0]!;
    for (const m of options) {
      if (byMember.get(m.memberId)!.length < byMember.get(best.memberId)!.length) best = m;
    }
    byMember.get(best.memberId)!.push(api);
  }
  return { byMember, unassigned };
}

export function encodeClaim(claim: Omit<MemberClaim, 'memberId'>): Buffer {
  return Buffer.from(
    JSON.stringify({ eligible: claim.eligible, running: claim.running, instance: claim.instance }),
  );
}

/**
 * A member's claim from its userData. A member without one (another client in the group) may run
 * nothing: it never gets an API.
 */
export function decodeClaim(memberId: string, userData: Buffer | null | undefined): MemberClaim {
  try {
    const v = JSON.parse(String(userData ?? '')) as Partial<Record<'eligible' | 'running', unknown>> & {
      instance?: unknown;
    };
    const list = (x: unknown) =>
      Array.isArray(x) ? x.filter((a): a is ApiName => typeof a === 'string' && isApiName(a)) : [];
    return {
      memberId,
      eligible: list(v.eligible),
      running: list(v.running),
      instance: typeof v.instance === 'string' ? v.instance : undefined,
    };
  } catch {
    return { memberId, eligible: [], running: [] }; // not one of ours: it gets nothing
  }
}

export const OWNERSHIP_PROTOCOL = 'TributaryPollerOwnership';

/**
 * The group's assignment protocol: `claim()` is read each time this process (re)joins; when this
 * process leads the group, `onAssigned` hears the whole outcome (for the log).
 */
export function ownershipAssigner(opts: {
  topic: string;
  claim: () => Omit<MemberClaim, 'memberId'>;
  onAssigned?: (result: ApiAssignment, claims: MemberClaim[]) => void;
}): PartitionAssigner {
  return () => ({
    name: OWNERSHIP_PROTOCOL,
    version: 1,
    async assign({ members }) {
      const claims = members.map((m) => {
        const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
        return decodeClaim(m.memberId, meta?.userData);
      });
      const result = assignApis(claims);
      opts.onAssigned?.(result, claims);
      return [...result.byMember].map(([memberId, apis]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: apis.length > 0 ? { [opts.topic]: apis.map(apiPartition) } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: OWNERSHIP_PROTOCOL,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeClaim(opts.claim()),
        }),
      };
    },
  });
}
