// The probe handlers the prober runs (src/streams/prober.ts): exec through CRI, httpGet, tcpSocket
// and grpc from the node to the pod.
import type { CriClient } from '../cri/index.ts';
import { execProbe } from './exec.ts';
import { grpcHealthProbe } from './grpc.ts';
import { httpGetProbe } from './http.ts';
import { tcpSocketProbe } from './tcp.ts';
import type { ProbeHandlers } from './types.ts';

export * from './types.ts';
export { execProbe } from './exec.ts';
export { grpcHealthProbe, grpcProbe, HEALTH_PROTO } from './grpc.ts';
export { httpGetProbe, httpProbe, probeHeaders, probeUrl, PROBE_USER_AGENT } from './http.ts';
export { tcpProbe, tcpSocketProbe } from './tcp.ts';

export function probeHandlers(cri: Pick<CriClient, 'execSync'>): ProbeHandlers {
  return { exec: execProbe(cri), httpGet: httpGetProbe(), tcpSocket: tcpSocketProbe(), grpc: grpcHealthProbe() };
}
