import { rebalanceActions } from '../../../src/admin';

describe('rebalanceActions', () => {
  const rebalancer = {
    requestDrain: jest.fn(() => true),
    cancelDrain: jest.fn(() => true),
    drainStatus: jest.fn((name: string) => ({ broker: name, phase: 'waiting-for-ack' })),
    status: jest.fn(() => ({ drains: [] })),
  };

  it('refuses a drain of a broker discovery does not know, without asking the rebalancer', () => {
    const actions = rebalanceActions(rebalancer, (name) => name === 'a');
    expect(actions.requestDrain('zz')).toBeUndefined();
    expect(rebalancer.requestDrain).not.toHaveBeenCalled();
  });

  it('starts a drain of a known broker and answers with its status', () => {
    const actions = rebalanceActions(rebalancer, (name) => name === 'a');
    expect(actions.requestDrain('a')).toEqual({ created: true, status: { broker: 'a', phase: 'waiting-for-ack' } });
    expect(actions.rebalanceStatus()).toEqual({ drains: [] });
  });
});

describe('rebalanceActions with a shared drain record', () => {
  const drains = new Set<string>();
  const rebalancer = {
    requestDrain: jest.fn(() => true),
    cancelDrain: jest.fn(() => true),
    hasApiDrain: (name: string) => drains.has(name),
    drainStatus: (name: string) => ({ broker: name, state: drains.has(name) ? 'draining' : 'not-draining' }),
    status: () => ({}),
  };
  let writable = true;
  // The record applies what it wrote, as the ConfigMap's patch answer does.
  const record = {
    add: jest.fn(async (name: string) => {
      if (!writable)
        return { ok: false as const, problems: [{ code: 'K8S_DRAINS_FORBIDDEN', message: 'forbidden to patch configmap x/y' }] };
      drains.add(name);
      return { ok: true as const };
    }),
    remove: jest.fn(async (name: string) => {
      if (!writable) return { ok: false as const, problems: [{ code: 'K8S_DRAINS_WRITE', message: 'the API server is down' }] };
      drains.delete(name);
      return { ok: true as const };
    }),
  };
  const actions = rebalanceActions(rebalancer, (name) => name !== 'zz', record);

  it('writes the drain to the record instead of draining on this replica alone', async () => {
    expect(await actions.requestDrain('a')).toEqual({ created: true, status: { broker: 'a', state: 'draining' } });
    expect(await actions.requestDrain('a')).toEqual({ created: false, status: { broker: 'a', state: 'draining' } });
    expect(rebalancer.requestDrain).not.toHaveBeenCalled();
    expect(await actions.cancelDrain('a')).toBe(true);
    expect(await actions.cancelDrain('a')).toBe(false);
    expect(rebalancer.cancelDrain).not.toHaveBeenCalled();
    expect(await actions.requestDrain('zz')).toBeUndefined();
    expect(record.add).not.toHaveBeenCalledWith('zz');
  });

  it('says why when the record cannot be written, and changes nothing', async () => {
    writable = false;
    expect(await actions.requestDrain('b')).toEqual({ code: 'K8S_DRAINS_FORBIDDEN', error: 'forbidden to patch configmap x/y' });
    expect(await actions.cancelDrain('b')).toEqual({ code: 'K8S_DRAINS_WRITE', error: 'the API server is down' });
    expect(drains.has('b')).toBe(false);
    writable = true;
  });
});
