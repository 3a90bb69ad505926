import type { Consumer } from 'kafkajs';
import { describeError, RemoteError } from './errors.ts';
import type { Probe } from './liveness.ts';
import type { Logger } from './logger.ts';
import { sleep, withRetry } from './retry.ts';

/**
 * Keeps one consumer group's loop running for as long as its owner runs. kafkajs restarts a consumer
 * after a crash it deems retriable, but after any other (KafkaJSNonRetriableError — a produce request
 * the broker refused —, a handler that threw a non-retriable error…) it emits CRASH with
 * `restart: false` and the group silently loses its member for good. Here every crash is logged
 * with the group and topics, `onCrash` lets the owner drop what the crashed session held, and a
 * crash kafkajs will not restart from is followed by a restart of ours: a NEW consumer object (a
 * crashed one keeps half-torn state), after a backoff that grows while crashes repeat without a
 * batch in between, retried (common/retry.ts) until it runs again or the owner closes.
 *
 * The probe (common/liveness.ts), when given, learns from the consumer's events whether it is in its
 * group, how many messages wait (kafkajs batch events: batch size + offset lag), and each batch
 * handled.
 */
export interface KeepRunningOptions {
  groupId: string;
  topics: readonly string[];
  /** a new, unconnected consumer of the group; called at start and for each restart of ours */
  create: () => Consumer;
  /** connects, subscribes and runs the consumer; put the listeners the owner needs on it here */
  run: (consumer: Consumer) => Promise<void>;
  /** after every crash (also those kafkajs restarts from), before any restart */
  onCrash?: (error: Error, restartedByKafkajs: boolean) => void;
  /**
   * Whether a crash kafkajs will not restart from is restarted (default: always). A bounded reader
   * says no to its own bugs, which a restart would only repeat until its deadline.
   */
  shouldRestart?: (error: Error) => boolean;
  logger: Logger;
  probe?: Probe;
  /** the wait before a restart of ours: minDelayMs doubling per repeated crash, up to maxDelayMs */
  backoff?: { minDelayMs: number; maxDelayMs: number };
}

export interface KeptConsumer {
  /** runs the first consumer; throws when it cannot connect or subscribe (a start-up failure) */
  start(): Promise<void>;
  /** the consumer running now (a restart replaces it) */
  current(): Consumer;
  /** the last crash, until a batch is handled again */
  lastCrash(): Error | undefined;
  /** stops restarting, then disconnects the consumer (it finishes its batch in flight); once */
  close(): Promise<void>;
}

export function keepConsumerRunning(opts: KeepRunningOptions): KeptConsumer {
  const { groupId, logger, probe } = opts;
  const topics = [...opts.topics];
  const backoff = opts.backoff ?? { minDelayMs: 1000, maxDelayMs: 30_000 };
  const stop = new AbortController();
  let consumer: Consumer | undefined;
  let crashesInARow = 0;
  let lastCrash: Error | undefined;
  /** set while a restart of ours is in progress; a crash meanwhile fails that attempt */
  let restarting: Promise<void> | undefined;
  let crashDuringAttempt: Error | undefined;
  let attempt: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  function attach(c: Consumer): void {
    const { events } = c;
    c.on(events.GROUP_JOIN, ({ payload }) => {
      probe?.joined();
      const keys = new Set<string>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const p of partitions) keys.add(`${topic}/${p}`);
      }
      probe?.retain(keys);
    });
    c.on(events.START_BATCH_PROCESS, ({ payload }) => {
      probe?.waiting(`${payload.topic}/${payload.partition}`, payload.batchSize + lagOf(payload.offsetLag));
    });
    c.on(events.END_BATCH_PROCESS, ({ payload }) => {
      // the handler returned: the batch is done, whatever crashed before it
      crashesInARow = 0;
      lastCrash = undefined;
      probe?.waiting(`${payload.topic}/${payload.partition}`, lagOf(payload.offsetLag));
      probe?.progressed();
    });
    c.on(events.CRASH, ({ payload }) => {
      if (c !== consumer || stop.signal.aborted) return; // a replaced consumer, or we are closing
      const error = payload.error;
      lastCrash = error;
      probe?.left(`crashed: ${describeError(error)}`);
      probe?.failed(error);
      const fields = { group: groupId, topics, err: describeError(error), errorName: error.name };
      opts.onCrash?.(error, payload.restart);
      if (payload.restart) {
        logger.warn(fields, 'consumer crashed; kafkajs restarts it');
        return;
      }
      if (opts.shouldRestart && !opts.shouldRestart(error)) {
        logger.error(fields, 'consumer crashed');
        return;
      }
      if (restarting) {
        crashDuringAttempt = error;
        return;
      }
      logger.error(fields, 'consumer crashed and kafkajs will not restart it; restarting it');
      restarting = restart().finally(() => {
        restarting = undefined;
      });
    });
  }

  async function runOne(): Promise<void> {
    const c = opts.create();
    attach(c);
    consumer = c;
    crashDuringAttempt = undefined;
    try {
      await opts.run(c);
    } catch (err) {
      await c
        .disconnect()
        .catch((e) => logger.warn({ group: groupId, err: describeError(e) }, 'disconnect failed'));
      throw err;
    }
    if (stop.signal.aborted) {
      await c.disconnect();
      throw stop.signal.reason;
    }
  }

  async function restart(): Promise<void> {
    crashesInARow++;
    const delay = Math.min(backoff.maxDelayMs, backoff.minDelayMs * 2 ** (crashesInARow - 1));
    try {
      await sleep(delay * (0.5 + Math.random() / 2), stop.signal);
      await withRetry(
        async () => {
          try {
            attempt = runOne();
            await attempt;
          } catch (err) {
            throw restartFailed(groupId, err); // withRetry retries only what says it is retriable
          }
          // `run` resolves even when joining failed: kafkajs reports that as a crash instead
          if (crashDuringAttempt) throw restartFailed(groupId, crashDuringAttempt);
        },
        { retries: Number.POSITIVE_INFINITY, ...backoff },
        {
          signal: stop.signal,
          onRetry: ({ error, attempt: n }) => {
            probe?.failed(error);
            logger.warn(
              { group: groupId, topics, attempt: n, err: describeError(error) },
              'consumer restart failed; retrying',
            );
          },
        },
      );
      logger.info({ group: groupId, topics }, 'consumer restarted');
    } catch (err) {
      if (!stop.signal.aborted)
        logger.error({ group: groupId, err: describeError(err) }, 'consumer restart gave up');
    }
  }

  return {
    async start() {
      attempt = runOne();
      await attempt;
    },
    current() {
      if (!consumer) throw new Error(`the consumer of group ${groupId} has not started`);
      return consumer;
    },
    lastCrash: () => lastCrash,
    close() {
      closing ??= (async () => {
        stop.abort(new Error(`the consumer of group ${groupId} is closing`));
        await restarting;
        await attempt.catch(() => undefined); // its failure was logged; what matters now is the disconnect
        try {
          await consumer?.disconnect();
        } finally {
          probe?.remove();
        }
      })();
      return closing;
    },
  };
}

/** kafkajs reports offsetLag as a string; it is "-1"-ish for an empty batch at the very end */
function lagOf(offsetLag: string): number {
  const n = Number(offsetLag);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** A retriable wrapper, so withRetry keeps trying whatever the restart failed on. */
export function restartFailed(groupId: string, err: unknown): RemoteError {
  return new RemoteError(
    `cannot restart the consumer of group ${groupId}: ${describeError(err)}`,
    undefined,
    {
      retriable: true,
      cause: err,
    },
  );
}

/**
 * True when a crash came from Kafka's side (a broker, the group coordinator, a refused request) and
 * not from the owner's handler: kafkajs names its errors KafkaJS…, and wraps a handler's error as
 * the cause. A topic that no longer exists is not worth restarting for either.
 */
export function kafkaSideCrash(error: Error): boolean {
  let e: (Error & { type?: string; cause?: unknown }) | undefined = error;
  let original: Error & { type?: string } = error;
  while (e) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return false;
    original = e;
    e = e.cause instanceof Error ? (e.cause as Error & { type?: string; cause?: unknown }) : undefined;
  }
  return original.name.startsWith('KafkaJS');
}
