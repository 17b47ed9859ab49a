import { CLUSTER, ENDPOINT, LISTENER, SECRET } from '../../../src/xds';
import { dumpResource, redact, REDACTED } from '../../../src/xds/config-dump';
import { snapshotWithSecret } from '../translation/fixtures';

const snapshot = snapshotWithSecret;

describe('the config dump of a resource', () => {
  it('decodes what is sent back to JSON, with the nested Anys typed', () => {
    const snap = snapshot();
    const [listener] = [...snap.resources[LISTENER].values()];
    const dumped = dumpResource(listener);
    expect(dumped.name).toBe(listener.name);
    expect(dumped.version).toBe(listener.version);
    const json = JSON.stringify(dumped.resource);
    expect(json).toContain(`"name":"${listener.name}"`);
    expect(json).toContain('"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"');
    const [cluster] = [...snap.resources[CLUSTER].values()];
    expect(dumpResource(cluster).resource).toMatchObject({ name: cluster.name });
    const [cla] = [...snap.resources[ENDPOINT].values()];
    expect(dumpResource(cla).resource).toMatchObject({ cluster_name: cla.name });
  });

  it("redacts a Secret's private key and keeps its certificate", () => {
    const [secret] = [...snapshot().resources[SECRET].values()];
    const dumped = dumpResource(secret).resource as { tls_certificate: Record<string, unknown> };
    expect(dumped.tls_certificate.private_key).toBe(REDACTED);
    expect(dumped.tls_certificate.certificate_chain).toEqual({ inline_string: 'chain' });
    expect(JSON.stringify(dumped)).not.toContain('PRIVATE KEY');
  });

  it('redacts passwords, tokens and generic secrets at any depth, in arrays too', () => {
    expect(
      redact({
        a: [{ password: 'p', keep: 1 }],
        generic_secret: { secret: { inline_string: 's' } },
        b: { access_token: 't', session_ticket_keys: { keys: [] } },
      }),
    ).toEqual({
      a: [{ password: REDACTED, keep: 1 }],
      generic_secret: { secret: REDACTED },
      b: { access_token: REDACTED, session_ticket_keys: REDACTED },
    });
  });
});
