import { CLUSTER, ENDPOINT, type EncodedResource } from '../../../src/xds';
import { encodeDeltaDiscoveryResponse, encodeDiscoveryResponse } from '../../../src/xds/messages';
import { randomNonce } from '../../../src/xds/nonce';
import { envoyApiRoot } from '../../../src/xds/protos';

describe('response headers framed by hand', () => {
  const resources = [
    { sotwChunk: Buffer.from([0x12, 0x01, 0x41]), deltaChunk: Buffer.from([0x12, 0x02, 0x41, 0x42]) },
  ] as unknown as EncodedResource[];
  const schema = (name: string, obj: object, chunk: Buffer): Buffer => {
    const t = envoyApiRoot().lookupType(name);
    return Buffer.concat([t.encode(t.fromObject(obj)).finish(), chunk]);
  };
  const versions = ['', 'a1b2', 'ü'.repeat(100)];
  const nonces = ['', '0123456789abcdef'];

  it('are the bytes the schema encoder writes, for SotW', () => {
    for (const version of versions)
      for (const nonce of nonces)
        for (const typeUrl of [CLUSTER, ENDPOINT] as const) {
          const expected = schema(
            'envoy.service.discovery.v3.DiscoveryResponse',
            { version_info: version, type_url: typeUrl, nonce, control_plane: { identifier: 'mqtt-xds' } },
            resources[0].sotwChunk,
          );
          expect(encodeDiscoveryResponse(typeUrl, version, nonce, resources)).toEqual(expected);
        }
  });

  it('are the bytes the schema encoder writes, for Delta with and without removals', () => {
    for (const version of versions)
      for (const nonce of nonces)
        for (const removed of [[], ['gone'], ['a', 'b', 'c']]) {
          const expected = schema(
            'envoy.service.discovery.v3.DeltaDiscoveryResponse',
            {
              system_version_info: version,
              type_url: ENDPOINT,
              nonce,
              removed_resources: removed,
              control_plane: { identifier: 'mqtt-xds' },
            },
            resources[0].deltaChunk,
          );
          expect(encodeDeltaDiscoveryResponse(ENDPOINT, version, nonce, resources, removed)).toEqual(expected);
        }
  });
});

describe('randomNonce', () => {
  it('gives 16 hex characters that do not repeat, across refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const n = randomNonce();
      expect(n).toMatch(/^[0-9a-f]{16}$/);
      seen.add(n);
    }
    expect(seen.size).toBe(5000);
  });
});
