import type { Secret } from '../generated/envoy/extensions/transport_sockets/tls/v3/Secret';
import type { CertificateModel } from './model';

/**
 * A certificate and key, or a CA bundle that client certificates must chain to, as an SDS
 * Secret; inline, since they travel on the (trusted) ADS stream.
 */
export function buildSecret(m: CertificateModel): Secret {
  if ('trustedCa' in m) {
    const sans = m.subjectAltNames ?? [];
    return {
      name: m.name,
      validation_context: {
        trusted_ca: { inline_string: m.trustedCa },
        ...(sans.length === 0
          ? {}
          : {
              match_typed_subject_alt_names: sans.map((s) => ({
                san_type: s.type,
                matcher: s.prefix ? { prefix: s.value } : { exact: s.value },
              })),
            }),
      },
    };
  }
  return {
    name: m.name,
    tls_certificate: {
      certificate_chain: { inline_string: m.certificateChain },
      private_key: { inline_string: m.privateKey },
    },
  };
}
