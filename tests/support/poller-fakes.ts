import type { Message, TopicMessages } from 'kafkajs';
import type { PageCommitter } from '../../producers/committer.ts';
import { type PollerState, parseState, serializeState } from '../../producers/state.ts';
import type { StateStore } from '../../producers/state-store.ts';

/**
 * In-memory stand-ins for the pollers' Kafka side, for unit tests of the loop: a "log" of committed
 * transactions that the fake state store reads back, and committers that can be told to fail.
 */
export interface FakeKafka {
  /** committed transactions, in order */
  committed: TopicMessages[][];
  /** makes the next commit throw; `landed` says whether it reached the log before failing */
  failNextCommit(landed: boolean): void;
  opened: number;
  /** commits wait until the returned function is called; `pending` tells that one is waiting */
  holdCommits(): { release(): void; pending(): boolean };
  createCommitter(): PageCommitter;
  stateStore: StateStore;
  messages(topic: string): Message[];
}

export function createFakeKafka(stateTopic = 'state'): FakeKafka {
  const committed: TopicMessages[][] = [];
  let failure: { landed: boolean } | undefined;
  let gate: { promise: Promise<void>; waiting: boolean } | undefined;
  const fake: FakeKafka = {
    committed,
    opened: 0,
    failNextCommit(landed) {
      failure = { landed };
    },
    holdCommits() {
      let release!: () => void;
      const g = { promise: new Promise<void>((r) => (release = r)), waiting: false };
      gate = g;
      return {
        release: () => {
          gate = undefined;
          release();
        },
        pending: () => g.waiting,
      };
    },
    createCommitter() {
      let open = false;
      return {
        async open() {
          open = true;
          fake.opened++;
        },
        async commit(batches) {
          if (!open) throw new Error('committer not open');
          if (gate) {
            gate.waiting = true;
            await gate.promise;
          }
          const f = failure;
          failure = undefined;
          if (f?.landed) committed.push(batches);
          if (f) {
            open = false;
            throw new Error('fake broker connection lost');
          }
          committed.push(batches);
        },
        async close() {
          open = false;
        },
      };
    },
    stateStore: {
      async read(poller: string): Promise<PollerState | undefined> {
        const values = committed
          .flat()
          .filter((b) => b.topic === stateTopic)
          .flatMap((b) => b.messages)
          .filter((m) => m.key === poller);
        const last = values.at(-1);
        return last ? parseState(String(last.value)) : undefined;
      },
      message(poller: string, state: PollerState) {
        return { topic: stateTopic, messages: [{ key: poller, value: serializeState(state) }] };
      },
    },
    messages: (topic) =>
      committed
        .flat()
        .filter((b) => b.topic === topic)
        .flatMap((b) => b.messages),
  };
  return fake;
}
