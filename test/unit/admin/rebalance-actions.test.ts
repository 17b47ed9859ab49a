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
