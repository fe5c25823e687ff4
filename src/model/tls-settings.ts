// tlsMinVersion and tlsCipherSuites as KubeletConfiguration spells them (Go's crypto/tls names,
// k8s.io/component-base/cli/flag) turned into Node's (OpenSSL's) names. Unknown names are errors.
import { left, right, type Either } from 'fp-ts/lib/Either.js';

const VERSIONS = { VersionTLS10: 'TLSv1', VersionTLS11: 'TLSv1.1', VersionTLS12: 'TLSv1.2', VersionTLS13: 'TLSv1.3' } as const;
export type NodeTlsVersion = (typeof VERSIONS)[keyof typeof VERSIONS];

// TLS 1.3 suites: Go does not let them be configured (all stay on); kept here so a list naming them is valid.
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** Go's tls.CipherSuites() and tls.InsecureCipherSuites() names (plus component-base's legacy aliases) → OpenSSL. */
const SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // insecure ones: accepted as upstream does (with a warning at start-up)
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
};
const INSECURE = new Set(Object.keys(SUITES).filter((n) => /RC4|3DES|^TLS_RSA_|CBC_SHA256/.test(n)));

/** The insecure suites among Go names (upstream logs each at start-up). */
export function insecureCipherSuites(names: readonly string[]): string[] {
  return names.filter((n) => INSECURE.has(n));
}

export interface ServingTlsSettings {
  /** Node's minVersion; undefined keeps Node's default (TLS 1.2, Go's too). */
  minVersion?: NodeTlsVersion;
  /** Node's `ciphers` string; undefined keeps Node's default list. */
  ciphers?: string;
}

/** Map the two settings; an unknown name is an error naming it and the accepted ones. */
export function servingTlsSettings(minVersion: string, cipherSuites: readonly string[]): Either<string, ServingTlsSettings> {
  let min: NodeTlsVersion | undefined;
  if (minVersion) {
    min = VERSIONS[minVersion as keyof typeof VERSIONS];
    if (!min) return left(`tlsMinVersion: unknown TLS version ${JSON.stringify(minVersion)} (expected one of ${Object.keys(VERSIONS).join(', ')})`);
  }
  if (cipherSuites.length === 0) return right({ minVersion: min });
  const tls12: string[] = [];
  for (const name of cipherSuites) {
    if (TLS13_SUITES.includes(name)) continue;
    const openssl = SUITES[name];
    if (!openssl) return left(`tlsCipherSuites: cipher suite ${name} not supported or doesn't exist (names are Go's, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)`);
    if (!tls12.includes(openssl)) tls12.push(openssl);
  }
  // TLS 1.3 suites always stay on, as in Go; with only 1.3 names listed, TLS 1.2 has no suite left.
  return right({ minVersion: min, ciphers: [...TLS13_SUITES, ...tls12].join(':') });
}
