import net from 'node:net';

/**
 * A TCP port that was free a moment ago on `host`. Another process can still take it
 * before the caller binds; prefer binding port 0 directly where the API allows it.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close((err) => {
        if (err) reject(err);
        else if (port === undefined) reject(new Error(`could not read a bound port on ${host}`));
        else resolve(port);
      });
    });
  });
}
