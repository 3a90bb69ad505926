import { io, type Socket } from 'socket.io-client';
import type {
  AlertsSnapshot,
  ClientToServerEvents,
  HistoryPoint,
  LiveUpdate,
  RecentJobsQuery,
  RecentJobsReply,
  ServerToClientEvents,
  StageName,
} from '../../../gateway/events.ts';
import { readToken, saveToken } from './token.ts';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

/** Seconds without an update after which the page says its numbers are stale. */
export const STALE_AFTER_S = 5;
const HISTORY_MS = 300_000;

/**
 * The socket state as Svelte 5 runes: one instance for the page. The gateway pushes one update a
 * second and the full history on every (re)connection, so a restarted gateway needs no special
 * handling beyond socket.io-client's own reconnection. `now` ticks every second so that "last
 * update N s ago" and the stale banner move even when nothing arrives.
 */
class LiveStore {
  connection = $state<Connection>('connecting');
  /** raw: replaced wholesale each tick, so no deep proxies are built for it */
  latest = $state.raw<LiveUpdate | null>(null);
  history = $state.raw<HistoryPoint[]>([]);
  /** the gateway's alert rules' state; sent on connection and whenever an alert changes */
  alerts = $state.raw<AlertsSnapshot | null>(null);
  receivedAt = $state<number | null>(null);
  now = $state(Date.now());
  error = $state<string | null>(null);

  staleSeconds = $derived(this.receivedAt === null ? null : Math.floor((this.now - this.receivedAt) / 1000));
  stale = $derived(this.staleSeconds !== null && this.staleSeconds >= STALE_AFTER_S);

  #socket: Socket<ServerToClientEvents, ClientToServerEvents> | undefined;

  start(): () => void {
    const clock = setInterval(() => {
      this.now = Date.now();
    }, 1000);
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
      auth: (cb) => cb({ token: readToken() }),
      reconnectionDelayMax: 3000,
    });
    this.#socket = socket;
    socket.on('connect', () => {
      this.connection = 'live';
      this.error = null;
    });
    socket.on('disconnect', (reason) => {
      this.connection = 'reconnecting';
      // socket.io retries by itself except after a server-side disconnect; a dashboard keeps trying
      if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 2000);
    });
    socket.on('connect_error', (err) => {
      // a refused token is final (socket.io does not retry middleware errors); anything else retries
      this.connection = err.message === 'unauthorized' ? 'unauthorized' : 'reconnecting';
      this.error = err.message;
    });
    socket.on('history', (points) => {
      // a restarted gateway has a short history: keep ours from before it, so charts do not blank
      const first = points[0]?.at ?? Number.POSITIVE_INFINITY;
      const since = (points.at(-1)?.at ?? Date.now()) - HISTORY_MS;
      this.history = [...this.history.filter((p) => p.at < first && p.at > since), ...points];
    });
    socket.on('alerts', (snapshot) => {
      this.alerts = snapshot;
    });
    socket.on('live', (update) => {
      this.latest = update;
      this.receivedAt = Date.now();
      this.now = this.receivedAt;
      const point: HistoryPoint = {
        at: update.at,
        rates: Object.fromEntries(update.stages.map((s) => [s.stage, s.ratePerSec])) as Record<
          StageName,
          number | null
        >,
        lag: Object.fromEntries(
          update.lag.map((g) => [g.group, { messages: g.messages, seconds: g.seconds }]),
        ),
      };
      const kept = this.history.filter((p) => p.at > update.at - HISTORY_MS && p.at < update.at);
      this.history = [...kept, point];
    });
    return () => {
      clearInterval(clock);
      socket.close();
    };
  }

  /** after the user typed a token into the prompt */
  retryWithToken(token: string): void {
    saveToken(token);
    this.connection = 'connecting';
    this.#socket?.connect();
  }

  async recentJobs(query: RecentJobsQuery): Promise<RecentJobsReply> {
    if (!this.#socket?.connected) return { ok: false, error: 'not connected' };
    try {
      return await this.#socket.timeout(10_000).emitWithAck('jobs:recent', query);
    } catch {
      return { ok: false, error: 'the gateway did not answer' };
    }
  }
}

export const live = new LiveStore();
