import { DEFAULT_LOAD_CLIENTS, MAX_LOAD_CLIENTS, parseLoadFlag } from '../../tools/demo/load';

describe('the demo flag --load', () => {
  it('is off without the flag, the default count with --load, and N with --load=N', () => {
    expect(parseLoadFlag([])).toEqual({ clients: undefined });
    expect(parseLoadFlag(['--load'])).toEqual({ clients: DEFAULT_LOAD_CLIENTS });
    expect(parseLoadFlag(['--load=40'])).toEqual({ clients: 40 });
    expect(parseLoadFlag([`--load=${MAX_LOAD_CLIENTS}`])).toEqual({ clients: MAX_LOAD_CLIENTS });
  });

  it('names a count out of range or not a number, and an unknown argument', () => {
    for (const bad of ['--load=0', `--load=${MAX_LOAD_CLIENTS + 1}`, '--load=ten', '--load=', '--load=1.5']) {
      expect(parseLoadFlag([bad])).toEqual({ error: expect.stringContaining(`expected a number of clients in 1..${MAX_LOAD_CLIENTS}`) });
    }
    expect(parseLoadFlag(['--lod'])).toEqual({ error: expect.stringContaining('unknown argument "--lod"') });
  });
});
