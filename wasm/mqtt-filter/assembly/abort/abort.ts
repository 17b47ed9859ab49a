// AssemblyScript's abort (a failed assertion, an out-of-range index) as a proxy-wasm log line
// and a trap. Envoy provides no `env.abort`, so without this the module would not link; the
// trap then fails only the call that hit the bug, and Envoy marks the VM as failed.
import { proxy_log } from '../abi/host';

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text =
    'mqtt-filter abort: ' +
    (message ? message : '') +
    ' at ' +
    (fileName ? fileName : '?') +
    ':' +
    line.toString() +
    ':' +
    column.toString();
  const encoded = String.UTF8.encode(text);
  proxy_log(4, changetype<usize>(encoded), encoded.byteLength);
  unreachable();
}
