import type * as k8s from '@kubernetes/client-node';
import { InformerRunner } from '../../../src/discovery/kubernetes/informer-runner';
import { silentLogger } from '../../../src/util/log';

/** Like client-node's ListWatch: a failed list is reported through 'error', and start() still resolves. */
function fakeInformer(listOk: () => boolean) {
  const handlers: Record<string, Array<(arg?: unknown) => void>> = { error: [], connect: [] };
  const informer = {
    on: (verb: string, cb: (arg?: unknown) => void) => (handlers[verb] ??= []).push(cb),
    start: async () => {
      if (!listOk()) handlers.error.forEach((cb) => cb(Object.assign(new Error('HTTP-Code: 403'), { code: 403 })));
    },
    stop: async () => undefined,
  };
  return informer as unknown as k8s.Informer<k8s.KubernetesObject>;
}

describe('InformerRunner', () => {
  it('does not report synced, nor deliver a list, when the first list failed', async () => {
    const synced: boolean[] = [];
    const listed: number[] = [];
    const failed: unknown[] = [];
    const runner = new InformerRunner(
      fakeInformer(() => false),
      {
        what: 'pod',
        logger: silentLogger,
        onListed: () => listed.push(1),
        onFailed: (_m, err) => failed.push(err),
        onSynced: (s) => synced.push(s),
      },
    );
    await runner.start();
    runner.stop();
    expect(runner.isSynced()).toBe(false);
    expect(listed).toEqual([]);
    expect(synced).toEqual([]);
    expect(failed).toEqual([expect.objectContaining({ code: 403 })]);
  });

  it('reports synced and delivers the list after a good start', async () => {
    const synced: boolean[] = [];
    let listed = 0;
    const runner = new InformerRunner(
      fakeInformer(() => true),
      {
        what: 'pod',
        logger: silentLogger,
        onListed: () => listed++,
        onFailed: () => undefined,
        onSynced: (s) => synced.push(s),
      },
    );
    await runner.start();
    runner.stop();
    expect(runner.isSynced()).toBe(true);
    expect(listed).toBe(1);
    expect(synced).toEqual([true]);
  });
});
