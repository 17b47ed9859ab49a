// Certificates for tests, made by openssl on the spot: a CA, and leaf certificates it
// signs (server or client, with chosen SANs and validity). Nothing is committed.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface LeafOptions {
  readonly commonName: string;
  /** e.g. ['DNS:localhost', 'IP:127.0.0.1', 'URI:spiffe://mqtt/envoy-1'] */
  readonly san?: readonly string[];
  /** Days from now; negative values give an expired certificate (with notBefore earlier still). */
  readonly days?: number;
  /** Starts this many days from now (a not-yet-valid certificate). */
  readonly startsInDays?: number;
  readonly usage?: 'server' | 'client';
}

function run(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestCa {
  readonly dir: string;
  readonly ca: Pem;
  private serial = 1;

  constructor(name = 'mqtt-xds test CA', dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-ca-'))) {
    this.dir = dir;
    const keyFile = path.join(dir, 'ca.key');
    const certFile = path.join(dir, 'ca.crt');
    run(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '30',
        '-subj',
        `/CN=${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    this.ca = { certFile, keyFile, cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
    this.config = path.join(dir, 'ca.cnf');
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(
      this.config,
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        'database = index.txt',
        'new_certs_dir = .',
        'serial = serial',
        'default_md = sha256',
        'policy = p',
        'unique_subject = no',
        'copy_extensions = none',
        '[p]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
  }

  private readonly config: string;

  /** A leaf signed by this CA, in files named after `name`. */
  issue(name: string, o: LeafOptions): Pem {
    const keyFile = path.join(this.dir, `${name}.key`);
    const csr = path.join(this.dir, `${name}.csr`);
    const certFile = path.join(this.dir, `${name}.crt`);
    const ext = path.join(this.dir, `${name}.ext`);
    const lines = [
      'basicConstraints=CA:FALSE',
      `extendedKeyUsage=${o.usage === 'client' ? 'clientAuth' : 'serverAuth'}`,
      ...(o.san && o.san.length > 0 ? [`subjectAltName=${o.san.join(',')}`] : []),
    ];
    fs.writeFileSync(ext, lines.join('\n') + '\n');
    run(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        csr,
        '-subj',
        `/CN=${o.commonName}`,
      ],
      this.dir,
    );
    const days = o.days ?? 7;
    // Backdated a minute by default, so a certificate issued now is valid for a clock read a moment earlier.
    const start = o.startsInDays ?? (days < 0 ? days - 1 : -1 / 1440);
    const end = days < 0 ? days : start + days;
    const stamp = (d: number): string => new Date(Date.now() + d * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    // `openssl ca`, not `x509 -req`: OpenSSL 3.0's x509 cannot set notBefore.
    fs.writeFileSync(path.join(this.dir, 'serial'), (1000 + this.serial++).toString(16).padStart(4, '0') + '\n');
    run(
      [
        'ca',
        '-batch',
        '-config',
        this.config,
        '-in',
        csr,
        '-out',
        certFile,
        '-cert',
        this.ca.certFile,
        '-keyfile',
        this.ca.keyFile,
        '-extfile',
        ext,
        '-startdate',
        stamp(start),
        '-enddate',
        stamp(end),
        '-notext',
      ],
      this.dir,
    );
    return { certFile, keyFile, cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  }
}

/**
 * Writes a certificate and key over the files a running control plane watches, each
 * atomically (write, then rename), as a careful rotation would. Returns the certificate's
 * serial, or '' when it is not a certificate (a test writing garbage on purpose).
 */
export function installPair(p: Pick<Pem, 'cert' | 'key'>, certFile: string, keyFile: string): string {
  for (const [file, body] of [
    [certFile, p.cert],
    [keyFile, p.key],
  ] as const) {
    fs.writeFileSync(`${file}.tmp`, body);
    fs.renameSync(`${file}.tmp`, file);
  }
  try {
    return new X509Certificate(p.cert).serialNumber;
  } catch {
    return '';
  }
}
