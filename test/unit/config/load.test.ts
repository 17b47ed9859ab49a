import { loadConfig, type Config, type LoadInput } from '../../../src/config';
import type { Problem, Result } from '../../../src/util/result';

const CWD = '/srv/mqtt-xds';

function load(over: Partial<LoadInput> & { files?: Record<string, string> } = {}): ReturnType<typeof loadConfig> {
  const files = over.files ?? {};
  return loadConfig({
    argv: over.argv ?? [],
    env: over.env ?? {},
    cwd: CWD,
    readFile:
      over.readFile ??
      ((p) => {
        if (p in files) return files[p];
        throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      }),
  });
}

function config(result: ReturnType<typeof loadConfig>): Config {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.value.config;
}

function problems<T>(result: Result<T>): Problem[] {
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}

describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    expect(config(load())).toEqual({
      logLevel: 'info',
      xds: {
        host: '127.0.0.1',
        port: 18000,
        maxRequestBytes: 1048576,
        plaintext: 'loopback-only',
        tls: { certFile: '', keyFile: '', clientCaFile: '', nodeIdentity: 'off' },
      },
      admin: {
        host: '127.0.0.1',
        port: 9090,
        tokenFile: '',
        viewAccess: 'token',
        ui: { maxClients: 32, intervalMs: 1000, maxLifetimeMs: 600000 },
      },
      agent: { tokenFile: '', tls: { caFile: '', certFile: '', keyFile: '', serverName: '' } },
      rebalanceTickMs: 1000,
      discovery: {
        source: 'file',
        brokersFile: '/srv/mqtt-xds/brokers.yaml',
        brokersFileSettleMs: 400,
        kubernetes: {
          kubeconfig: '',
          namespace: 'default',
          service: '',
          labelSelector: '',
          mqttPort: 'mqtt',
          metricsPort: 'metrics',
          metricsPath: '/metrics',
          agentPort: 'mqtt-xds-agent',
          websocketPort: 'mqtt-ws',
          drainAnnotation: 'mqtt-xds.io/drain',
          podLabelSelector: '',
          drainsConfigMap: 'mqtt-xds-drains',
        },
      },
      listener: {
        name: 'mqtt',
        address: '0.0.0.0',
        port: 1883,
        maxKeepAliveSec: 3600,
        mqttFilter: { wasmFile: '' },
        websocketPort: 0,
        tls: {
          certFile: '',
          keyFile: '',
          clientCaFile: '',
          issuerCaFile: '',
          clientSubjectAltNames: '',
          secret: '',
          clientCaSecret: '',
          minVersion: '1.2',
        },
      },
      cluster: {
        name: 'mqtt_brokers',
        connectTimeoutMs: 5000,
        maxConnections: 1000000,
        perHostMaxConnections: 250000,
        updateMergeWindowMs: 0,
        healthCheck: { intervalMs: 5000, timeoutMs: 2000, unhealthyThreshold: 3, healthyThreshold: 2 },
        proxyProtocol: { version: 'off', tlvs: '' },
      },
      balancing: {
        mode: 'metrics',
        policyFile: '',
        policyConfigMap: '',
        policyConfigMapKey: 'policy.yaml',
        lbPolicy: 'ROUND_ROBIN',
        minPushIntervalMs: 5000,
      },
      scrape: { intervalMs: 5000, quickIntervalMs: 1000, timeoutMs: 2000, concurrency: 8 },
      envoyView: { reportIntervalMs: 1000 },
      leaderElection: { leaseName: '', namespace: '', identity: '', leaseDurationMs: 15000, renewIntervalMs: 5000 },
      pushDebounceMs: 100,
      shutdownGraceMs: 5000,
    });
  });

  it('takes an empty policy file as "none" but resolves a given one', () => {
    expect(config(load({ argv: ['--balancing-policy-file', ''] })).balancing.policyFile).toBe('');
    expect(config(load({ argv: ['--balancing-policy-file', 'policy.yaml'] })).balancing.policyFile).toBe('/srv/mqtt-xds/policy.yaml');
  });

  it('needs exactly one of service and label selector for Kubernetes discovery', () => {
    const none = problems(load({ argv: ['--discovery-source', 'kubernetes'] }));
    expect(none.map((p) => p.code)).toEqual(['CONFIG_K8S_SELECTION']);
    const both = problems(
      load({
        argv: [
          '--discovery-source',
          'kubernetes',
          '--discovery-kubernetes-service',
          'hivemq',
          '--discovery-kubernetes-label-selector',
          'app=hivemq',
        ],
      }),
    );
    expect(both.map((p) => p.code)).toEqual(['CONFIG_K8S_SELECTION']);
    const ok = config(load({ argv: ['--discovery-source', 'kubernetes', '--discovery-kubernetes-service', 'hivemq'] }));
    expect(ok.discovery.kubernetes).toMatchObject({ service: 'hivemq', mqttPort: 'mqtt', metricsPort: 'metrics' });
    expect(problems(load({ argv: ['--discovery-kubernetes-service', 'Not_A_Name'] }))[0].code).toBe('CONFIG_BAD_NAME');
  });

  it('takes a drain annotation key, or empty to watch no pods, and refuses what Kubernetes would', () => {
    const key = (v: string) => config(load({ argv: ['--discovery-kubernetes-drain-annotation', v] })).discovery.kubernetes.drainAnnotation;
    expect(key('example.com/drain-me')).toBe('example.com/drain-me');
    expect(key('drain')).toBe('drain');
    expect(key('')).toBe('');
    for (const bad of ['a/b/c', 'Example.com/drain', 'drain me', '-drain']) {
      expect(problems(load({ argv: ['--discovery-kubernetes-drain-annotation', bad] }))[0]).toMatchObject({
        path: 'discovery.kubernetes.drainAnnotation',
      });
    }
  });

  it('takes the policy from a file or a ConfigMap, not both', () => {
    const both = problems(load({ argv: ['--balancing-policy-file', 'p.yaml', '--balancing-policy-config-map', 'mqtt/policy'] }));
    expect(both.map((p) => p.code)).toEqual(['CONFIG_TWO_POLICY_SOURCES']);
    expect(config(load({ argv: ['--balancing-policy-config-map', 'mqtt/mqtt-xds-policy'] })).balancing.policyConfigMap).toBe(
      'mqtt/mqtt-xds-policy',
    );
  });

  it('refuses a scrape timeout that is not below the scrape interval', () => {
    const found = problems(load({ argv: ['--scrape-interval-ms', '1000', '--scrape-timeout-ms', '1000'] }));
    expect(found.map((p) => p.code)).toEqual(['CONFIG_SCRAPE_TIMEOUT_NOT_BELOW_INTERVAL']);
  });

  describe('precedence', () => {
    const files = { '/srv/mqtt-xds/c.yaml': 'xds:\n  port: 1001\n' };
    const env = { MQTT_XDS_CONFIG: 'c.yaml', MQTT_XDS_XDS_PORT: '1002' };

    it('prefers a flag over env, file and default', () => {
      expect(config(load({ argv: ['--xds-port', '1003'], env, files })).xds.port).toBe(1003);
    });

    it('prefers env over the file when no flag is given', () => {
      expect(config(load({ env, files })).xds.port).toBe(1002);
    });

    it('prefers the file over the default when neither flag nor env is given', () => {
      expect(config(load({ env: { MQTT_XDS_CONFIG: 'c.yaml' }, files })).xds.port).toBe(1001);
    });

    it('falls back to the default for settings no source mentions', () => {
      expect(config(load({ argv: ['--xds-port', '1003'], env, files })).admin.port).toBe(9090);
    });

    it('takes the config file from --config over MQTT_XDS_CONFIG', () => {
      const result = load({
        argv: ['--config', '/etc/other.yaml'],
        env: { MQTT_XDS_CONFIG: 'c.yaml' },
        files: { ...files, '/etc/other.yaml': 'admin:\n  port: 7000\n' },
      });
      expect(config(result).admin.port).toBe(7000);
      expect(config(result).xds.port).toBe(18000);
    });
  });

  it('accepts both "--flag value" and "--flag=value"', () => {
    const c = config(load({ argv: ['--xds-port', '1234', '--admin-port=4321', '--log-level=debug'] }));
    expect(c.xds.port).toBe(1234);
    expect(c.admin.port).toBe(4321);
    expect(c.logLevel).toBe('debug');
  });

  it('derives flags and env names from nested camelCase keys', () => {
    const c = config(
      load({
        argv: ['--cluster-health-check-interval-ms', '9000'],
        env: { MQTT_XDS_CLUSTER_HEALTH_CHECK_TIMEOUT_MS: '3000', MQTT_XDS_XDS_MAX_REQUEST_BYTES: '8192' },
      }),
    );
    expect(c.cluster.healthCheck).toMatchObject({ intervalMs: 9000, timeoutMs: 3000 });
    expect(c.xds.maxRequestBytes).toBe(8192);
  });

  it('returns positional arguments, including everything after "--"', () => {
    const result = load({ argv: ['demo', '--xds-port', '1', '--', '--not-a-flag'] });
    expect(result.ok && result.value.positional).toEqual(['demo', '--not-a-flag']);
    expect(result.ok && result.value.help).toBe(false);
  });

  it('sets help for --help and -h without validating anything else', () => {
    for (const flag of ['--help', '-h']) {
      const result = load({ argv: ['demo', flag, '--bogus'], env: { MQTT_XDS_BOGUS: '1' } });
      expect(result.ok).toBe(true);
      expect(result.ok && result.value.help).toBe(true);
      expect(result.ok && result.value.positional).toEqual(['demo']);
    }
  });

  it('sets version for --version and -V, like help without validating the rest', () => {
    for (const flag of ['--version', '-V']) {
      const result = load({ argv: [flag, '--bogus'] });
      expect(result.ok && result.value.version).toBe(true);
      expect(result.ok && result.value.help).toBe(false);
    }
  });

  it('refuses a value given to --help, naming the flag', () => {
    expect(problems(load({ argv: ['--help=yes'] }))[0]).toMatchObject({ code: 'CONFIG_FLAG_WITH_VALUE', path: '--help' });
  });

  it('reads a value that starts with a single dash, and one that starts with "--" after "="', () => {
    expect(config(load({ argv: ['--discovery-kubernetes-label-selector', '-x'] })).discovery.kubernetes.labelSelector).toBe('-x');
    expect(problems(load({ argv: ['--log-level=--debug'] }))[0]).toMatchObject({ path: 'logLevel' });
    // An empty value after "=" is a value: it turns the drain annotation off.
    expect(config(load({ argv: ['--discovery-kubernetes-drain-annotation='] })).discovery.kubernetes.drainAnnotation).toBe('');
  });

  it('reads the brokers-file settle time, and refuses one out of range', () => {
    expect(config(load({ argv: ['--discovery-brokers-file-settle-ms', '0'] })).discovery.brokersFileSettleMs).toBe(0);
    const r = load({ argv: ['--discovery-brokers-file-settle-ms', '-5'] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems[0]).toMatchObject({ path: 'discovery.brokersFileSettleMs' });
  });

  it('resolves the brokers file against the working directory', () => {
    expect(config(load({ argv: ['--discovery-brokers-file', 'conf/b.yaml'] })).discovery.brokersFile).toBe('/srv/mqtt-xds/conf/b.yaml');
    expect(config(load({ argv: ['--discovery-brokers-file', '/abs/b.yaml'] })).discovery.brokersFile).toBe('/abs/b.yaml');
  });

  it('counts an empty environment variable as unset', () => {
    expect(config(load({ env: { MQTT_XDS_XDS_PORT: '' } })).xds.port).toBe(18000);
  });

  it('accepts the variables its sub-commands read, such as MQTT_XDS_ADMIN_URL for drain', () => {
    // Regression: `mqtt-xds drain` documents MQTT_XDS_ADMIN_URL, and the server refused to start with it exported.
    expect(load({ env: { MQTT_XDS_ADMIN_URL: 'http://10.0.0.5:9090' } }).ok).toBe(true);
    expect(load({ env: { MQTT_XDS_ADMIN_URLL: 'x' } })).toMatchObject({ ok: false, problems: [{ code: 'CONFIG_UNKNOWN_ENV' }] });
  });

  it('ignores environment variables outside its prefix', () => {
    expect(load({ env: { PATH: '/bin', XDS_PORT: 'x' } }).ok).toBe(true);
  });

  it('returns a deeply frozen config', () => {
    const c = config(load());
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.cluster.healthCheck)).toBe(true);
    expect(() => {
      (c.cluster.healthCheck as { intervalMs: number }).intervalMs = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig rejects typos', () => {
  it('rejects an unknown flag and suggests the nearest one', () => {
    const [p] = problems(load({ argv: ['--xds-prot', '1'] }));
    expect(p).toMatchObject({ code: 'CONFIG_UNKNOWN_FLAG', path: '--xds-prot' });
    expect(p.message).toContain('did you mean "--xds-port"?');
  });

  it('rejects short flags other than -h', () => {
    expect(problems(load({ argv: ['-p', '1'] }))[0].code).toBe('CONFIG_UNKNOWN_FLAG');
  });

  it('rejects a flag given without its value', () => {
    const [p] = problems(load({ argv: ['--xds-port'] }));
    expect(p).toMatchObject({ code: 'CONFIG_FLAG_WITHOUT_VALUE', path: '--xds-port' });
    expect(problems(load({ argv: ['--xds-port', '--admin-port', '1'] }))[0].code).toBe('CONFIG_FLAG_WITHOUT_VALUE');
  });

  it('rejects an unknown MQTT_XDS_ environment variable and suggests the nearest one', () => {
    const [p] = problems(load({ env: { MQTT_XDS_XDS_PROT: '1' } }));
    expect(p).toMatchObject({ code: 'CONFIG_UNKNOWN_ENV', path: 'MQTT_XDS_XDS_PROT' });
    expect(p.message).toContain('MQTT_XDS_XDS_PORT');
  });

  it('rejects an unknown config file key and names its line', () => {
    const files = { '/srv/mqtt-xds/c.yaml': 'xds:\n  host: 127.0.0.1\n  prot: 1\n' };
    const [p] = problems(load({ argv: ['--config', 'c.yaml'], files }));
    expect(p).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', path: 'xds.prot', line: 3 });
    expect(p.message).toContain('did you mean "port"?');
  });

  it('rejects an unknown top-level section in the config file', () => {
    const files = { '/srv/mqtt-xds/c.yaml': 'logLevel: info\nclusters:\n  name: x\n' };
    const [p] = problems(load({ argv: ['--config', 'c.yaml'], files }));
    expect(p).toMatchObject({ code: 'CONFIG_UNKNOWN_KEY', path: 'clusters', line: 2 });
    expect(p.message).toContain('did you mean "cluster"?');
  });
});

describe('loadConfig rejects bad values and names their source', () => {
  it('names the flag and the bad value for a non-integer', () => {
    const [p] = problems(load({ argv: ['--xds-port', 'abc'] }));
    expect(p.code).toBe('CONFIG_NOT_AN_INTEGER');
    expect(p.path).toBe('xds.port');
    expect(p.message).toContain('flag --xds-port');
    expect(p.message).toContain('"abc"');
    expect(p.message).toContain('an integer in 0..65535');
  });

  it('names the environment variable for an out-of-range value', () => {
    const [p] = problems(load({ env: { MQTT_XDS_LISTENER_MAX_KEEP_ALIVE_SEC: '5' } }));
    expect(p).toMatchObject({ code: 'CONFIG_OUT_OF_RANGE', path: 'listener.maxKeepAliveSec' });
    expect(p.message).toContain('env MQTT_XDS_LISTENER_MAX_KEEP_ALIVE_SEC');
    expect(p.message).toContain('10..65535');
  });

  it('names the config file and line for a bad file value', () => {
    const files = { '/etc/c.yaml': '# settings\ncluster:\n  healthCheck:\n    intervalMs: 0\n' };
    const [p] = problems(load({ argv: ['--config=/etc/c.yaml'], files }));
    expect(p).toMatchObject({ code: 'CONFIG_OUT_OF_RANGE', path: 'cluster.healthCheck.intervalMs', line: 4 });
    expect(p.message).toContain('config file /etc/c.yaml line 4');
  });

  it('rejects a quoted number in the config file', () => {
    const files = { '/etc/c.yaml': 'xds:\n  port: "18000"\n' };
    const [p] = problems(load({ argv: ['--config', '/etc/c.yaml'], files }));
    expect(p).toMatchObject({ code: 'CONFIG_NOT_AN_INTEGER', path: 'xds.port', line: 2 });
  });

  it('rejects a value that is not one of an enum and lists the allowed ones', () => {
    const [p] = problems(load({ argv: ['--log-level', 'verbose'] }));
    expect(p).toMatchObject({ code: 'CONFIG_NOT_ALLOWED', path: 'logLevel' });
    expect(p.message).toContain('debug, info, warn, error');
  });

  it('rejects a host with a port and says to give the port separately', () => {
    const [p] = problems(load({ argv: ['--xds-host', '127.0.0.1:18000'] }));
    expect(p).toMatchObject({ code: 'CONFIG_BAD_HOST', path: 'xds.host' });
    expect(p.message).toContain('port separately');
  });

  it('rejects a DNS name where Envoy needs an IP address', () => {
    expect(problems(load({ argv: ['--listener-address', 'localhost'] }))[0]).toMatchObject({
      code: 'CONFIG_BAD_IP',
      path: 'listener.address',
    });
  });

  it('rejects a value that is a section in the file, not a scalar', () => {
    const files = { '/etc/c.yaml': 'xds:\n  port:\n    value: 1\n' };
    expect(problems(load({ argv: ['--config', '/etc/c.yaml'], files }))[0]).toMatchObject({
      code: 'CONFIG_WRONG_TYPE',
      path: 'xds.port',
      line: 2,
    });
  });

  it('reports a bad value even when a higher-precedence source overrides it', () => {
    const [p] = problems(load({ argv: ['--xds-port', '1'], env: { MQTT_XDS_XDS_PORT: 'x' } }));
    expect(p.message).toContain('env MQTT_XDS_XDS_PORT');
  });

  it('reports every problem at once', () => {
    const files = { '/etc/c.yaml': 'admin:\n  port: -1\n' };
    const found = problems(load({ argv: ['--config', '/etc/c.yaml', '--bogus', '--xds-port=x'], env: { MQTT_XDS_TYPO: '1' }, files }));
    expect(found.map((p) => p.code).sort()).toEqual([
      'CONFIG_NOT_AN_INTEGER',
      'CONFIG_OUT_OF_RANGE',
      'CONFIG_UNKNOWN_ENV',
      'CONFIG_UNKNOWN_FLAG',
    ]);
  });

  it('reports an unreadable config file', () => {
    const [p] = problems(load({ argv: ['--config', 'missing.yaml'] }));
    expect(p).toMatchObject({ code: 'CONFIG_FILE_UNREADABLE', path: '/srv/mqtt-xds/missing.yaml' });
    expect(p.message).toContain('ENOENT');
  });

  it('reports a YAML syntax error with its line', () => {
    const files = { '/etc/c.yaml': 'xds:\n  port: 1\n  port: 2\n' };
    const [p] = problems(load({ argv: ['--config', '/etc/c.yaml'], files }));
    expect(p).toMatchObject({ code: 'CONFIG_FILE_SYNTAX', line: 3 });
  });

  it('accepts an empty config file as "all defaults"', () => {
    const files = { '/etc/c.yaml': '# nothing yet\n' };
    expect(config(load({ argv: ['--config', '/etc/c.yaml'], files })).xds.port).toBe(18000);
  });
});

describe('loadConfig cross-field checks', () => {
  it('rejects a health check timeout that is not below the interval, naming both sources', () => {
    const [p] = problems(
      load({
        argv: ['--cluster-health-check-timeout-ms', '5000'],
        env: { MQTT_XDS_CLUSTER_HEALTH_CHECK_INTERVAL_MS: '5000' },
      }),
    );
    expect(p).toMatchObject({ code: 'CONFIG_HEALTH_TIMEOUT_NOT_BELOW_INTERVAL', path: 'cluster.healthCheck.timeoutMs' });
    expect(p.message).toContain('flag --cluster-health-check-timeout-ms');
    expect(p.message).toContain('env MQTT_XDS_CLUSTER_HEALTH_CHECK_INTERVAL_MS');
  });

  it('rejects a per-host connection limit above the cluster limit', () => {
    const [p] = problems(load({ argv: ['--cluster-max-connections', '100'] }));
    expect(p).toMatchObject({ code: 'CONFIG_PER_HOST_ABOVE_MAX', path: 'cluster.perHostMaxConnections' });
    expect(p.message).toContain('250000, from default');
  });

  it('accepts a per-host limit equal to the cluster limit', () => {
    expect(load({ argv: ['--cluster-max-connections=500', '--cluster-per-host-max-connections=500'] }).ok).toBe(true);
  });
});

describe('xDS transport security settings', () => {
  const codes = (r: ReturnType<typeof loadConfig>): string[] => (r.ok ? [] : r.problems.map((p) => p.code));
  it('refuses plaintext xDS on a network-reachable address unless chosen explicitly', () => {
    expect(codes(load({ argv: ['--xds-host', '0.0.0.0'] }))).toEqual(['CONFIG_XDS_PLAINTEXT']);
    expect(load({ argv: ['--xds-host', '0.0.0.0', '--xds-plaintext', 'allow'] }).ok).toBe(true);
    expect(load({ argv: ['--xds-host', '127.0.0.1'] }).ok).toBe(true);
  });
  it('needs the certificate and key together, and the server certificate for mTLS settings', () => {
    expect(codes(load({ argv: ['--xds-tls-cert-file', 'c.pem'] }))).toEqual(['CONFIG_XDS_TLS_PAIR']);
    expect(codes(load({ argv: ['--listener-tls-key-file', 'k.pem'] }))).toEqual(['CONFIG_LISTENER_TLS_PAIR']);
    expect(codes(load({ argv: ['--listener-tls-client-ca-file', 'ca.pem'] }))).toEqual(['CONFIG_LISTENER_TLS_NEEDS_CERT']);
    expect(codes(load({ argv: ['--listener-tls-client-subject-alt-names', 'URI:urn:x'] }))).toEqual(['CONFIG_LISTENER_TLS_SAN_NEEDS_CA']);
    for (const bad of ['urn:x', 'URI:', 'URI:*', 'URI:a,', 'FOO:a', 'URI:a b'])
      expect(codes(load({ argv: ['--listener-tls-client-subject-alt-names', bad] })).length).toBe(1);
    expect(codes(load({ argv: ['--xds-tls-client-ca-file', 'ca.pem'] }))).toEqual(['CONFIG_XDS_TLS_NEEDS_CERT']);
    expect(
      codes(load({ argv: ['--xds-tls-cert-file', 'c.pem', '--xds-tls-key-file', 'k.pem', '--xds-tls-node-identity', 'node-id'] })),
    ).toEqual(['CONFIG_XDS_NODE_IDENTITY_NEEDS_MTLS']);
    expect(load({ argv: ['--xds-host', '0.0.0.0', '--xds-tls-cert-file', 'c.pem', '--xds-tls-key-file', 'k.pem'] }).ok).toBe(true);
  });
});
