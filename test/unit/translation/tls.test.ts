import { buildResources, buildSecret, validateResources, type ProxyModel } from '../../../src/translation';
import { listenerSecretName, sanMatches } from '../../../src/publishing';
import { model } from './fixtures';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

function tlsModel(minVersion: 'TLSv1_2' | 'TLSv1_3' = 'TLSv1_2', pem = CERT): ProxyModel {
  const m = model();
  const name = listenerSecretName(m.listener.name);
  return {
    ...m,
    listener: { ...m.listener, tls: { secretName: name, minVersion } },
    certificates: [{ name, certificateChain: pem, privateKey: KEY }],
  };
}

describe('MQTT over TLS: the listener names its certificate, SDS carries it', () => {
  it('terminates TLS 1.2 to 1.3 with the certificate from SDS on the ADS stream, waiting for it', () => {
    const set = buildResources(tlsModel());
    const socket = set.listeners[0].filter_chains?.[0].transport_socket;
    expect(socket).toEqual({
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
          tls_certificate_sds_secret_configs: [
            {
              name: 'mqtt.server_certificate',
              sds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: { seconds: 0, nanos: 0 } },
            },
          ],
        },
      },
    });
    expect(set.secrets).toEqual([
      {
        name: 'mqtt.server_certificate',
        tls_certificate: { certificate_chain: { inline_string: CERT }, private_key: { inline_string: KEY } },
      },
    ]);
    expect(validateResources(set)).toEqual([]);
  });

  it('keeps the Listener byte for byte when only the certificate changes (a rotation drains nothing)', () => {
    const a = buildResources(tlsModel());
    const b = buildResources(tlsModel('TLSv1_2', CERT.replace('MIIB', 'MIIC')));
    expect(JSON.stringify(b.listeners)).toBe(JSON.stringify(a.listeners));
    expect(JSON.stringify(b.secrets)).not.toBe(JSON.stringify(a.secrets));
  });

  it('with a client CA, requires a client certificate it signed, the CA over SDS too', () => {
    const m = tlsModel();
    const set = buildResources({
      ...m,
      listener: { ...m.listener, tls: { ...m.listener.tls!, clientCaSecretName: 'mqtt.client_ca' } },
      certificates: [...m.certificates!, { name: 'mqtt.client_ca', trustedCa: CERT }],
    });
    const ctx = set.listeners[0].filter_chains?.[0].transport_socket?.typed_config as any;
    expect(ctx.require_client_certificate).toEqual({ value: true });
    expect(ctx.common_tls_context.validation_context_sds_secret_config.name).toBe('mqtt.client_ca');
    expect(set.secrets[1]).toEqual({ name: 'mqtt.client_ca', validation_context: { trusted_ca: { inline_string: CERT } } });
    expect(validateResources(set)).toEqual([]);
    expect(validateResources({ ...set, secrets: [set.secrets[0]] }).map((p) => p.code)).toEqual(['SDS_MISSING']);
  });

  it('matches client SANs exactly or by prefix, in the CA Secret', () => {
    expect(sanMatches('URI:urn:device:*,DNS:gw.example.com,IP:10.0.0.1')).toEqual([
      { type: 'URI', value: 'urn:device:', prefix: true },
      { type: 'DNS', value: 'gw.example.com', prefix: false },
      { type: 'IP_ADDRESS', value: '10.0.0.1', prefix: false },
    ]);
    expect(sanMatches('')).toEqual([]);
    const secret = buildSecret({
      name: 'mqtt.client_ca',
      trustedCa: CERT,
      subjectAltNames: sanMatches('URI:urn:device:*,EMAIL:ops@example.com'),
    });
    expect(secret.validation_context?.match_typed_subject_alt_names).toEqual([
      { san_type: 'URI', matcher: { prefix: 'urn:device:' } },
      { san_type: 'EMAIL', matcher: { exact: 'ops@example.com' } },
    ]);
    expect(buildSecret({ name: 'x', trustedCa: CERT, subjectAltNames: [] }).validation_context).toEqual({
      trusted_ca: { inline_string: CERT },
    });
  });

  it('can require TLS 1.3', () => {
    const tlsParams = (buildResources(tlsModel('TLSv1_3')).listeners[0].filter_chains?.[0].transport_socket?.typed_config as any)
      .common_tls_context.tls_params;
    expect(tlsParams.tls_minimum_protocol_version).toBe('TLSv1_3');
  });

  it('has no transport socket and no Secret without TLS', () => {
    const set = buildResources(model());
    expect(set.listeners[0].filter_chains?.[0].transport_socket).toBeUndefined();
    expect(set.secrets).toEqual([]);
  });

  it('refuses a listener naming a certificate that is not in the set, and a certificate nobody names', () => {
    const set = buildResources(tlsModel());
    expect(validateResources({ ...set, secrets: [] }).map((p) => p.code)).toEqual(['SDS_MISSING']);
    const plain = buildResources(model());
    expect(validateResources({ ...plain, secrets: set.secrets }).map((p) => p.code)).toEqual(['SDS_ORPHAN']);
    expect(validateResources({ ...set, secrets: [...set.secrets, ...set.secrets] }).map((p) => p.code)).toEqual(['NAME_DUPLICATE']);
  });
});
