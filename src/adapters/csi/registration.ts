// The kubelet side of plugin registration (pluginregistration.v1, the protocol of
// node-driver-registrar): a plugin puts a socket into <root>/plugins_registry; the kubelet asks
// it GetInfo (type, name, endpoint, versions) and tells it NotifyRegistrationStatus.
// The service is described here as a protobuf JSON descriptor (four small messages; field names
// already in the loader's camelCase, as fromJSON does not convert them), so no
// generated or copied .proto file is needed.
import * as protoLoader from '@grpc/proto-loader';
import * as t from 'io-ts';
import { GrpcTransport } from '../cri/grpc.ts';
import { LOADER_OPTIONS } from '../cri/proto.ts';
import { EmptyResponse } from '../cri/codecs.ts';
import { CsiError } from './errors.ts';

const DESCRIPTOR = {
  nested: {
    pluginregistration: {
      nested: {
        InfoRequest: { fields: {} },
        PluginInfo: {
          fields: {
            type: { type: 'string', id: 1 },
            name: { type: 'string', id: 2 },
            endpoint: { type: 'string', id: 3 },
            supportedVersions: { rule: 'repeated', type: 'string', id: 4 },
          },
        },
        RegistrationStatus: { fields: { pluginRegistered: { type: 'bool', id: 1 }, error: { type: 'string', id: 2 } } },
        RegistrationStatusResponse: { fields: {} },
        Registration: {
          methods: {
            GetInfo: { requestType: 'InfoRequest', responseType: 'PluginInfo' },
            NotifyRegistrationStatus: { requestType: 'RegistrationStatus', responseType: 'RegistrationStatusResponse' },
          },
        },
      },
    },
  },
};

export const REGISTRATION_SERVICE = 'pluginregistration.Registration';

export const PluginInfo = t.type({ type: t.string, name: t.string, endpoint: t.string, supportedVersions: t.array(t.string) });
export type PluginInfo = t.TypeOf<typeof PluginInfo>;

let def: protoLoader.ServiceDefinition | undefined;
function service(): protoLoader.ServiceDefinition {
  def ??= protoLoader.fromJSON(DESCRIPTOR as Parameters<typeof protoLoader.fromJSON>[0], LOADER_OPTIONS)[REGISTRATION_SERVICE] as protoLoader.ServiceDefinition;
  return def;
}

export class RegistrationClient {
  private readonly transport: GrpcTransport;
  constructor(socketPath: string, private readonly timeoutMs = 10_000) {
    this.transport = new GrpcTransport(socketPath, (init) => new CsiError(init));
  }

  getInfo(): Promise<PluginInfo> {
    return this.transport.unary(service(), 'Registration', 'GetInfo', {}, this.timeoutMs, PluginInfo);
  }

  async notifyRegistrationStatus(registered: boolean, error = ''): Promise<void> {
    await this.transport.unary(service(), 'Registration', 'NotifyRegistrationStatus', { pluginRegistered: registered, error }, this.timeoutMs, EmptyResponse);
  }

  close(): void {
    this.transport.close();
  }
}
