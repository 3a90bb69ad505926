import type { Message, RecordMetadata, TopicMessages } from 'kafkajs';
import { HEADERS } from '../../contracts/headers.ts';
import type { PageCommitter } from '../../producers/committer.ts';
import {
  initialCursor,
  type PollerState,
  parseState,
  restoredCursor,
  serializeState,
} from '../../producers/state.ts';
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

export function createFakeKafka(stateTopic = 'state', overlapMs = 2000): FakeKafka {
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
        async commit(first, last) {
          if (!open) throw new Error('committer not open');
          // One partition per topic; a record's offset is its index in the topic's log.
          const sent: RecordMetadata[] = first.map((b) => ({
            topicName: b.topic,
            partition: 0,
            errorCode: 0,
            baseOffset: String(fake.messages(b.topic).length),
          }));
          const batches = [...first, last(sent)];
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
      async load(poller: string) {
        const values = fake.messages(stateTopic).filter((m) => m.key === poller);
        const last = values.at(-1);
        if (!last) return initialCursor();
        const state = parseState(String(last.value));
        if (state.v !== 2) throw new Error('the fake reads version-2 states only');
        const versions = state.window.flatMap((w) =>
          fake
            .messages(w.topic)
            .slice(Number(w.offset))
            .map(
              (m) => [String(m.headers?.[HEADERS.version]), Number(m.headers?.[HEADERS.versionAt])] as const,
            ),
        );
        return restoredCursor(state.hwm, versions, state.window, overlapMs);
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
