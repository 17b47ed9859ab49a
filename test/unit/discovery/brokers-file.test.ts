import { parseBrokersFile, type BrokerEntry } from '../../../src/discovery';
import type { Problem, Result } from '../../../src/util/result';

function problems<T>(result: Result<T>): Problem[] {
  if (result.ok) throw new Error('expected problems, got a value');
  return result.problems;
}

function entries(result: Result<BrokerEntry[]>): BrokerEntry[] {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

describe('parseBrokersFile', () => {
  it('reads every field of a valid file', () => {
    const text = lines(
      '# two brokers',
      'brokers:',
      '  - name: broker-a',
      '    host: 127.0.0.1',
      '    port: 1883',
      '    websocketPort: 8000',
      '    metricsUrl: http://127.0.0.1:9399/metrics',
      '    agentUrl: https://127.0.0.1:9401',
      '    weight: 2',
      '    draining: false',
      '  - name: broker-b.zone_1',
      '    host: hivemq-1.hivemq.svc.cluster.local',
      '    port: 1884',
      '  - name: b6',
      '    host: "::1"',
      '    port: 1885',
      '    draining: true',
    );
    expect(entries(parseBrokersFile(text, 'brokers.yaml'))).toEqual([
      {
        name: 'broker-a',
        host: '127.0.0.1',
        port: 1883,
        websocketPort: 8000,
        metricsUrl: 'http://127.0.0.1:9399/metrics',
        agentUrl: 'https://127.0.0.1:9401',
        staticWeight: 2,
        draining: false,
      },
      { name: 'broker-b.zone_1', host: 'hivemq-1.hivemq.svc.cluster.local', port: 1884 },
      { name: 'b6', host: '::1', port: 1885, draining: true },
    ]);
  });

  it("reads a broker's labels, and names a bad one", () => {
    const good = entries(
      parseBrokersFile(
        lines('brokers:', '  - name: a', '    host: 127.0.0.1', '    port: 1883', '    labels: { tier: gold, example.com/zone: "eu-1" }'),
        'b.yaml',
      ),
    );
    expect(good[0].labels).toEqual({ tier: 'gold', 'example.com/zone': 'eu-1' });
    for (const bad of ['[gold]', '{ "has space": x }', '{ tier: [x] }', '{ tier: 7 }']) {
      const p = problems(
        parseBrokersFile(lines('brokers:', '  - name: a', '    host: 127.0.0.1', '    port: 1883', `    labels: ${bad}`), 'b.yaml'),
      );
      expect(p.map((x) => [x.code, x.path])).toEqual([['BROKER_LABELS_INVALID', 'brokers[0].labels']]);
    }
  });

  it('refuses an empty file, because a half-written file must not remove every broker', () => {
    for (const text of ['', '   \n', '# just a comment\n']) {
      const [p] = problems(parseBrokersFile(text, 'brokers.yaml'));
      expect(p).toMatchObject({ code: 'BROKERS_EMPTY', path: 'brokers.yaml', line: 1 });
      expect(p.message).toContain('refuses to remove every broker at once');
    }
  });

  it('refuses an empty brokers list and names its line', () => {
    for (const text of ['\nbrokers: []\n', '\nbrokers:\n']) {
      expect(problems(parseBrokersFile(text, 'b.yaml'))).toEqual([
        expect.objectContaining({ code: 'BROKERS_EMPTY', path: 'brokers', line: 2 }),
      ]);
    }
  });

  it('reports a YAML syntax error with its line', () => {
    const [p] = problems(parseBrokersFile(lines('brokers:', '  - name: a', '    host: "unterminated'), 'b.yaml'));
    expect(p.code).toBe('BROKERS_SYNTAX');
    expect(p.line).toBeGreaterThanOrEqual(3);
    expect(p.message).toContain('YAML syntax error');
  });

  it('reports a file that is not a mapping', () => {
    expect(problems(parseBrokersFile('- name: a\n', 'b.yaml'))[0]).toMatchObject({
      code: 'BROKERS_NOT_A_MAPPING',
      line: 1,
    });
  });

  it('reports a missing brokers list and an unknown top-level key', () => {
    const found = problems(parseBrokersFile('broker:\n  - name: a\n', 'b.yaml'));
    expect(found).toEqual([
      expect.objectContaining({ code: 'BROKERS_UNKNOWN_KEY', path: 'broker', line: 1 }),
      expect.objectContaining({ code: 'BROKERS_MISSING', path: 'brokers' }),
    ]);
    expect(found[0].message).toContain('did you mean "brokers"?');
  });

  it('reports brokers that are not a list', () => {
    expect(problems(parseBrokersFile('brokers:\n  name: a\n', 'b.yaml'))[0]).toMatchObject({
      code: 'BROKERS_NOT_A_LIST',
      path: 'brokers',
      line: 1,
    });
  });

  it('rejects an unknown key, suggests the nearest one and names its line', () => {
    const [p] = problems(parseBrokersFile(lines('brokers:', '  - name: a', '    host: h', '    prot: 1883', '    port: 1'), 'b.yaml'));
    expect(p).toMatchObject({ code: 'BROKER_UNKNOWN_KEY', path: 'brokers[0].prot', line: 4 });
    expect(p.message).toContain('did you mean "port"?');
  });

  it('reports each kind of bad field with its path and line', () => {
    const text = lines(
      'brokers:',
      '  - name: Broker_A', //  2
      '    host: "10.0.0.1:1883"', // 3
      '    port: 70000', //  4
      '  - name: b', //  5
      '    host: "[::1]"', //  6
      '    port: "1883"', // 7
      '    metricsUrl: ftp://x/metrics', // 8
      '    weight: 0', // 9
      '    draining: yes', // 10
      '  - 42', // 11
      '  - name: 7', // 12
      '    host: h', // 13
      '    port: 1.5', // 14
    );
    const found = problems(parseBrokersFile(text, 'b.yaml')).map((p) => [p.code, p.path, p.line]);
    expect(found).toEqual([
      ['BROKER_NAME_INVALID', 'brokers[0].name', 2],
      ['BROKER_HOST_INVALID', 'brokers[0].host', 3],
      ['BROKER_PORT_RANGE', 'brokers[0].port', 4],
      ['BROKER_HOST_INVALID', 'brokers[1].host', 6],
      ['BROKER_PORT_INVALID', 'brokers[1].port', 7],
      ['BROKER_METRICS_URL_INVALID', 'brokers[1].metricsUrl', 8],
      ['BROKER_WEIGHT_INVALID', 'brokers[1].weight', 9],
      ['BROKER_DRAINING_INVALID', 'brokers[1].draining', 10],
      ['BROKER_NOT_A_MAPPING', 'brokers[2]', 11],
      ['BROKER_NAME_INVALID', 'brokers[3].name', 12],
      ['BROKER_PORT_INVALID', 'brokers[3].port', 14],
    ]);
  });

  it('rejects an agentUrl that is not an http(s) URL, naming its path and line', () => {
    const text = lines(
      'brokers:',
      '  - name: a',
      '    host: h',
      '    port: 1',
      '    agentUrl: 10.0.0.7:9401', // 5: no scheme
      '  - name: b',
      '    host: h',
      '    port: 2',
      '    agentUrl: 9401', // 9
      '  - name: c',
      '    host: h',
      '    port: 3',
      '    agentUrl: "http://"', // 13: no host
    );
    const found = problems(parseBrokersFile(text, 'b.yaml'));
    expect(found.map((p) => [p.code, p.path, p.line])).toEqual([
      ['BROKER_AGENT_URL_INVALID', 'brokers[0].agentUrl', 5],
      ['BROKER_AGENT_URL_INVALID', 'brokers[1].agentUrl', 9],
      ['BROKER_AGENT_URL_INVALID', 'brokers[2].agentUrl', 13],
    ]);
    expect(found[1].message).toBe('expected an http:// or https:// URL, got number 9401');
  });

  it('says what is allowed and what it got', () => {
    const [p] = problems(parseBrokersFile(lines('brokers:', '  - name: a', '    host: h', '    port: 70000'), 'b.yaml'));
    expect(p.message).toBe('expected an integer port in 1..65535, got number 70000');
  });

  it('rejects a name longer than 253 characters', () => {
    const name = 'a'.repeat(254);
    expect(problems(parseBrokersFile(lines('brokers:', `  - name: ${name}`, '    host: h', '    port: 1'), 'b.yaml'))[0]).toMatchObject({
      code: 'BROKER_NAME_INVALID',
      path: 'brokers[0].name',
    });
  });

  it('names each missing required field at the line of its broker', () => {
    const found = problems(parseBrokersFile(lines('brokers:', '  - name: a', '  - host: h', '    port: 1'), 'b.yaml'));
    expect(found.map((p) => [p.code, p.path, p.line])).toEqual([
      ['BROKER_MISSING_FIELD', 'brokers[0].host', 2],
      ['BROKER_MISSING_FIELD', 'brokers[0].port', 2],
      ['BROKER_MISSING_FIELD', 'brokers[1].name', 3],
    ]);
  });

  it('rejects a duplicate name and points at the first use', () => {
    const text = lines('brokers:', '  - name: a', '    host: h1', '    port: 1', '  - name: a', '    host: h2', '    port: 1');
    const [p] = problems(parseBrokersFile(text, 'b.yaml'));
    expect(p).toMatchObject({ code: 'BROKER_DUPLICATE_NAME', path: 'brokers[1].name', line: 5 });
    expect(p.message).toContain('brokers[0]');
  });

  it('rejects a duplicate host and port, ignoring the case of DNS names', () => {
    const text = lines(
      'brokers:',
      '  - name: a',
      '    host: Broker.local',
      '    port: 1',
      '  - name: b',
      '    host: broker.local',
      '    port: 1',
    );
    const [p] = problems(parseBrokersFile(text, 'b.yaml'));
    expect(p).toMatchObject({ code: 'BROKER_DUPLICATE_ENDPOINT', path: 'brokers[1].host', line: 6 });
  });

  it('accepts the same host on different ports', () => {
    const text = lines('brokers:', '  - name: a', '    host: h', '    port: 1', '  - name: b', '    host: h', '    port: 2');
    expect(entries(parseBrokersFile(text, 'b.yaml'))).toHaveLength(2);
  });
});

describe('duplicate addresses in other spellings', () => {
  it.each([
    ['::1', '0:0:0:0:0:0:0:1'],
    ['2001:db8::1', '2001:DB8:0:0::1'],
    ['Broker.Example.com', 'broker.example.com.'],
  ])('refuses %s and %s as one endpoint listed twice', (a, b) => {
    const text = `brokers:\n  - { name: one, host: "${a}", port: 1883 }\n  - { name: two, host: "${b}", port: 1883 }\n`;
    const r = parseBrokersFile(text, 'brokers.yaml');
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['BROKER_DUPLICATE_ENDPOINT']);
  });

  it('still takes the same address on two ports', () => {
    expect(
      parseBrokersFile('brokers:\n  - { name: one, host: "::1", port: 1883 }\n  - { name: two, host: "0::1", port: 1884 }\n', 'b.yaml').ok,
    ).toBe(true);
  });
});
