import net from 'node:net';

/**
 * A TCP proxy a test owns, in front of a shared server: pointing a role at it lets the test "take
 * the server down" (refuse connections and cut the open ones) and bring it back, without touching
 * the server other tests use. It listens on 127.0.0.1 on the same port after each `open()`.
 */
export interface TcpProxy {
  readonly port: number;
  /** cuts every connection and refuses new ones (ECONNREFUSED) */
  close(): Promise<void>;
  /** accepts connections again, on the same port */
  open(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;

  function listen(): Promise<void> {
    const s = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // a reset on one side is expected when the test cuts the connection: close the other
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server = s;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  await listen();
  return {
    get port() {
      return port;
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve())); // stops accepting first
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async open() {
      if (!server) await listen();
    },
  };
}

/** The URL with its port replaced by the proxy's, e.g. a postgres:// URL. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
