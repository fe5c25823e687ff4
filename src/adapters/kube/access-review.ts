// Delegated authentication and authorization for the kubelet API, as upstream: a bearer token is
// checked with a TokenReview, a request with a SubjectAccessReview (resource nodes/<subresource>).
import { AuthenticationV1Api, AuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface AccessRequest {
  verb: string;
  subresource: string;
  nodeName: string;
}

/** The user a token belongs to, or undefined when the API server says it is not authenticated. */
export async function reviewToken(clients: KubeClients, token: string): Promise<UserInfo | undefined> {
  const api = clients.kubeConfig.makeApiClient(AuthenticationV1Api);
  const r = await api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
  const u = r.status?.user;
  if (!r.status?.authenticated || !u?.username) return undefined;
  return { name: u.username, groups: u.groups ?? [], uid: u.uid, extra: u.extra };
}

/** Whether the API server allows `user` to `verb` nodes/<subresource> of this node; and why not. */
export async function reviewAccess(clients: KubeClients, user: UserInfo, req: AccessRequest): Promise<{ allowed: boolean; reason?: string }> {
  const api = clients.kubeConfig.makeApiClient(AuthorizationV1Api);
  const r = await api.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: user.name, groups: user.groups, uid: user.uid, extra: user.extra,
        resourceAttributes: { verb: req.verb, resource: 'nodes', subresource: req.subresource, name: req.nodeName, group: '', version: 'v1' },
      },
    },
  });
  return { allowed: r.status?.allowed === true, reason: r.status?.reason };
}
