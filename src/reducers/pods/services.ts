// Services the API server reported, kept for the service-link environment variables. A change
// restarts nothing (as upstream: the variables are not part of the container's hash); containers
// started later see it.
import { serviceKey, ServiceObserved, ServiceRemoved } from '../../model/service.ts';
import type { PodsState } from './state.ts';

export function onServiceChanged(s: PodsState, data: unknown): PodsState {
  if (ServiceObserved.is(data)) return { ...s, services: { ...s.services, [serviceKey(data.service)]: data.service } };
  if (ServiceRemoved.is(data)) {
    const { [serviceKey(data)]: _gone, ...rest } = s.services ?? {};
    return { ...s, services: rest };
  }
  return s;
}
