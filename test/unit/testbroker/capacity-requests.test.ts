import type { ClientInfo } from '../../../src/testbroker/capacity-ledger';
import {
  chooseClients,
  parseDisconnectRequest,
  parseJsonObject,
  parseLoadRequest,
  parseOverloadRequest,
} from '../../../src/testbroker/capacity-requests';
import { formatProblems, type Result } from '../../../src/util/result';

const problemsOf = <T>(r: Result<T>): string => (r.ok ? '' : formatProblems(r.problems));

describe('admin request bodies', () => {
  it('rejects text that is not a JSON object', () => {
    expect(problemsOf(parseJsonObject('{"level":'))).toMatch(/body is not valid JSON: .*\[BAD_JSON\]/);
    expect(problemsOf(parseJsonObject('[1]'))).toMatch(/must be a JSON object/);
    expect(problemsOf(parseJsonObject(''))).toMatch(/BAD_JSON/);
  });

  it('accepts a forced overload with or without a duration', () => {
    expect(parseOverloadRequest({ level: 5, durationMs: 10000 })).toEqual({
      ok: true,
      value: { level: 5, durationMs: 10000 },
    });
    expect(parseOverloadRequest({ level: 0 })).toEqual({ ok: true, value: { level: 0, durationMs: undefined } });
  });

  it('names every bad or unknown field', () => {
    const text = problemsOf(parseOverloadRequest({ level: 11, durationMs: 1.5, duration: 3 }));
    expect(text).toContain('level: must be an integer from 0 to 10, got 11');
    expect(text).toContain('durationMs: must be an integer');
    expect(text).toContain('duration: unknown field; expected "level", "durationMs" (did you mean "durationMs"?)');
    expect(problemsOf(parseLoadRequest({ extraCost: -1 }))).toContain('extraCost: must be a number ≥ 0');
    expect(parseLoadRequest({ extraCost: 500 })).toEqual({ ok: true, value: { extraCost: 500, durationMs: undefined } });
  });

  it('takes a disconnect by ids or by count, not both', () => {
    expect(parseDisconnectRequest({ clientIds: ['a', 'b', 'a'] })).toEqual({
      ok: true,
      value: { kind: 'ids', clientIds: ['a', 'b'] },
    });
    expect(parseDisconnectRequest({ count: 2 })).toEqual({
      ok: true,
      value: { kind: 'count', count: 2, prefer: 'shared-first' },
    });
    expect(problemsOf(parseDisconnectRequest({ clientIds: ['a'], count: 1 }))).toMatch(/exactly one of/);
    expect(problemsOf(parseDisconnectRequest({}))).toMatch(/exactly one of/);
    expect(problemsOf(parseDisconnectRequest({ clientIds: [] }))).toMatch(/non-empty list/);
    expect(problemsOf(parseDisconnectRequest({ clientIds: ['a', 7] }))).toContain('clientIds[1]: must be a non-empty string');
    expect(problemsOf(parseDisconnectRequest({ count: 0 }))).toContain('count: must be an integer from 1');
    expect(problemsOf(parseDisconnectRequest({ count: 1, prefer: 'shared-frist' }))).toContain('(did you mean "shared-first"?)');
    expect(problemsOf(parseDisconnectRequest({ clientIds: ['a'], prefer: 'newest-first' }))).toMatch(/only applies with "count"/);
  });
});

describe('choosing clients to disconnect', () => {
  const client = (clientId: string, connectedSinceMs: number, sharedSubscriber: boolean, publishRate = 0): ClientInfo => ({
    clientId,
    connectedSinceMs,
    cleanSession: true,
    subscriptions: [],
    sharedSubscriber,
    publishRate,
    fanoutRate: publishRate * 2,
    receiveRate: 0,
  });
  const clients = [
    client('old-shared', 100, true),
    client('new-plain', 400, false),
    client('busy', 200, false, 50),
    client('new-shared', 300, true),
  ];

  it('takes shared subscribers first, newest first', () => {
    expect(chooseClients(clients, 3, 'shared-first')).toEqual(['new-shared', 'old-shared', 'new-plain']);
  });

  it('orders by connection time or by traffic when asked', () => {
    expect(chooseClients(clients, 2, 'newest-first')).toEqual(['new-plain', 'new-shared']);
    expect(chooseClients(clients, 2, 'oldest-first')).toEqual(['old-shared', 'busy']);
    expect(chooseClients(clients, 1, 'busiest-first')).toEqual(['busy']);
  });

  it('returns everyone when asked for more clients than there are', () => {
    expect(chooseClients(clients, 10, 'shared-first')).toHaveLength(4);
  });
});
