import { drainsOf } from '../../../src/discovery/kubernetes/drain-record';
import { createLogger } from '../../../src/util/log';

describe('drainsOf: the shared drain record ConfigMap read as drains', () => {
  const lines: string[] = [];
  const logger = createLogger('info', {}, (l) => lines.push(l));

  it('reads our entries, and counts a hand-written one from when it was first seen, warning once', () => {
    const firstSeen = new Map<string, number>();
    const data = { 'hivemq-0': JSON.stringify({ requestedAt: '2026-12-06T10:00:00.000Z', by: 'mqtt-xds-0' }), 'hivemq-1': 'yes please' };
    expect(drainsOf(data, firstSeen, 5000, logger, 'configmap ns/d')).toEqual(
      new Map([
        ['hivemq-0', { requestedAtMs: Date.parse('2026-12-06T10:00:00.000Z'), by: 'mqtt-xds-0' }],
        ['hivemq-1', { requestedAtMs: 5000, by: 'unknown' }],
      ]),
    );
    expect(drainsOf(data, firstSeen, 9000, logger, 'configmap ns/d').get('hivemq-1')).toEqual({ requestedAtMs: 5000, by: 'unknown' });
    expect(lines.filter((l) => l.includes('the entry for hivemq-1 is not'))).toHaveLength(1);
    // A removed key is forgotten: if it comes back, it counts from then.
    expect(drainsOf({}, firstSeen, 10_000, logger, 'configmap ns/d').size).toBe(0);
    expect(drainsOf({ 'hivemq-1': '' }, firstSeen, 20_000, logger, 'configmap ns/d').get('hivemq-1')?.requestedAtMs).toBe(20_000);
  });
});
