import { decodeProxyHeader, type ProxyDecodeResult } from '../../tools/testbroker/proxy-protocol';
import { v1Header } from '../../support/proxy-header';

const decode = (line: string): ProxyDecodeResult => decodeProxyHeader(v1Header(line), { maxHeaderBytes: 4096, optional: false });
const code = (line: string): string => {
  const result = decode(line);
  return result.kind === 'error' ? result.error.code : `no error: ${result.kind}`;
};

describe('PROXY v1 line', () => {
  it('gives TCP4 addresses and ports and ends after the CRLF', () => {
    const result = decode('PROXY TCP4 192.168.0.1 192.168.0.11 56324 1883\r\n\x10\x0c');
    expect(result).toEqual({
      kind: 'header',
      header: {
        version: 1,
        command: 'proxy',
        family: 'inet4',
        transport: 'stream',
        source: { address: '192.168.0.1', port: 56324 },
        destination: { address: '192.168.0.11', port: 1883 },
        tlvs: expect.objectContaining({ custom: [] }),
        headerBytes: 48,
      },
    });
  });

  it('gives TCP6 addresses as sent', () => {
    expect(decode('PROXY TCP6 2001:db8::1 ::1 65535 0\r\n')).toMatchObject({
      header: { family: 'inet6', source: { address: '2001:db8::1', port: 65535 }, destination: { address: '::1', port: 0 } },
    });
  });

  it('takes UNKNOWN, with or without the rest of the line, as the real endpoints', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n']) {
      expect(decode(line)).toMatchObject({
        kind: 'header',
        header: { command: 'proxy', family: 'unspec', source: null, destination: null, headerBytes: line.length },
      });
    }
  });

  it('accepts the longest line, 107 bytes, and refuses one without a CRLF by then', () => {
    const longest = `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
    expect(longest.length).toBe(107);
    expect(decode(longest).kind).toBe('header');
    expect(code(`PROXY UNKNOWN ${'f'.repeat(93)}`)).toBe('PROXY_TOO_LARGE');
  });

  it('waits for the CRLF, also when the CR is the last byte so far', () => {
    expect(decode('PROXY TCP4 1.2.3.4')).toEqual({ kind: 'incomplete', needBytes: 19 });
    expect(decode('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r')).toEqual({ kind: 'incomplete', needBytes: 32 });
  });

  it.each([
    ['a lone LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['a CR without LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx'],
    ['an octet with a leading zero', 'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n'],
    ['an octet over 255', 'PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n'],
    ['three octets', 'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n'],
    ['an IPv4 address under TCP6', 'PROXY TCP6 1.2.3.4 ::1 1 2\r\n'],
    ['an IPv6 zone', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['a port over 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n'],
    ['a missing port', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a trailing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['a lower-case protocol', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['an unknown protocol', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a control byte', 'PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n'],
    ['a byte beyond US-ASCII', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xe9\r\n'],
  ])('refuses a line with %s', (_what, line) => {
    expect(code(line)).toBe('PROXY_BAD_V1');
  });
});
