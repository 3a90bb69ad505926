import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { API_NAMES } from './apis.ts';
import {
  type ApiAssignment,
  apiOfPartition,
  apiPartition,
  assignApis,
  decodeClaim,
  encodeClaim,
  ownershipAssigner,
} from './ownership.ts';

const ALL = API_NAMES;
const plain = (a: ApiAssignment) => Object.fromEntries(a.byMember);

describe('assignApis', () => {
  it('gives every API to the only member', () => {
    const a = assignApis([{ memberId: 'm1', eligible: ALL, running: [] }]);
    expect(plain(a)).toEqual({ m1: ['workspaces', 'enrichment-jobs'] });
    expect(a.unassigned).toEqual([]);
  });

  it('spreads the APIs over two members, each API exactly once', () => {
    const a = assignApis([
      { memberId: 'm2', eligible: ALL, running: [] },
      { memberId: 'm1', eligible: ALL, running: [] },
    ]);
    expect(plain(a)).toEqual({ m1: ['workspaces'], m2: ['enrichment-jobs'] });
  });

  it('moves only what balance needs when a member joins: the running owner keeps one API', () => {
    // m9 ran both; m1 (sorted first) joins: m9 keeps workspaces (its first within its share), m1 takes the other
    const a = assignApis([
      { memberId: 'm9', eligible: ALL, running: ['workspaces', 'enrichment-jobs'] },
      { memberId: 'm1', eligible: ALL, running: [] },
    ]);
    expect(plain(a)).toEqual({ m1: ['enrichment-jobs'], m9: ['workspaces'] });
  });

  it('keeps each API where it runs when the members are already balanced', () => {
    const a = assignApis([
      { memberId: 'm1', eligible: ALL, running: ['enrichment-jobs'] },
      { memberId: 'm2', eligible: ALL, running: ['workspaces'] },
    ]);
    expect(plain(a)).toEqual({ m1: ['enrichment-jobs'], m2: ['workspaces'] });
  });

  it('gives an API only to members that may run it, and reports one nobody may run', () => {
    const a = assignApis([
      { memberId: 'm1', eligible: ['workspaces'], running: [] },
      { memberId: 'm2', eligible: ['workspaces'], running: [] },
    ]);
    expect(a.unassigned).toEqual(['enrichment-jobs']);
    expect([...a.byMember.values()].flat()).toEqual(['workspaces']);

    const b = assignApis([
      { memberId: 'm1', eligible: ['workspaces'], running: [] },
      { memberId: 'm2', eligible: ALL, running: [] },
    ]);
    expect(plain(b)).toEqual({ m1: ['workspaces'], m2: ['enrichment-jobs'] });
  });

  it('never gives an API twice, even when two members both claim to run it (a zombie)', () => {
    const a = assignApis([
      { memberId: 'm1', eligible: ALL, running: ['workspaces'] },
      { memberId: 'm2', eligible: ALL, running: ['workspaces'] },
      { memberId: 'm3', eligible: ALL, running: [] },
    ]);
    const given = [...a.byMember.values()].flat().sort();
    expect(given).toEqual([...ALL].sort());
    expect(a.byMember.get('m1')).toEqual(['workspaces']);
  });
});

describe('claims and the kafkajs assigner', () => {
  it('round-trips a claim; a member without one (not a poller) may run nothing', () => {
    const claim = decodeClaim('m', encodeClaim({ eligible: ALL, running: ['workspaces'], instance: 'p-1' }));
    expect(claim).toEqual({ memberId: 'm', eligible: [...ALL], running: ['workspaces'], instance: 'p-1' });
    expect(decodeClaim('x', Buffer.from('not json')).eligible).toEqual([]);
    expect(decodeClaim('x', Buffer.from('{"eligible":["nope","workspaces"]}')).eligible).toEqual([
      'workspaces',
    ]);
  });

  it('maps each API to its own partition of the state topic', () => {
    for (const api of ALL) expect(apiOfPartition(apiPartition(api))).toBe(api);
    expect(new Set(ALL.map(apiPartition)).size).toBe(ALL.length);
  });

  it('encodes partitions per member that kafkajs decodes back', async () => {
    const assigner = ownershipAssigner({
      topic: 'state',
      claim: () => ({ eligible: ALL, running: [] }),
    })({} as never);
    const member = (memberId: string) => ({
      memberId,
      memberMetadata: assigner.protocol({ topics: ['state'] }).metadata,
    });
    const out = await assigner.assign({ members: [member('b'), member('a')], topics: ['state'] });
    const decoded = Object.fromEntries(
      out.map((o) => [o.memberId, AssignerProtocol.MemberAssignment.decode(o.memberAssignment)?.assignment]),
    );
    expect(decoded).toEqual({ a: { state: [0] }, b: { state: [1] } });
  });
});
