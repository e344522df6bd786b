import net from 'node:net';

/**
 * Why grpc-js cannot use `target`, or undefined when it can. grpc-js accepts `host[:port]`,
 * `[ipv6][:port]`, and the `dns:`, `ipv4:`, `ipv6:`, `unix:` and `unix-abstract:` schemes; anything
 * else (`http://...`, a port past 65535) only fails later, on every connect, as TRANSIENT_FAILURE.
 */
export function targetProblem(target: string): string | undefined {
  if (/\s/.test(target)) return 'must not contain spaces';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
  if (scheme === 'unix' || scheme === 'unix-abstract') {
    return target.length > scheme.length + 1 ? undefined : 'must name a socket path after unix:';
  }
  if (scheme === 'ipv4' || scheme === 'ipv6') {
    const addresses = target.slice(scheme.length + 1).split(',');
    for (const address of addresses) {
      const problem = hostPortProblem(address, scheme === 'ipv4' ? 4 : 6);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (scheme === 'dns') {
    // dns:name:port, dns:///name:port or dns://authority/name:port
    const rest = target.slice(4);
    if (!rest.startsWith('//')) return hostPortProblem(rest, 0);
    const slash = rest.indexOf('/', 2);
    if (slash === -1) return 'must be dns:///host:port (the authority part ends with a slash)';
    return hostPortProblem(rest.slice(slash + 1), 0);
  }
  // "localhost:50051" looks like scheme "localhost" to a URI parser: grpc-js treats an unknown
  // scheme as part of a host:port, so only a scheme followed by "//" is surely a URL.
  // xds: is left to @grpc/grpc-js-xds, when the application registers it.
  if (scheme === 'xds') return undefined;
  if (scheme !== undefined && target.slice(scheme.length + 1).startsWith('//')) {
    return `uses the scheme ${scheme}: which grpc-js does not know; give host:port (TLS comes from credentials)`;
  }
  return hostPortProblem(target, 0);
}

function hostPortProblem(address: string, family: 0 | 4 | 6): string | undefined {
  let host = address;
  let port: string | undefined;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end === -1) return 'has an unclosed [ in its IPv6 address';
    host = address.slice(1, end);
    const after = address.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return 'must be [ipv6]:port';
      port = after.slice(1);
    }
  } else {
    const colons = address.split(':').length - 1;
    if (colons === 1) [host, port] = address.split(':') as [string, string];
    else if (colons > 1 && !net.isIPv6(address)) return 'must be host:port (put an IPv6 address in brackets)';
  }
  if (host === '') return 'must name a host';
  if (family === 4 && !net.isIPv4(host)) return `has ${host}, which is not an IPv4 address`;
  if (family === 6 && !net.isIPv6(host)) return `has ${host}, which is not an IPv6 address`;
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    return `has port ${port === '' ? '(empty)' : port}; a port is an integer from 1 to 65535`;
  }
  return undefined;
}
