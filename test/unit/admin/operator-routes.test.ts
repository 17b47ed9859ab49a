import { isLoopbackHost, operatorRoute, type OperatorActions } from '../../../src/admin/operator-routes';

const actions = (): OperatorActions & { drains: Set<string> } => {
  const drains = new Set<string>();
  return {
    drains,
    requestDrain: (name) => {
      if (name === 'unknown') return undefined;
      const created = !drains.has(name);
      drains.add(name);
      return { created, status: { broker: name } };
    },
    cancelDrain: (name) => drains.delete(name),
    drainStatus: (name) => ({ broker: name, drained: false }),
    rebalanceStatus: () => ({ mode: 'dry-run' }),
  };
};

describe('operator routes', () => {
  it('leaves other paths to the admin server', () => {
    expect(operatorRoute('GET', '/status', {}, actions(), undefined)).toBeUndefined();
  });

  it('accepts a drain, reports it, and cancels it', () => {
    const a = actions();
    expect(operatorRoute('POST', '/drain/broker-1', {}, a, undefined)).toMatchObject({
      status: 202,
      body: { broker: 'broker-1', created: true },
    });
    expect(operatorRoute('POST', '/drain/broker-1', {}, a, undefined)).toMatchObject({ status: 202, body: { created: false } });
    expect(operatorRoute('GET', '/drain/broker-1', {}, a, undefined)).toMatchObject({ status: 200, body: { broker: 'broker-1' } });
    expect(operatorRoute('DELETE', '/drain/broker-1', {}, a, undefined)).toMatchObject({ status: 200, body: { cancelled: true } });
    expect(a.drains.size).toBe(0);
  });

  it('answers a drain that needs a write once it is done, and 503 naming the code when it failed', async () => {
    const a: OperatorActions = {
      requestDrain: async (name) =>
        name === 'b1'
          ? { created: true, status: { broker: name } }
          : { code: 'K8S_DRAINS_FORBIDDEN', error: 'forbidden to patch configmap ns/mqtt-xds-drains' },
      cancelDrain: async () => ({ code: 'K8S_DRAINS_WRITE', error: 'timeout' }),
      drainStatus: (name) => ({ broker: name }),
      rebalanceStatus: () => ({}),
    };
    expect(await operatorRoute('POST', '/drain/b1', {}, a, undefined)).toMatchObject({
      status: 202,
      body: { broker: 'b1', created: true },
    });
    expect(await operatorRoute('POST', '/drain/b2', {}, a, undefined)).toEqual({
      status: 503,
      body: {
        broker: 'b2',
        code: 'K8S_DRAINS_FORBIDDEN',
        error: 'the drain was not recorded, so no replica applies it: forbidden to patch configmap ns/mqtt-xds-drains',
      },
    });
    expect(await operatorRoute('DELETE', '/drain/b1', {}, a, undefined)).toMatchObject({ status: 503, body: { code: 'K8S_DRAINS_WRITE' } });
  });

  it('names what is wrong: an unknown broker, a bad name, a wrong method', () => {
    const a = actions();
    expect(operatorRoute('POST', '/drain/unknown', {}, a, undefined)).toMatchObject({
      status: 404,
      body: { error: expect.stringMatching(/no broker named "unknown"/) },
    });
    expect(operatorRoute('POST', '/drain/Bad%20Name', {}, a, undefined)).toMatchObject({ status: 400 });
    expect(operatorRoute('PUT', '/drain/broker-1', {}, a, undefined)).toMatchObject({ status: 405, allow: 'GET, POST, DELETE' });
    expect(operatorRoute('POST', '/rebalance', {}, a, undefined)).toMatchObject({ status: 405 });
  });

  it('with a token, refuses drains without it but still answers progress', () => {
    const a = actions();
    expect(operatorRoute('POST', '/drain/broker-1', {}, a, 'tok')).toMatchObject({ status: 401 });
    expect(operatorRoute('POST', '/drain/broker-1', { authorization: 'Bearer nope' }, a, 'tok')).toMatchObject({ status: 401 });
    expect(operatorRoute('POST', '/drain/broker-1', { authorization: 'Bearer tok' }, a, 'tok')).toMatchObject({ status: 202 });
    expect(operatorRoute('GET', '/drain/broker-1', {}, a, 'tok')).toMatchObject({ status: 200 });
  });

  it('refuses mutating actions on a network-reachable port without a token, but still answers progress', () => {
    const a = actions();
    const r = operatorRoute('POST', '/drain/broker-1', {}, a, undefined, false);
    expect(r).toMatchObject({ status: 403, body: { error: expect.stringMatching(/admin\.tokenFile/) } });
    expect(operatorRoute('DELETE', '/drain/broker-1', {}, a, '', false)).toMatchObject({ status: 403 });
    expect(operatorRoute('GET', '/drain/broker-1', {}, a, undefined, false)).toMatchObject({ status: 200 });
    expect(a.drains.size).toBe(0);
    expect(operatorRoute('POST', '/drain/broker-1', { authorization: 'Bearer tok' }, a, 'tok', false)).toMatchObject({ status: 202 });
  });

  it('refuses a token of any length alike: a prefix, a longer one and an empty one', () => {
    const a = actions();
    for (const given of ['to', 'tokk', 'tok ', '', 'x'.repeat(10_000)]) {
      expect(operatorRoute('POST', '/drain/broker-1', { authorization: `Bearer ${given}` }, a, 'tok')).toMatchObject({ status: 401 });
    }
    expect(a.drains.size).toBe(0);
  });

  it('knows which hosts are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('answers a malformed escape in the name with 400, not a crash', () => {
    expect(operatorRoute('GET', '/drain/%E0%A4%A', {}, actions(), undefined)).toMatchObject({ status: 400 });
  });
});
