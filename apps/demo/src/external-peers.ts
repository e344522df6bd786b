import { readFileSync } from 'node:fs';
import type { ExternalPeers, PoolName } from './config.js';
import type { PeerNode, Peers, PgEndpoint, SshEndpoint, TcpEndpoint } from './peers.js';

/*
 * Servers from the config: the pools connect to them as given. They get no stop/start buttons
 * (the demo does not own them), and their credentials go to the scrubber's list.
 */

function externalNode(pool: PoolName, id: string, endpoint: string): PeerNode {
  return { pool, id, endpoint, embedded: false, isRunning: () => true, actions: [] };
}

export function externalTcp(list: NonNullable<ExternalPeers['tcp']>, nodes: PeerNode[]): TcpEndpoint[] {
  for (const node of list) nodes.push(externalNode('tcp', node.id, `${node.host}:${node.port}`));
  return list.map((node) => ({ ...node }));
}

export function externalHttp2(http2: NonNullable<ExternalPeers['http2']>, nodes: PeerNode[]): Peers['http2'] {
  for (const node of http2.nodes) nodes.push(externalNode('http2', node.id, originWithoutCredentials(node.origin)));
  return { nodes: http2.nodes.map((node) => ({ ...node })), path: http2.path };
}

export function externalGrpc(grpc: NonNullable<ExternalPeers['grpc']>, nodes: PeerNode[]): Peers['grpc'] {
  for (const node of grpc.nodes) nodes.push(externalNode('grpc', node.id, node.target));
  return { nodes: grpc.nodes.map((node) => ({ ...node })), tls: grpc.tls };
}

export function externalSsh(ssh: NonNullable<ExternalPeers['ssh']>, nodes: PeerNode[], secrets: string[]): Peers['ssh'] {
  const endpoints = ssh.nodes.map((node) => {
    nodes.push(externalNode('ssh', node.id, `${node.host}:${node.port}`));
    const endpoint: SshEndpoint = { id: node.id, host: node.host, port: node.port, username: node.username, hostKeys: [node.hostKey] };
    if (node.password !== undefined) {
      endpoint.password = node.password;
      secrets.push(node.password);
    }
    if (node.privateKeyFile !== undefined) {
      endpoint.privateKey = readFileSync(node.privateKeyFile, 'utf8');
      secrets.push(endpoint.privateKey);
    }
    return endpoint;
  });
  return { nodes: endpoints, command: ssh.command };
}

export function externalPg(list: NonNullable<ExternalPeers['pg']>, nodes: PeerNode[], secrets: string[]): PgEndpoint[] {
  return list.map((node) => {
    secrets.push(node.connectionString);
    let endpoint = 'postgres';
    try {
      const url = new URL(node.connectionString);
      if (url.password !== '') secrets.push(decodeURIComponent(url.password));
      endpoint = `${url.hostname}:${url.port || '5432'}${url.pathname}`;
    } catch {
      // pg validates the string when the pool is made; the endpoint label just stays generic.
    }
    nodes.push(externalNode('pg', node.id, endpoint));
    return { id: node.id, connectionString: node.connectionString };
  });
}

function originWithoutCredentials(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin.replace(/\/\/[^@/]*@/, '//');
  }
}
