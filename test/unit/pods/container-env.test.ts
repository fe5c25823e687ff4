import { expect } from 'chai';
import { only, podManifest, readyNode, refFor } from './scenario.ts';
import { serviceEnvFor, serviceLinkVariables, type ServiceLink } from '../../../src/model/service.ts';
import { finishEnv } from '../../../src/effects/cri/env.ts';
import type { ContainerPlan } from '../../../src/reducers/pods/plans.ts';

const kubernetes: ServiceLink = { namespace: 'default', name: 'kubernetes', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] };
const web: ServiceLink = { namespace: 'ns1', name: 'my-web', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] };
const headless: ServiceLink = { namespace: 'ns1', name: 'headless', clusterIP: 'None', ports: [{ port: 80 }] };
const other: ServiceLink = { namespace: 'ns2', name: 'other', clusterIP: '10.96.0.30', ports: [{ port: 8080 }] };

describe('container environment: service links (upstream pkg/kubelet/envvars)', () => {
  it('names the variables as upstream, Docker link variables included', () => {
    const vars = Object.fromEntries(serviceLinkVariables(web).map((v) => [v.name, v.value]));
    expect(vars).to.deep.equal({
      MY_WEB_SERVICE_HOST: '10.96.0.20', MY_WEB_SERVICE_PORT: '80', MY_WEB_SERVICE_PORT_HTTP: '80', MY_WEB_SERVICE_PORT_DNS_UDP: '53',
      MY_WEB_PORT: 'tcp://10.96.0.20:80',
      MY_WEB_PORT_80_TCP: 'tcp://10.96.0.20:80', MY_WEB_PORT_80_TCP_PROTO: 'tcp', MY_WEB_PORT_80_TCP_PORT: '80', MY_WEB_PORT_80_TCP_ADDR: '10.96.0.20',
      MY_WEB_PORT_53_UDP: 'udp://10.96.0.20:53', MY_WEB_PORT_53_UDP_PROTO: 'udp', MY_WEB_PORT_53_UDP_PORT: '53', MY_WEB_PORT_53_UDP_ADDR: '10.96.0.20',
    });
    expect(serviceLinkVariables({ ...web, clusterIP: 'fd00::20', ports: [{ port: 80 }] }).find((v) => v.name === 'MY_WEB_PORT')?.value).to.equal('tcp://[fd00::20]:80');
  });

  it('takes the pod namespace services when enabled, the kubernetes service always, never headless or other namespaces', () => {
    const names = (ns: string, on: boolean) => serviceEnvFor([kubernetes, web, headless, other], ns, on).map((v) => v.name);
    expect(names('ns1', true)).to.include.members(['KUBERNETES_SERVICE_HOST', 'MY_WEB_SERVICE_HOST']);
    expect(names('ns1', true).some((n) => n.startsWith('HEADLESS') || n.startsWith('OTHER'))).to.equal(false);
    expect(names('ns1', false).every((n) => n.startsWith('KUBERNETES_'))).to.equal(true);
    expect(names('ns1', false)).to.include('KUBERNETES_SERVICE_HOST');
  });

  it('the reducer keeps services from the log and puts their variables in the start decision of API pods', () => {
    const s = readyNode();
    s.observe('ServiceObserved', { service: kubernetes, resourceVersion: '5' }, undefined, 'apiserver');
    s.observe('ServiceObserved', { service: { ...web, namespace: 'default' }, resourceVersion: '6' }, undefined, 'apiserver');
    s.observe('ServiceObserved', { service: { ...other, namespace: 'default' }, resourceVersion: '7' }, undefined, 'apiserver');
    s.observe('ServiceRemoved', { namespace: 'default', name: 'other' }, undefined, 'apiserver');
    expect(Object.keys(s.state.pods.services ?? {})).to.deep.equal(['default/kubernetes', 'default/my-web']);
    const start = (uid: string, spec: Record<string, unknown>) => {
      const sb = only(s.observe('PodObserved', { pod: podManifest(uid, {}, spec), origin: 'api', resourceVersion: '8' }, refFor(uid), 'apiserver'), 'PodSandboxRequested');
      return (only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: `sb-${uid}`, ip: '10.88.0.7' }), 'ContainerStartRequested').data as { plan: ContainerPlan }).plan;
    };
    const on = start('u1', {});
    expect(on.serviceEnv?.map((v) => v.name)).to.include.members(['KUBERNETES_SERVICE_HOST', 'MY_WEB_SERVICE_HOST']);
    expect(on.serviceEnv?.some((v) => v.name.startsWith('OTHER'))).to.equal(false);
    const off = start('u2', { enableServiceLinks: false });
    expect(off.serviceEnv?.map((v) => v.name).every((n) => n.startsWith('KUBERNETES_'))).to.equal(true);
  });

  it('a hostNetwork pod sees the node IP as status.podIP, in env and in its status', () => {
    const s = readyNode();
    const m = podManifest('h1', {}, { hostNetwork: true, containers: [{ name: 'app', image: 'busybox:1', env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
    ] }] });
    const sb = only(s.observe('PodObserved', { pod: m, origin: 'api', resourceVersion: '2' }, refFor('h1'), 'apiserver'), 'PodSandboxRequested');
    const plan = (only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-h1' }), 'ContainerStartRequested').data as { plan: ContainerPlan }).plan;
    expect(plan.env).to.deep.equal([{ name: 'POD_IP', value: '10.0.0.5' }, { name: 'POD_IPS', value: '10.0.0.5' }]);
    expect(s.pod('h1').lastStatus).to.include({ podIP: '10.0.0.5' });
  });

  it('the effect: env and envFrom override service links, which $(VAR) can reference; envFrom prefixes and optional sources', async () => {
    const plan = {
      env: [{ name: 'URL', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(p-data-1)' }, { name: 'MY_WEB_SERVICE_PORT', value: 'mine' }],
      envFrom: [{ configMap: 'cm', optional: false }, { prefix: 'p-', configMap: 'cm', optional: false }, { secret: 'absent', optional: true }, { prefix: 'S_', secret: 'sec', optional: false }],
      serviceEnv: [{ name: 'KUBERNETES_SERVICE_HOST', value: '10.96.0.1' }, { name: 'KUBERNETES_SERVICE_PORT', value: '443' }, { name: 'MY_WEB_SERVICE_PORT', value: '80' }, { name: 'data-1', value: 'from-service' }],
    } as unknown as ContainerPlan;
    const vars = await finishEnv(plan, 'ns1', {
      lookup: {
        configMap: async (_ns: string, name: string) => (name === 'cm' ? { 'data-1': 'value-1', 'data-2': 'value-2' } : undefined),
        secret: async (_ns: string, name: string) => (name === 'sec' ? { token: 't0k' } : undefined),
      },
    } as never);
    expect(Object.fromEntries(vars)).to.deep.equal({
      'data-1': 'value-1', 'data-2': 'value-2', 'p-data-1': 'value-1', 'p-data-2': 'value-2', S_token: 't0k',
      URL: 'https://10.96.0.1:443/value-1', MY_WEB_SERVICE_PORT: 'mine', KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443',
    });
  });
});
