// Reads for volumes: ConfigMaps, Secrets, and service-account tokens bound to a pod.
// These return contents to the caller (the volume effect); they must never be logged.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';
import { call, KubeApiError } from './errors.ts';

export async function getConfigMap(clients: KubeClients, namespace: string, name: string): Promise<V1ConfigMap> {
  return call(`get configmaps ${namespace}/${name}`, () => clients.core.readNamespacedConfigMap({ namespace, name }));
}

export async function getSecret(clients: KubeClients, namespace: string, name: string): Promise<V1Secret> {
  return call(`get secrets ${namespace}/${name}`, () => clients.core.readNamespacedSecret({ namespace, name }));
}

export interface TokenRequestParams {
  namespace: string;
  serviceAccountName: string;
  audiences: string[];
  expirationSeconds: number;
  /** The pod the token is bound to; NodeRestriction requires a pod bound to this node. */
  pod: { name: string; uid: string };
}

export interface IssuedToken {
  token: string;
  /** RFC 3339 */
  expirationTimestamp: string;
}

export async function requestServiceAccountToken(clients: KubeClients, p: TokenRequestParams): Promise<IssuedToken> {
  const op = `create serviceaccounts/token ${p.namespace}/${p.serviceAccountName}`;
  const res = await call(op, () =>
    clients.core.createNamespacedServiceAccountToken({
      namespace: p.namespace,
      name: p.serviceAccountName,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: p.audiences,
          expirationSeconds: p.expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: p.pod.name, uid: p.pod.uid },
        },
      },
    }),
  );
  const token = res.status?.token;
  const exp = res.status?.expirationTimestamp as unknown;
  if (!token || exp === undefined) throw new KubeApiError('Unknown', 201, 'BadBody', 'TokenRequest answer has no token', op);
  return { token, expirationTimestamp: exp instanceof Date ? exp.toISOString() : String(exp) };
}
