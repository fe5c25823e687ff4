// The kubelet API's serving certificate: tlsCertFile/tlsPrivateKeyFile when given, otherwise a
// self-signed one kept in <root-dir>/pki (upstream's --cert-dir default), made once per node.
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { isLeft } from 'fp-ts/lib/Either.js';
import { privateDir } from '../adapters/fs/private-dirs.ts';
import { servingTlsSettings, type NodeTlsVersion } from '../model/tls-settings.ts';

export interface ServingTls {
  cert: string;
  key: string;
  /** PEM bundle that client certificates must chain to (authentication.x509.clientCAFile). */
  clientCA?: string;
  /** Where the certificate came from, for the start-up log line. */
  source: string;
  /** tlsMinVersion and tlsCipherSuites in Node's terms (undefined: Node's defaults). */
  minVersion?: NodeTlsVersion;
  ciphers?: string;
}

export interface ServingTlsOptions {
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCAFile: string;
  rootDir: string;
  nodeName: string;
  nodeIP?: string;
  now: Date;
  /** KubeletConfiguration's tlsMinVersion and tlsCipherSuites (Go names). */
  tlsMinVersion?: string;
  tlsCipherSuites?: readonly string[];
}

export async function servingTls(o: ServingTlsOptions): Promise<ServingTls> {
  const settings = servingTlsSettings(o.tlsMinVersion ?? '', o.tlsCipherSuites ?? []);
  if (isLeft(settings)) throw new Error(settings.left);
  const { minVersion, ciphers } = settings.right;
  return { ...(await certificate(o)), minVersion, ciphers };
}

async function certificate(o: ServingTlsOptions): Promise<ServingTls> {
  const clientCA = o.clientCAFile ? await readFile(o.clientCAFile, 'utf8') : undefined;
  if (o.tlsCertFile || o.tlsPrivateKeyFile) {
    if (!o.tlsCertFile || !o.tlsPrivateKeyFile) throw new Error('tlsCertFile and tlsPrivateKeyFile must be given together');
    return { cert: await readFile(o.tlsCertFile, 'utf8'), key: await readFile(o.tlsPrivateKeyFile, 'utf8'), clientCA, source: o.tlsCertFile };
  }
  const dir = join(o.rootDir, 'pki');
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  // pki 0700 as upstream, tightened when it already exists (the key is 0600 either way)
  await privateDir(dir, 0o700);
  if (existsSync(certFile) && existsSync(keyFile)) {
    await chmod(keyFile, 0o600);
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), clientCA, source: `${certFile} (self-signed)` };
  }
  const ips = ['127.0.0.1', ...(o.nodeIP ? [o.nodeIP] : [])];
  const made = await generate([{ name: 'commonName', value: `${o.nodeName}@${Math.floor(o.now.getTime() / 1000)}` }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: o.now,
    notAfterDate: new Date(o.now.getTime() + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: o.nodeName }, { type: 2, value: 'localhost' }, ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  await writeFile(keyFile, made.private, { mode: 0o600 });
  await writeFile(certFile, made.cert, { mode: 0o644 });
  return { cert: made.cert, key: made.private, clientCA, source: `${certFile} (self-signed, made now)` };
}
