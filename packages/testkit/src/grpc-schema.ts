import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/*
 * The test schema (`pool.test.TestService` and the standard health service), its message types and
 * the typed client constructors `loadTestService()` returns. The server is in `grpc.ts`.
 */

/** protobuf.js JSON for a message with these fields (name -> [type, field number]). */
function message(fields: Record<string, readonly [type: string, id: number]>): { fields: Record<string, { type: string; id: number }> } {
  return { fields: Object.fromEntries(Object.entries(fields).map(([name, [type, id]]) => [name, { type, id }])) };
}

/*
 * The schema lives here as protobuf.js JSON (what `protoLoader.fromJSON` reads), so it needs no
 * .proto file on disk and resolves the same from src and dist. The equivalent .proto:
 *
 *   syntax = "proto3";
 *   package pool.test;
 *   service TestService {
 *     rpc Unary (EchoRequest) returns (EchoReply);
 *     rpc ServerStream (StreamRequest) returns (stream EchoReply);
 *     rpc ClientStream (stream EchoRequest) returns (EchoReply);
 *     rpc BidiStream (stream EchoRequest) returns (stream EchoReply);
 *   }
 *   message EchoRequest { string message = 1; uint32 delay_ms = 2; int32 fail_code = 3; }
 *   message StreamRequest { string message = 1; uint32 count = 2; uint32 interval_ms = 3; int32 fail_code = 4; }
 *   message EchoReply { string message = 1; string peer = 2; uint32 index = 3; string server_id = 4; }
 *
 *   package grpc.health.v1;   // the standard health service
 *   message HealthCheckRequest { string service = 1; }
 *   message HealthCheckResponse {
 *     enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
 *     ServingStatus status = 1;
 *   }
 *   service Health {
 *     rpc Check (HealthCheckRequest) returns (HealthCheckResponse);
 *     rpc Watch (HealthCheckRequest) returns (stream HealthCheckResponse);
 *   }
 */
export const testProtoJson = {
  nested: {
    pool: {
      nested: {
        test: {
          nested: {
            TestService: {
              methods: {
                Unary: { requestType: 'EchoRequest', responseType: 'EchoReply' },
                ServerStream: { requestType: 'StreamRequest', responseType: 'EchoReply', responseStream: true },
                ClientStream: { requestType: 'EchoRequest', responseType: 'EchoReply', requestStream: true },
                BidiStream: {
                  requestType: 'EchoRequest',
                  responseType: 'EchoReply',
                  requestStream: true,
                  responseStream: true,
                },
              },
            },
            EchoRequest: message({ message: ['string', 1], delayMs: ['uint32', 2], failCode: ['int32', 3] }),
            StreamRequest: message({ message: ['string', 1], count: ['uint32', 2], intervalMs: ['uint32', 3], failCode: ['int32', 4] }),
            EchoReply: message({ message: ['string', 1], peer: ['string', 2], index: ['uint32', 3], serverId: ['string', 4] }),
          },
        },
      },
    },
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                Health: {
                  methods: {
                    Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
                    Watch: {
                      requestType: 'HealthCheckRequest',
                      responseType: 'HealthCheckResponse',
                      responseStream: true,
                    },
                  },
                },
                HealthCheckRequest: message({ service: ['string', 1] }),
                HealthCheckResponse: {
                  ...message({ status: ['ServingStatus', 1] }),
                  nested: {
                    ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

export interface EchoRequest {
  message?: string;
  /** The server waits this long before answering (cancellation cuts the wait). */
  delayMs?: number;
  /** When non-zero the server answers with this gRPC status code instead of a reply. */
  failCode?: number;
}

export interface StreamRequest {
  message?: string;
  /** Replies to send. */
  count?: number;
  /** Gap between replies. */
  intervalMs?: number;
  /** When non-zero the stream ends with this status code after `count` replies. */
  failCode?: number;
}

export interface EchoReply {
  message: string;
  /** The client's address as the server saw it: one value per HTTP/2 connection. */
  peer: string;
  index: number;
  serverId: string;
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

type UnaryCallback<R> = (error: grpc.ServiceError | null, response?: R) => void;

/** The client `loadTestService().TestService` builds, typed. */
export interface TestServiceClient extends grpc.Client {
  Unary(request: EchoRequest, callback: UnaryCallback<EchoReply>): grpc.ClientUnaryCall;
  Unary(request: EchoRequest, metadata: grpc.Metadata, callback: UnaryCallback<EchoReply>): grpc.ClientUnaryCall;
  Unary(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: UnaryCallback<EchoReply>,
  ): grpc.ClientUnaryCall;
  ServerStream(request: StreamRequest, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<EchoReply>;
  ClientStream(callback: UnaryCallback<EchoReply>): grpc.ClientWritableStream<EchoRequest>;
  ClientStream(
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: UnaryCallback<EchoReply>,
  ): grpc.ClientWritableStream<EchoRequest>;
  BidiStream(metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

export interface HealthClient extends grpc.Client {
  Check(
    request: { service?: string },
    callback: UnaryCallback<{ status: ServingStatus }>,
  ): grpc.ClientUnaryCall;
}

/** A client constructor with its service definition, the shape `makeClientConstructor` returns. */
export interface ClientConstructor<T extends grpc.Client> {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions): T;
  service: grpc.ServiceDefinition;
  serviceName: string;
}

export interface TestServices {
  packageDefinition: protoLoader.PackageDefinition;
  TestService: ClientConstructor<TestServiceClient>;
  Health: ClientConstructor<HealthClient>;
}

let loaded: TestServices | undefined;

/** Loads the test schema (once per process) and returns its client constructors. */
export function loadTestService(): TestServices {
  if (loaded) return loaded;
  const packageDefinition = protoLoader.fromJSON(testProtoJson as unknown as Parameters<typeof protoLoader.fromJSON>[0], {
    defaults: true,
    enums: String,
  });
  const root = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    pool: { test: { TestService: ClientConstructor<TestServiceClient> } };
    grpc: { health: { v1: { Health: ClientConstructor<HealthClient> } } };
  };
  loaded = {
    packageDefinition,
    TestService: root.pool.test.TestService,
    Health: root.grpc.health.v1.Health,
  };
  return loaded;
}
