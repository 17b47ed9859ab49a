import { chooseMember, parseSubscriptionFilter, topicMatches } from '../../tools/testbroker/capacity-shared';
import { ClientLedger } from '../../tools/testbroker/capacity-ledger';

describe('shared subscription filters', () => {
  it('splits $share/group/filter and leaves other filters alone', () => {
    expect(parseSubscriptionFilter('$share/consumers/sensors/+/temp')).toEqual({
      kind: 'shared',
      group: 'consumers',
      filter: 'sensors/+/temp',
    });
    expect(parseSubscriptionFilter('sensors/#')).toEqual({ kind: 'plain', filter: 'sensors/#' });
    expect(parseSubscriptionFilter('$SYS/#')).toEqual({ kind: 'plain', filter: '$SYS/#' });
  });

  it.each(['$share/', '$share/g', '$share//t', '$share/g/', '$share/a+b/t', '$share/#/t'])('refuses %p', (topic) => {
    expect(parseSubscriptionFilter(topic).kind).toBe('invalid');
  });
});

describe('topicMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+/+', '/x', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
  ])('%p against %p is %p', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('chooseMember', () => {
  it('goes round the members as the message key grows', () => {
    const members = ['a', 'b', 'c'];
    expect([0, 1, 2, 3, 4].map((k) => chooseMember(members, k))).toEqual(['a', 'b', 'c', 'a', 'b']);
    expect(chooseMember([], 5)).toBeUndefined();
    expect(chooseMember(members, Number.NaN)).toBe('a');
  });
});

describe('ClientLedger deliveries', () => {
  const ledger = (): ClientLedger => {
    const l = new ClientLedger({ windowMs: 5000, bucketMs: 250 });
    for (const id of ['m1', 'm2', 'plain']) l.connect(id, 0, true);
    l.subscribe('m1', '$share/g/t/#');
    l.subscribe('m2', '$share/g/t/#');
    l.subscribe('plain', 't/#');
    return l;
  };

  it('tells the broker to subscribe the plain filter behind a share', () => {
    const l = new ClientLedger({ windowMs: 5000, bucketMs: 250 });
    l.connect('c', 0, true);
    expect(l.subscribe('c', '$share/g/t/#')).toEqual({ ok: true, filter: 't/#' });
    expect(l.subscribe('c', '$share/g')).toMatchObject({ ok: false });
  });

  it('delivers each message to exactly one member of a share group, and to every plain subscriber', () => {
    const l = ledger();
    for (let key = 0; key < 10; key++) {
      const members = ['m1', 'm2'].filter((id) => l.shouldDeliver(id, 't/x', key));
      expect(members).toHaveLength(1);
      expect(l.shouldDeliver('plain', 't/x', key)).toBe(true);
    }
    const toM1 = Array.from({ length: 10 }, (_, key) => l.shouldDeliver('m1', 't/x', key)).filter(Boolean);
    expect(toM1).toHaveLength(5);
  });

  it('hands a leaving member’s share to the others', () => {
    const l = ledger();
    l.disconnect('m1');
    for (let key = 0; key < 4; key++) expect(l.shouldDeliver('m2', 't/x', key)).toBe(true);
  });

  it('stops delivering through a share the client unsubscribed from', () => {
    const l = ledger();
    l.unsubscribe('m1', '$share/g/t/#');
    expect(l.shouldDeliver('m1', 't/x', 0)).toBe(false);
    expect(l.shouldDeliver('m1', 't/x', 1)).toBe(false);
    expect(l.shouldDeliver('m2', 't/x', 1)).toBe(true);
  });

  it('reports shared subscribers and their original filters', () => {
    const l = ledger();
    const byId = new Map(l.list(1000).map((c) => [c.clientId, c]));
    expect(byId.get('m1')).toMatchObject({ sharedSubscriber: true, subscriptions: ['$share/g/t/#'] });
    expect(byId.get('plain')).toMatchObject({ sharedSubscriber: false, subscriptions: ['t/#'] });
  });

  it('attributes fan-out to the publisher and receipt to the receiver', () => {
    const l = ledger();
    l.connect('pub', 0, true);
    for (let t = 0; t < 5000; t += 100) {
      l.recordPublish('pub', t);
      l.recordDelivery('pub', 'plain', t);
      l.recordDelivery('pub', 'm1', t);
    }
    const byId = new Map(l.list(5000).map((c) => [c.clientId, c]));
    expect(byId.get('pub')!.publishRate).toBeCloseTo(10, 0);
    expect(byId.get('pub')!.fanoutRate).toBeCloseTo(20, 0);
    expect(byId.get('plain')!.receiveRate).toBeCloseTo(10, 0);
    expect(byId.get('m2')!.receiveRate).toBe(0);
  });
});
