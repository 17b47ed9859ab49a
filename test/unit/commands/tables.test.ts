import { proxyStatusLines, typeCell } from '../../../src/commands/proxy-status-command';
import { chooseNode } from '../../../src/commands/config-dump-command';
import { statusLines } from '../../../src/commands/status-command';
import { formatTable, percent, shortVersion } from '../../../src/commands/table';

describe('formatTable', () => {
  it('pads each column to its widest cell and leaves the last ragged', () => {
    expect(
      formatTable(
        ['NAME', 'W', 'REASON'],
        [
          ['a', '100', 'short'],
          ['broker-long', '1', ''],
        ],
      ),
    ).toEqual(['NAME         W    REASON', 'a            100  short', 'broker-long  1']);
  });

  it('shortens versions and formats shares', () => {
    expect([shortVersion('0123456789abcdef'), shortVersion(undefined), shortVersion('')]).toEqual(['01234567', '-', '-']);
    expect([percent(0.4234), percent(1.5), percent(undefined)]).toEqual(['42%', '150%', '-']);
  });
});

describe('mqtt-xds status', () => {
  it('shows each decision: health, weight, utilisation, capacity with its source, and the reason', () => {
    const lines = statusLines({
      version: '0.1.0',
      ready: { ready: true, reason: 'serving snapshot 0123456789abcdef' },
      snapshot: { version: '0123456789abcdef' },
      decisions: [
        {
          name: 'hivemq-0',
          weight: 120,
          health: 'serving',
          utilisation: 0.31,
          capacity: 5000.4,
          capacitySource: 'hint',
          reason: 'below the mean',
        },
        { name: 'hivemq-1', weight: 0, health: 'draining', excluded: true, capacitySource: 'neutral', reason: 'excluded by policy' },
      ],
    });
    expect(lines).toEqual([
      'mqtt-xds 0.1.0, snapshot 01234567, ready: serving snapshot 0123456789abcdef',
      '',
      'BROKER    HEALTH    WEIGHT  UTIL  CAPACITY  SOURCE   REASON',
      'hivemq-0  SERVING   120     31%   5000      hint     below the mean',
      'hivemq-1  EXCLUDED  0       -     -         neutral  excluded by policy',
    ]);
  });

  it('falls back to the plan, and says when there are no brokers', () => {
    expect(statusLines({ brokers: [{ name: 'a', weight: 1, health: 'serving' }] }).at(-1)).toBe(
      'a       SERVING  1       -     -         -',
    );
    expect(statusLines({ ready: { ready: false, reason: 'waiting' } })).toEqual([
      'mqtt-xds ?, snapshot -, NOT READY: waiting',
      'no brokers',
    ]);
  });
});

describe('mqtt-xds proxy-status', () => {
  it('shows the ACKed version, and the latest and how long when behind', () => {
    expect(typeCell({ state: 'SYNCED', acked: 'aaaaaaaaaaaaaaaa', latest: 'aaaaaaaaaaaaaaaa' })).toBe('SYNCED aaaaaaaa');
    expect(typeCell({ state: 'STALE', acked: 'aaaaaaaa11', latest: 'bbbbbbbb22', behindMs: 65_400 })).toBe('STALE aaaaaaaa→bbbbbbbb 1m05s');
    expect(typeCell({ state: 'NACKED', acked: 'aaaaaaaa', sent: 'cccccccc' })).toBe('NACKED aaaaaaaa→cccccccc');
    expect(typeCell(undefined)).toBe('-');
  });

  it('has a column per type some Envoy subscribes to, and lists the NACK messages under the table', () => {
    const lines = proxyStatusLines({
      proxies: [
        {
          node: 'edge-1',
          cluster: 'edge',
          kind: 'sotw',
          stream: 1,
          types: { CDS: { state: 'SYNCED', acked: 'c1' }, LDS: { state: 'NACKED', acked: 'l1', latest: 'l2', error: 'bad address' } },
        },
        { node: 'edge-2', cluster: '', kind: 'delta', stream: 2, types: { CDS: { state: 'SYNCED', acked: 'c1' } } },
      ],
      omitted: 3,
    });
    expect(lines).toEqual([
      'NODE    CLUSTER  ADS    CDS        LDS',
      'edge-1  edge     SotW   SYNCED c1  NACKED l1→l2',
      'edge-2  -        Delta  SYNCED c1  -',
      '',
      'NACKs:',
      '  edge-1 LDS: bad address',
      '',
      '3 more not shown; use --node ID',
    ]);
    expect(proxyStatusLines({ proxies: [] })).toEqual(['no Envoy is connected']);
  });
});

describe('mqtt-xds config-dump without --node', () => {
  const doc = (...nodes: string[]) => ({
    proxies: nodes.map((node, i) => ({ node, cluster: '', kind: 'sotw', stream: i, types: {} })),
  });
  it('takes the one Envoy connected (over any number of its streams)', () => {
    expect(chooseNode(undefined, doc('edge-1', 'edge-1'))).toEqual({ node: 'edge-1' });
    expect(chooseNode('asked', doc('edge-1', 'edge-2'))).toEqual({ node: 'asked' });
  });
  it('asks for --node when there are several, naming them, and says when there is none', () => {
    expect(chooseNode(undefined, doc('b', 'a'))).toEqual({ problem: '2 Envoys are connected (a, b); name one with --node ID' });
    expect(chooseNode(undefined, doc())).toEqual({ problem: 'no Envoy is connected' });
  });
});
