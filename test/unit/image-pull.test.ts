// The pull orchestration with a runtime stand-in that echoes what it was sent in its errors, as a
// careless runtime or registry might: the credentials tried in order, and no error text carries them.
import { expect } from 'chai';
import type { AuthConfig, CriClient } from '../../src/adapters/cri/index.ts';
import { pullWithSecrets, releasePullCredentials } from '../../src/effects/cri/image-pull.ts';
import type { RuntimeEffectDeps } from '../../src/effects/cri/deps.ts';
import type { ContainerPlan } from '../../src/reducers/pods/plans.ts';
import { scrub } from '../../src/runtime/secret-values.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (auths: Record<string, object>) => ({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': JSON.stringify({ auths }) } });

function deps(secrets: Record<string, ReturnType<typeof secret>>, accept: string | undefined, tried: (AuthConfig | undefined)[]): RuntimeEffectDeps {
  const cri = {
    pullImage: async (_img: unknown, auth?: AuthConfig) => {
      tried.push(auth);
      if (accept !== undefined && auth?.password === accept) return 'sha256:ok';
      throw new Error(`401 Unauthorized for ${auth?.username}:${auth?.password} (Basic ${b64(`${auth?.username}:${auth?.password}`)})`);
    },
  } as unknown as CriClient;
  return {
    cri,
    clock: undefined as never,
    dns: async () => ({ host: { nameservers: [], searches: [], options: [] } }) as never,
    mkdirp: async () => undefined,
    rootDir: '/nonexistent',
    lookup: { configMap: async () => undefined, secret: async () => undefined, pullSecret: async (_ns, name) => secrets[name] },
  };
}

const plan = (pullSecrets: string[]) => ({ image: 'reg.io/team/app:1', pullSecrets } as unknown as ContainerPlan);

describe('pullWithSecrets', () => {
  afterEach(() => releasePullCredentials('pod-1'));

  it('tries each matching credential in order until one works; a missing secret is skipped', async () => {
    const tried: (AuthConfig | undefined)[] = [];
    const d = deps({ wrong: secret({ 'reg.io': { username: 'u', password: 'wrong-one' } }), right: secret({ 'reg.io/team': { auth: b64('u:right-one') } }) }, 'right-one', tried);
    expect(await pullWithSecrets(d, plan(['absent', 'wrong', 'right']), 'default', 'pod-1')).to.equal('sha256:ok');
    // the more specific registry key (reg.io/team) first, as upstream's keyring orders them
    expect(tried).to.deep.equal([{ username: 'u', password: 'right-one' }]);
  });

  it('a failed pull names the errors but never the credentials, and keeps them registered while the pod lives', async () => {
    const tried: (AuthConfig | undefined)[] = [];
    const d = deps({ a: secret({ 'reg.io': { username: 'u', password: 'first-secret' } }), b: secret({ 'reg.io': { auth: b64('v:second-secret') } }) }, undefined, tried);
    let msg = '';
    try {
      await pullWithSecrets(d, plan(['a', 'b', 'gone']), 'default', 'pod-1');
    } catch (e) {
      msg = (e as Error).message;
      expect((e as { reason?: string }).reason).to.equal('ErrImagePull');
    }
    expect(tried).to.have.length(2);
    expect(msg).to.match(/^\[401 Unauthorized for u:\[redacted\] \(Basic \[redacted\]\), 401 Unauthorized for v:\[redacted\] \(Basic \[redacted\]\)\]/);
    expect(msg).to.include('unable to retrieve some image pull secrets (gone)');
    for (const v of ['first-secret', 'second-secret', b64('u:first-secret'), b64('v:second-secret')]) expect(msg).to.not.include(v);
    expect(scrub('x first-secret y')).to.equal('x [redacted] y');
    releasePullCredentials('pod-1');
    expect(scrub('x first-secret y')).to.equal('x first-secret y');
  });

  it('without a matching credential pulls anonymously; without pull secrets reads nothing', async () => {
    const tried: (AuthConfig | undefined)[] = [];
    const d = deps({ other: secret({ 'elsewhere.io': { username: 'u', password: 'pw-elsewhere' } }) }, undefined, tried);
    await pullWithSecrets(d, plan(['other']), 'default', 'pod-1').catch(() => undefined);
    await pullWithSecrets(d, plan([]), 'default', 'pod-1').catch(() => undefined);
    expect(tried).to.deep.equal([undefined, undefined]);
  });
});
