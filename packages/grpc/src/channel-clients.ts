import * as grpc from '@grpc/grpc-js';

/** A constructor of a generated client: what `makeClientConstructor` / `loadPackageDefinition` return. */
export interface GrpcClientConstructor<T extends grpc.Client = grpc.Client> {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): T;
  service: grpc.ServiceDefinition;
}

/**
 * Clients bound to pooled channels (`channelOverride`), made once per channel and kept as long as
 * the channel lives: a plain `grpc.Client` for the pool's own calls, and generated ones on request.
 */
export class ChannelClients {
  private readonly baseClients = new WeakMap<grpc.Channel, grpc.Client>();
  private readonly generatedClients = new WeakMap<grpc.Channel, Map<GrpcClientConstructor, grpc.Client>>();

  constructor(private readonly credentials: grpc.ChannelCredentials) {}

  /** The plain client over `channel` (`makeUnaryRequest` and friends). */
  get(channel: grpc.Channel): grpc.Client {
    let client = this.baseClients.get(channel);
    if (!client) {
      client = new grpc.Client(channel.getTarget(), this.credentials, { channelOverride: channel });
      this.baseClients.set(channel, client);
    }
    return client;
  }

  /** A `Ctor` client over `channel`, made once per channel. */
  generated<T extends grpc.Client>(channel: grpc.Channel, Ctor: GrpcClientConstructor<T>): T {
    let byConstructor = this.generatedClients.get(channel);
    if (!byConstructor) {
      byConstructor = new Map();
      this.generatedClients.set(channel, byConstructor);
    }
    let client = byConstructor.get(Ctor);
    if (!client) {
      client = new Ctor(channel.getTarget(), this.credentials, { channelOverride: channel });
      byConstructor.set(Ctor, client);
    }
    return client as T;
  }

  forget(channel: grpc.Channel): void {
    this.baseClients.delete(channel);
    this.generatedClients.delete(channel);
  }
}
