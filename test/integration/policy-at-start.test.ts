import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../src/config';
import type { ControlPlane } from '../../src/main';
import { waitFor } from '../support';
import { planeConfig, startPlane } from './plane';

async function readyz(adminPort: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe('a control plane started with a broken policy file', () => {
  let plane: ControlPlane | undefined;
  afterEach(async () => plane?.stop());

  it('stays not ready naming the policy problem and publishes nothing, until the file is fixed', async () => {
    const setup = await planeConfig();
    fs.writeFileSync(setup.brokersFile, 'brokers:\n  - name: broker-a\n    host: 127.0.0.1\n    port: 1883\n');
    const policyFile = path.join(setup.dir, 'policy.yaml');
    fs.writeFileSync(policyFile, 'overrides:\n  broker-a: { exclude: maybe }\n');
    const config = withOverrides(setup.config, { balancing: { policyFile } });
    ({ plane } = await startPlane(config));

    // Long enough for the brokers file to have been read and a push to have been debounced.
    await new Promise((r) => setTimeout(r, 10 * config.pushDebounceMs + 200));
    expect(plane.cache.snapshot()).toBeUndefined();
    const notReady = await readyz(config.admin.port);
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatch(/policy/);
    expect(notReady.body).toMatch(/overrides\.broker-a\.exclude/);

    fs.writeFileSync(`${policyFile}.tmp`, 'overrides:\n  broker-a: { weight: 7 }\n');
    fs.renameSync(`${policyFile}.tmp`, policyFile);
    const p = plane;
    await waitFor(() => p.cache.snapshot() !== undefined, { what: 'the first snapshot', timeoutMs: 10_000 });
    const ready = await readyz(config.admin.port);
    expect(ready.status).toBe(200);
  });
});
