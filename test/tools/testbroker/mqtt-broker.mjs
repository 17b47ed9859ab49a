// The demo/test MQTT broker: one aedes broker in its own Node process, started by the
// demo (test/tools/demo/processes.ts) and by the integration tests (test/support/brokers.ts).
// It runs as a child process because aedes 1.x is an ES module, which jest's CommonJS
// runtime cannot load on Node 20; a separate process is also closer to a real broker.
// Protocol over IPC: sends {type:'ready', port, websocketPort}, {type:'clients', count,
// connectionsTotal, clientId?} (clientId: the client that just connected) and {type:'error', message}; obeys {type:'stop'}. BROKER_PORT=0 picks a
// free port. MQTT over WebSockets is served on a second port (BROKER_WS_PORT, 0 = free),
// as HiveMQ's websocket listener (default 8000) would: any path, subprotocol "mqtt".
import net from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

const name = process.env.BROKER_NAME ?? 'broker';
const port = Number(process.env.BROKER_PORT ?? 0);
const wsPort = Number(process.env.BROKER_WS_PORT ?? 0);

const broker = await Aedes.createBroker({ id: name });
const server = net.createServer(broker.handle);
let connectionsTotal = 0;

const report = (clientId) => process.send?.({ type: 'clients', count: broker.connectedClients, connectionsTotal, clientId });
broker.on('client', (client) => {
  connectionsTotal += 1;
  report(client.id);
});
broker.on('clientDisconnect', () => report());
// Dropped or refused clients are normal in the demo and tests; keep the broker alive.
broker.on('clientError', () => {});
broker.on('connectionError', () => {});

let websockets;

function shutdown(code) {
  websockets?.close();
  broker.close(() => server.close(() => process.exit(code)));
  // server.close waits for every socket; a test's stop() must not.
  setTimeout(() => process.exit(code), 2000).unref();
}

process.on('message', (msg) => {
  if (msg?.type === 'stop') shutdown(0);
});
// The parent (the demo or a jest worker) went away: do not outlive it.
process.on('disconnect', () => shutdown(0));

server.on('error', (err) => {
  process.send?.({ type: 'error', message: `${name}: ${err.message}` });
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  websockets = new WebSocketServer({
    host: '127.0.0.1',
    port: wsPort,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  websockets.on('connection', (socket) => broker.handle(createWebSocketStream(socket)));
  websockets.on('error', (err) => {
    process.send?.({ type: 'error', message: `${name} (websocket): ${err.message}` });
    process.exit(1);
  });
  websockets.on('listening', () =>
    process.send?.({ type: 'ready', port: server.address().port, websocketPort: websockets.address().port }),
  );
});
