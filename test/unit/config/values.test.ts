import { defaultConfig, helpText, SETTINGS, validateConfig, withOverrides } from '../../../src/config';

describe('defaultConfig', () => {
  it('resolves the brokers file against the given directory and freezes the result', () => {
    const c = defaultConfig('/opt/x');
    expect(c.discovery.brokersFile).toBe('/opt/x/brokers.yaml');
    expect(Object.isFrozen(c.xds)).toBe(true);
  });

  it('passes its own validation', () => {
    expect(validateConfig(defaultConfig('/'))).toEqual([]);
  });
});

describe('withOverrides', () => {
  it('replaces only the given nested values and keeps the rest', () => {
    const base = defaultConfig('/');
    const c = withOverrides(base, { xds: { port: 0 }, cluster: { healthCheck: { intervalMs: 900 } } });
    expect(c.xds).toEqual({
      host: '127.0.0.1',
      port: 0,
      maxRequestBytes: 1048576,
      plaintext: 'loopback-only',
      tls: { certFile: '', keyFile: '', clientCaFile: '', nodeIdentity: 'off' },
    });
    expect(c.cluster.healthCheck).toEqual({ intervalMs: 900, timeoutMs: 2000, unhealthyThreshold: 3, healthyThreshold: 2 });
    expect(c.cluster.name).toBe('mqtt_brokers');
  });

  it('returns a frozen copy and leaves the base untouched', () => {
    const base = defaultConfig('/');
    const c = withOverrides(base, { admin: { port: 1 } });
    expect(base.admin.port).toBe(9090);
    expect(Object.isFrozen(c.admin)).toBe(true);
    expect(Object.isFrozen(c.cluster.healthCheck)).toBe(true);
  });

  it('leaves range checks to validateConfig, which names the offending keys', () => {
    const c = withOverrides(defaultConfig('/'), {
      xds: { maxRequestBytes: 1024 },
      cluster: { healthCheck: { timeoutMs: 9000 } },
    });
    expect(validateConfig(c).map((p) => [p.code, p.path])).toEqual([['CONFIG_OUT_OF_RANGE', 'xds.maxRequestBytes']]);
    const crossOnly = withOverrides(defaultConfig('/'), { cluster: { healthCheck: { timeoutMs: 9000 } } });
    expect(validateConfig(crossOnly).map((p) => p.code)).toEqual(['CONFIG_HEALTH_TIMEOUT_NOT_BELOW_INTERVAL']);
  });
});

describe('helpText', () => {
  it('lists every setting with its flag, env var, default and help', () => {
    const text = helpText();
    for (const s of SETTINGS) {
      expect(text).toContain(s.flag);
      expect(text).toContain(s.env);
      expect(text).toContain(`default ${s.default}`);
      expect(text).toContain(s.help);
    }
    expect(text).toContain('--config FILE');
    expect(text).toContain('MQTT_XDS_CONFIG');
  });

  it('gives every setting a unique flag and env var', () => {
    expect(new Set(SETTINGS.map((s) => s.flag)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
  });
});
