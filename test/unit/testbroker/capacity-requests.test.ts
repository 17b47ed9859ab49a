import type { ClientInfo } from '../../tools/testbroker/capacity-ledger';
import {
  chooseClients,
  parseAgentClientsQuery,
  parseAgentDisconnectRequest,
  parseDisconnectRequest,
  parseJsonObject,
  parseLoadRequest,
  parseOverloadRequest,
  parseProxyQuery,
} from '../../tools/testbroker/capacity-requests';
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

describe('agent requests', () => {
  const fields = <T>(r: Result<T>): Array<[string, string]> => (r.ok ? [] : r.problems.map((p) => [p.code, p.path]));

  it('accepts distinct client ids with a reason, keeping their order', () => {
    expect(parseAgentDisconnectRequest({ clientIds: ['b', 'a'], reason: 'drain' })).toEqual({
      ok: true,
      value: { clientIds: ['b', 'a'], reason: 'drain' },
    });
    expect(parseAgentDisconnectRequest({ clientIds: ['x'], reason: 'rebalance' }).ok).toBe(true);
  });

  it('names every missing, mistyped or unknown field of a disconnect', () => {
    expect(fields(parseAgentDisconnectRequest({}))).toEqual([
      ['FIELD_MISSING', 'clientIds'],
      ['FIELD_MISSING', 'reason'],
    ]);
    expect(fields(parseAgentDisconnectRequest({ clientIds: 'a', reason: 'drain', force: true }))).toEqual([
      ['UNKNOWN_FIELD', 'force'],
      ['FIELD_TYPE', 'clientIds'],
    ]);
    expect(fields(parseAgentDisconnectRequest({ clientIds: [], reason: 'drain' }))).toEqual([['FIELD_RANGE', 'clientIds']]);
    expect(fields(parseAgentDisconnectRequest({ clientIds: ['a', '', 7, null], reason: 'drain' }))).toEqual([
      ['FIELD_TYPE', 'clientIds[1]'],
      ['FIELD_TYPE', 'clientIds[2]'],
      ['FIELD_TYPE', 'clientIds[3]'],
    ]);
    expect(problemsOf(parseAgentDisconnectRequest({ clientIds: ['a'], reason: 'drian' }))).toContain(
      'reason: must be one of rebalance, drain, got "drian" (did you mean "drain"?)',
    );
    expect(problemsOf(parseAgentDisconnectRequest({ clientIds: ['a'], reason: 1 }))).toContain('reason: must be one of');
  });

  it('refuses repeated client ids, pointing at the first use', () => {
    expect(problemsOf(parseAgentDisconnectRequest({ clientIds: ['a', 'b', 'a'], reason: 'drain' }))).toContain(
      'clientIds[2]: repeats clientIds[0]',
    );
  });

  it('takes 1,000 ids and marks 1,001 with the code that becomes 413', () => {
    const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);
    expect(parseAgentDisconnectRequest({ clientIds: ids(1000), reason: 'rebalance' }).ok).toBe(true);
    expect(fields(parseAgentDisconnectRequest({ clientIds: ids(1001), reason: 'rebalance' }))).toEqual([
      ['TOO_MANY_CLIENT_IDS', 'clientIds'],
    ]);
  });

  it('reads the clients limit: default 10,000, 0 to 100,000, nothing else', () => {
    const query = (text: string) => parseAgentClientsQuery(new URLSearchParams(text));
    expect(query('')).toEqual({ ok: true, value: { limit: 10_000 } });
    expect(query('limit=0')).toEqual({ ok: true, value: { limit: 0 } });
    expect(query('limit=100000')).toEqual({ ok: true, value: { limit: 100_000 } });
    for (const bad of ['limit=100001', 'limit=-1', 'limit=1.5', 'limit=', 'limit=ten', 'limit=1e3']) {
      expect(fields(query(bad))).toEqual([['FIELD_RANGE', 'limit']]);
    }
    expect(fields(query('limit=1&limit=2'))).toEqual([['FIELD_TYPE', 'limit']]);
    expect(problemsOf(query('limt=5'))).toContain('limt: unknown query parameter; expected "limit" (did you mean "limit"?)');
  });
});

describe('the /admin/proxy query', () => {
  const q = (text: string): ReturnType<typeof parseProxyQuery> => parseProxyQuery(new URLSearchParams(text));

  it('takes an optional client id and limit', () => {
    expect(q('')).toEqual({ ok: true, value: {} });
    expect(q('clientId=sensor%2F7&limit=0')).toEqual({ ok: true, value: { clientId: 'sensor/7', limit: 0 } });
    expect(q('clientId=')).toEqual({ ok: true, value: { clientId: '' } });
  });

  it('names an unknown parameter, a repeated one and a bad limit', () => {
    const text = problemsOf(q('client=a&limit=1&limit=2'));
    expect(text).toContain('client: unknown query parameter; expected "clientId" or "limit" (did you mean "clientId"?) [UNKNOWN_FIELD]');
    expect(text).toContain('limit: is given more than once [FIELD_TYPE]');
    expect(problemsOf(q('limit=-1'))).toContain('limit: must be an integer from 0 to 1000000, got "-1" [FIELD_RANGE]');
    expect(problemsOf(q('limit=1000001'))).toContain('[FIELD_RANGE]');
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
