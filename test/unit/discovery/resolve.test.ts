import { resolveBrokers, type BrokerEntry, type HostLookup } from '../../../src/discovery';

function fakeDns(table: Record<string, Array<{ address: string; family: number }>>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (host: string) => {
    calls.push(host);
    const answer = table[host];
    if (answer === undefined) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return answer;
  };
  return Object.assign(lookup, { calls });
}

describe('resolveBrokers', () => {
  it('passes IP literals through without a lookup, maps weight to staticWeight and keeps the URLs', async () => {
    const dns = fakeDns({});
    const entries: BrokerEntry[] = [
      { name: 'b', host: '::1', port: 2 },
      {
        name: 'a',
        host: '10.0.0.1',
        port: 1,
        staticWeight: 3,
        draining: true,
        metricsUrl: 'http://10.0.0.1:9399/metrics',
        agentUrl: 'http://10.0.0.1:9401',
      },
    ];
    const result = await resolveBrokers(entries, dns);
    expect(result).toEqual({
      ok: true,
      value: [
        {
          name: 'a',
          address: '10.0.0.1',
          port: 1,
          staticWeight: 3,
          draining: true,
          metricsUrl: 'http://10.0.0.1:9399/metrics',
          agentUrl: 'http://10.0.0.1:9401',
        },
        { name: 'b', address: '::1', port: 2 },
      ],
    });
    expect(dns.calls).toEqual([]);
  });

  it('resolves a DNS name to one address, preferring IPv4', async () => {
    const dns = fakeDns({
      'broker.local': [
        { address: 'fd00::2', family: 6 },
        { address: '10.0.0.9', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
      'v6only.local': [{ address: 'fd00::5', family: 6 }],
    });
    const result = await resolveBrokers(
      [
        { name: 'a', host: 'broker.local', port: 1883 },
        { name: 'b', host: 'v6only.local', port: 1883 },
      ],
      dns,
    );
    expect(result.ok && result.value.map((b) => b.address)).toEqual(['10.0.0.7', 'fd00::5']);
  });

  it('picks the same address whatever order DNS answers in', async () => {
    const one = await resolveBrokers(
      [{ name: 'a', host: 'h', port: 1 }],
      fakeDns({
        h: [
          { address: '10.0.0.2', family: 4 },
          { address: '10.0.0.1', family: 4 },
        ],
      }),
    );
    const two = await resolveBrokers(
      [{ name: 'a', host: 'h', port: 1 }],
      fakeDns({
        h: [
          { address: '10.0.0.1', family: 4 },
          { address: '10.0.0.2', family: 4 },
        ],
      }),
    );
    expect(one).toEqual(two);
  });

  it('reports every failed lookup, naming the broker and host', async () => {
    const result = await resolveBrokers(
      [
        { name: 'ok', host: 'good.local', port: 1 },
        { name: 'gone', host: 'gone.local', port: 1 },
        { name: 'empty', host: 'empty.local', port: 1 },
      ],
      fakeDns({ 'good.local': [{ address: '10.0.0.1', family: 4 }], 'empty.local': [] }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['BROKER_DNS_FAILED', 'brokers[1].host'],
      ['BROKER_DNS_FAILED', 'brokers[2].host'],
    ]);
    expect(result.problems[0].message).toContain('"gone.local"');
    expect(result.problems[0].message).toContain('"gone"');
    expect(result.problems[0].message).toContain('ENOTFOUND');
  });

  it('rejects two brokers whose hosts resolve to the same address and port', async () => {
    const result = await resolveBrokers(
      [
        { name: 'a', host: '127.0.0.1', port: 1883 },
        { name: 'b', host: 'localhost', port: 1883 },
      ],
      fakeDns({ localhost: [{ address: '127.0.0.1', family: 4 }] }),
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]).toMatchObject({ code: 'BROKER_DUPLICATE_ENDPOINT', path: 'brokers[1].host' });
  });

  it('fails a lookup that never answers with BROKER_DNS_TIMEOUT after timeoutMs, and still resolves the others', async () => {
    const lookup: HostLookup = (host) =>
      host === 'stuck' ? new Promise(() => undefined) : Promise.resolve([{ address: '10.0.0.9', family: 4 }]);
    const result = await resolveBrokers(
      [
        { name: 'a', host: 'stuck', port: 1 },
        { name: 'b', host: 'fine', port: 2 },
      ],
      lookup,
      { timeoutMs: 30 },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.objectContaining({ code: 'BROKER_DNS_TIMEOUT', path: 'brokers[0].host' })]);
    expect(result.problems[0].message).toContain('30 ms');
  });
});
